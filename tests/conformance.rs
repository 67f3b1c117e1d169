//! Runs every decision case of the shared conformance corpus and of the project's own corpus
//! (tests/corpus) through the reference evaluator, and fails on any mismatch.

mod common;

use iamc::eval::reference;
use iamc::semantics::Semantics;

#[test]
fn every_decision_case_passes_the_reference_evaluator() {
    let cases = common::all_decision_cases();
    assert!(
        cases.len() >= 126,
        "expected the whole corpus, found {}",
        cases.len()
    );
    let sem = Semantics::default();
    let mut failures = Vec::new();
    for c in &cases {
        let d = reference::evaluate(&c.inputs, &c.request, &sem);
        if d.decision != c.expect {
            failures.push(format!(
                "{} {}: expected {}, got {} ({}) blocked_by={:?} errors={:?}",
                c.file, c.id, c.expect, d.decision, c.note, d.blocked_by, d.errors
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("{} decision cases passed", cases.len());
}
