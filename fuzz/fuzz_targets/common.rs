//! Helpers shared by the targets.
#![allow(dead_code)]

use iamc::ast::{Loc, Policy};

/// The AST without what depends on how the source was written: positions, the source's size,
/// and whether `Statement` was a single object (as tests/text.rs compares round trips).
pub fn strip(p: &Policy) -> Policy {
    let mut p = p.clone();
    p.source_bytes = 0;
    p.single_statement = false;
    for st in &mut p.statements {
        st.loc = Loc::default();
        for c in &mut st.conditions {
            c.loc = Loc::default();
        }
    }
    p
}

/// Splits off the first line (without its `\n`).
pub fn first_line(text: &str) -> (&str, &str) {
    match text.split_once('\n') {
        Some((a, b)) => (a, b),
        None => (text, ""),
    }
}
