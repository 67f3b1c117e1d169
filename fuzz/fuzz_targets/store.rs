//! The store loader from a string (`Store::from_str`), then the authorizer built on it.
//!
//! Asserts no panic; a store that loads compiles (or fails with a `BuildError`, not a panic);
//! for each of its first users and roles, a request decides the same through `authorize` and
//! the outcome-only `decide`, and the same as the reference evaluator over the store's inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::store::check(data));
