//! The generated organization workload (`iamc bench --workload org`, issue 14) at its small
//! size: written by the CLI, it passes `iamc check` without errors, `iamc authorize` decides
//! every request, and the library's `Authorizer` and the reference evaluator agree on them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use assert_cmd::Command;
use iamc::eval::reference;
use iamc::request::RequestJson;
use iamc::{Authorizer, Outcome, Semantics, Store};

fn iamc() -> Command {
    Command::cargo_bin("iamc").unwrap()
}

#[test]
fn the_small_organization_checks_authorizes_and_agrees() {
    let dir = std::env::temp_dir().join(format!("iamc-org-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store_dir = dir.join("store");
    let requests = dir.join("requests.jsonl");
    let out = iamc()
        .args([
            "bench",
            "--workload",
            "org",
            "--accounts",
            "3",
            "--principals",
            "40",
        ])
        .args([
            "--streams",
            "60",
            "--count",
            "300",
            "--write-only",
            "--write-store",
        ])
        .arg(&store_dir)
        .arg("--write-requests")
        .arg(&requests)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        said.contains("3 accounts") && said.contains("300 requests"),
        "{said}"
    );

    // `iamc check` finds no error (warnings and suggestions are allowed).
    let check = iamc().arg("check").arg(&store_dir).assert().success();
    let summary = String::from_utf8_lossy(&check.get_output().stdout).to_string();
    assert!(summary.contains("0 errors"), "{summary}");

    // `iamc authorize` decides every line.
    let auth = iamc()
        .args(["authorize", "--format", "json", "--store"])
        .arg(&store_dir)
        .arg("--requests")
        .arg(&requests)
        .assert()
        .success();
    let lines = String::from_utf8_lossy(&auth.get_output().stdout)
        .lines()
        .count();
    assert_eq!(lines, 300);

    // The library: the Authorizer and the reference evaluator give the same answers, and the
    // mix holds every outcome.
    let store = Store::load(&store_dir).expect("the generated store loads");
    let authorizer = Authorizer::new(Arc::new(store), Semantics::default()).unwrap();
    let text = std::fs::read_to_string(&requests).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines() {
        let r = serde_json::from_str::<RequestJson>(line)
            .unwrap()
            .to_request()
            .unwrap();
        let decided = authorizer.authorize(&r).decision;
        let prepared = authorizer.prepare(r);
        let inputs = authorizer.store().inputs_for(&prepared);
        let expected = reference::evaluate(&inputs, &prepared, authorizer.semantics()).decision;
        assert_eq!(decided, expected, "{line}");
        seen.insert(decided);
    }
    for o in [Outcome::Allow, Outcome::ExplicitDeny, Outcome::ImplicitDeny] {
        assert!(seen.contains(&o), "{o:?} missing from {seen:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
