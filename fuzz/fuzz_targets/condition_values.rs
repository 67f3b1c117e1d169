//! The condition value parsers: numbers, dates, IP addresses and CIDR blocks, booleans, base64,
//! ARNs and ARN patterns, callers, operators and policy-variable templates.
//!
//! Input: one byte choosing the parser, then the text. Asserts no panic and each parser's
//! round trip where it has one: a date printed and read again is the same second (years 1 to
//! 9999); a CIDR block printed reads back and contains its own address; base64 decoded and
//! encoded again decodes to the same bytes; a parsed ARN's fields are pieces of the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::condition_values::check(data));
