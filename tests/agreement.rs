//! Two engines, one truth: over generated policy sets and requests, the compiled engine, its
//! batch path and the reference evaluator give the same decision, the same determining
//! statements, missing keys, blocking layer and errors.
//!
//! `cargo test` runs 20,000 requests (2,000 random policy sets x 10 requests). Set
//! `IAMC_AGREEMENT_CASES=10000000` for a long run; `IAMC_AGREEMENT_SEED` starts elsewhere.

#![allow(clippy::unwrap_used)]

mod common;

use common::gen;
use iamc::compile::Engine;
use iamc::eval::reference;
use iamc::semantics::Semantics;

#[test]
fn compiled_batch_and_reference_agree() {
    let total: u64 = std::env::var("IAMC_AGREEMENT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let first: u64 = std::env::var("IAMC_AGREEMENT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let per_set = 10u64;
    let sem = Semantics::default();
    let mut outcomes = std::collections::BTreeMap::new();
    for seed in first..first + total.div_ceil(per_set) {
        let (inputs, reqs) = gen::case(seed, per_set as usize);
        let engine = Engine::from_inputs(&inputs, sem.clone());
        let batch = engine.authorize_batch(&reqs);
        for (i, r) in reqs.iter().enumerate() {
            let want = reference::evaluate(&inputs, r, &sem);
            let got = engine.authorize(r);
            assert_eq!(
                got, want,
                "compiled != reference for seed {seed}, request {i}: {r:?}"
            );
            assert_eq!(
                batch.get(i),
                Some(&want),
                "batch != reference for seed {seed}, request {i}"
            );
            *outcomes.entry(want.decision).or_insert(0u64) += 1;
        }
    }
    // The generator must exercise every outcome, or the test proves little.
    assert!(outcomes.len() == 3, "outcomes seen: {outcomes:?}");
    eprintln!("agreement: {outcomes:?}");
}

#[test]
fn store_engine_agrees_with_the_reference_on_the_example_store() {
    use iamc::request::{Caller, Request};
    use std::sync::Arc;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kinesis");
    let store = Arc::new(iamc::store::Store::load(&dir.join("store.json")).unwrap());
    let engine = Engine::from_store(Arc::clone(&store), Semantics::default());
    let text = std::fs::read_to_string(dir.join("requests.jsonl")).unwrap();
    let mut reqs: Vec<Request> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<iamc::request::RequestJson>(l)
                .unwrap()
                .to_request()
                .unwrap()
        })
        .collect();
    // Every example caller against every example action and resource.
    let callers: Vec<Caller> = reqs.iter().map(|r| r.caller.clone()).collect();
    let pairs: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.action.clone(), r.resource.clone()))
        .collect();
    for c in &callers {
        for (a, res) in &pairs {
            reqs.push(Request::new(c.clone(), a.clone(), res.clone()));
        }
    }
    let mut prepared = Vec::new();
    for mut r in reqs {
        store.prepare(&mut r);
        prepared.push(r);
    }
    let batch = engine.authorize_batch(&prepared);
    for (i, r) in prepared.iter().enumerate() {
        let want = reference::evaluate(&store.inputs_for(r), r, &Semantics::default());
        assert_eq!(engine.authorize(r), want, "request {i}: {r:?}");
        assert_eq!(batch[i], want, "batch, request {i}");
    }
    assert!(prepared.len() > 400);
}
