//! The text policy language: lexer, parser, lowering, printer and formatter.
//!
//! Asserts no panic, and for every input that parses the round trip of tests/text.rs: its
//! printed text parses to the same AST, converting that to JSON and back gives the same AST
//! and the same text, and formatting the printed text changes nothing. The formatter on the
//! input itself succeeds exactly when the input parses.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::text_policy::check(data));
