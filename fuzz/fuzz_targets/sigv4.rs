//! SigV4 verification: the `Authorization` header, `X-Amz-Date`, the scope, the security token,
//! the signed headers and the query (presigned URLs), up to recomputing the signature.
//!
//! Input, as text: `METHOD path?query` on the first line, then `name: value` header lines, then
//! an empty line and the body. The clock is set to the request's own `X-Amz-Date`. Asserts no
//! panic; `X-Amz-Date` parsing and formatting round-trip; a request without `Authorization`
//! is anonymous unless it is presigned.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::sigv4::check(data));
