//! The decision server's request bodies: `POST /v1/authorize` (one `RequestJson`) and
//! `POST /v1/authorize/batch` (`{"requests": [...]}` or an array), read as the server reads
//! them, then built (`to_request`), completed from the example store and decided.
//!
//! Input: one byte choosing the route (even: authorize, odd: batch), then the body. Asserts no
//! panic; a `RequestJson` serializes and reads back to the same JSON; the full decision and the
//! outcome-only path agree; the decision JSON names the decision.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::server_bodies::check(data));
