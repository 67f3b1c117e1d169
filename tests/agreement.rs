//! Two engines, one truth: over generated policy sets and requests, the compiled engine, its
//! batch path and the reference evaluator give the same decision, the same determining
//! statements, missing keys, blocking layer and errors.
//!
//! `cargo test` runs 20,000 requests (2,000 random policy sets x 10 requests). Set
//! `IAMC_AGREEMENT_CASES=10000000` for a long run; `IAMC_AGREEMENT_SEED` starts elsewhere.

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
