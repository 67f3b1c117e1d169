//! The gateway's credentials file reader.
//!
//! Asserts no panic; no secret in a credential's `Debug` output (checked by the facade); and an
//! accepted file's warnings are warnings, a refused file has an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::credentials::check(data));
