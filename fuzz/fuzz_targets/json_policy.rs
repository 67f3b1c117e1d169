//! The IAM JSON policy reader and the validator (`iamc check`'s path).
//!
//! Input: one byte choosing the policy type, then the document's text. Asserts no panic; that
//! the validator reports an error exactly when the document does not parse; and that a
//! document that parses round-trips through its JSON and text forms to the same AST.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::json_policy::check(data));
