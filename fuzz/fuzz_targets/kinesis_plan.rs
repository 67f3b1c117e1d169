//! The gateway's mapping of a Kinesis request (operation, JSON body) to actions and resources.
//!
//! Input: the operation on the first line (with an optional `@account` caller suffix), the
//! body after it. Asserts no panic; every check's action is `kinesis:` + the operation; every
//! checked resource is `*` or an ARN in the `aws` partition.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::kinesis_plan::check(data));
