//! Compiled engine == reference evaluator, on structure-aware policy sets and requests.
//!
//! The fuzzer's bytes steer the agreement tests' generator (fuzz_targets/gen.rs, a copy of
//! tests/common/gen.rs reading its choices from `arbitrary::Unstructured`): identity policies,
//! a boundary, a session policy, SCP levels, resource policies and RCPs, and up to 8 requests.
//! Asserts, per request, the whole `Decision` of `Engine::authorize` equals
//! `reference::evaluate`, the outcome-only `decide_with` equals its decision, the batch equals
//! one by one, and `reference::outcome` agrees.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::differential::check(data));
