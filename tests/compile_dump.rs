//! Snapshot of the compiled example store (`iamc compile --dump`): the indexes are deterministic,
//! and a change in what the compiler builds shows up here (`tests/snapshots`, insta: review and
//! accept a new dump with `cargo insta review`, or `INSTA_UPDATE=always`).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use iamc::semantics::Semantics;
use iamc::store::Store;
use iamc::Authorizer;

#[test]
fn example_store_dump_matches_the_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let store = Arc::new(Store::load(&root.join("examples/kinesis/store.json")).unwrap());
    let engine = Authorizer::new(store, Semantics::default()).unwrap();
    let dump = engine.dump();
    // Deterministic: two builds dump the same text.
    let again = Authorizer::new(
        Arc::new(Store::load(&root.join("examples/kinesis/store.json")).unwrap()),
        Semantics::default(),
    )
    .unwrap()
    .dump();
    assert_eq!(dump, again);
    insta::assert_snapshot!("kinesis-store-dump", dump);
    let stats = engine_stats(&root.join("examples/kinesis/store.json"));
    assert_eq!(stats.statements, 20);
}

fn engine_stats(p: &Path) -> iamc::compile::EngineStats {
    Authorizer::new(Arc::new(Store::load(p).unwrap()), Semantics::default())
        .unwrap()
        .stats()
}
