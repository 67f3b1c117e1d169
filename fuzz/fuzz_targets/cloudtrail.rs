//! See `checks::cloudtrail` (fuzz/fuzz_targets/checks.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::cloudtrail::check(data));
