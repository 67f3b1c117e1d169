//! Runs every decision case of the shared conformance corpus and of the project's own corpus
//! (tests/corpus) through every engine path, and fails on any mismatch:
//!
//! - the reference evaluator, full and outcome-only;
//! - the compiled engine over the case's inputs, one request at a time and batched, full and
//!   outcome-only;
//! - the [`Authorizer`] (the store-backed engine) over a store built from the case (for callers
//!   a store can describe: users, roles and role sessions), one at a time and batched, full and
//!   outcome-only.

mod common;

use std::sync::Arc;

use iamc::compile::{Engine, Scratch};
use iamc::eval::reference;
use iamc::semantics::Semantics;
use iamc::store::Store;
use iamc::{Authorizer, Outcome};

#[test]
fn every_decision_case_passes_every_engine_path() {
    let cases = common::all_decision_cases();
    assert!(
        cases.len() >= 126,
        "expected the whole corpus, found {}",
        cases.len()
    );
    let sem = Semantics::default();
    let mut failures = Vec::new();
    let mut through_store = 0;
    let mut not_in_a_store = Vec::new();
    for c in &cases {
        let mut check = |path: &str, got: iamc::eval::Outcome, detail: String| {
            if got != c.expect {
                failures.push(format!(
                    "{} {} [{path}]: expected {}, got {got} ({}) {detail}",
                    c.file, c.id, c.expect, c.note
                ));
            }
        };
        let d = reference::evaluate(&c.inputs, &c.request, &sem);
        check(
            "reference",
            d.decision,
            format!("blocked_by={:?} errors={:?}", d.blocked_by, d.errors),
        );
        let engine = match Engine::from_inputs(&c.inputs, sem.clone()) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{} {} [compiled]: not built: {e}", c.file, c.id));
                continue;
            }
        };
        let compiled = engine.authorize(&c.request);
        check("compiled", compiled.decision, String::new());
        let batch = engine.authorize_batch(std::slice::from_ref(&c.request));
        check("batch", batch[0].decision, String::new());
        check(
            "reference outcome",
            reference::outcome(&c.inputs, &c.request, &sem),
            String::new(),
        );
        check(
            "compiled outcome",
            engine.decide_with(&mut Scratch::default(), &c.request),
            String::new(),
        );

        let Some(json) = common::case_store(c) else {
            not_in_a_store.push(format!("{} {}", c.file, c.id));
            continue;
        };
        let store = match Store::from_str(&json.to_string(), None) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                failures.push(format!("{} {} [store]: does not load: {e:?}", c.file, c.id));
                continue;
            }
        };
        let auth = match Authorizer::new(store, sem.clone()) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{} {} [store]: not built: {e}", c.file, c.id));
                continue;
            }
        };
        let got = auth.authorize(&c.request);
        check(
            "store",
            got.decision,
            format!("blocked_by={:?}", got.blocked_by),
        );
        let batch = auth.authorize_batch(std::slice::from_ref(&c.request));
        check("store batch", batch[0].decision, String::new());
        check("store outcome", auth.decide(&c.request), String::new());
        let mut fast = [Outcome::ImplicitDeny];
        auth.decide_batch(std::slice::from_ref(&c.request), &mut fast);
        check("store outcome batch", fast[0], String::new());
        through_store += 1;
    }
    assert!(
        failures.is_empty(),
        "{} failures over {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Every case whose caller a store can describe went through it: the corpus' callers are
    // mostly users and role sessions.
    assert!(
        through_store * 10 >= cases.len() * 9,
        "only {through_store} of {} cases went through a store; not: {not_in_a_store:?}",
        cases.len()
    );
    eprintln!(
        "{} decision cases passed the reference, compiled and batch paths; {through_store} the \
         store-backed engine too (not describable as a store: {not_in_a_store:?})",
        cases.len()
    );
}
