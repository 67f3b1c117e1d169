//! Runs every validation case of the shared corpus and of tests/corpus through the parser and
//! the type checks: `invalid` must be rejected with an error that names a place, `valid` must
//! pass with no finding, `valid-with-warnings` with at least one warning and no error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use iamc::ast::PolicyType;
use iamc::diag::Diagnostic;
use iamc::parse::{parse_policy, Limits};
use serde_json::Value;

fn findings(case: &Value) -> Vec<Diagnostic> {
    let text = match (&case["document"], &case["document_text"]) {
        (Value::Null, Value::String(t)) => t.clone(),
        (doc, _) => serde_json::to_string_pretty(doc).unwrap(),
    };
    let ty = match case["policy_type"].as_str().unwrap() {
        "identity" => PolicyType::Identity,
        "kinesis-resource" => PolicyType::KinesisResource,
        other => PolicyType::from_name(other).unwrap_or_else(|| panic!("unknown type {other}")),
    };
    match parse_policy(&text, &Limits::default()) {
        Err(errors) => errors,
        Ok(p) => iamc::validate::check_policy(&p, ty, case["attached_to"].as_str()),
    }
}

#[test]
fn every_validation_case_passes() {
    let mut files = common::json_files(&common::shared_dir().join("conformance/validation"));
    files.extend(
        common::json_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"))
            .into_iter()
            .filter(|f| f.to_string_lossy().contains("validation")),
    );
    let mut n = 0;
    let mut failures = Vec::new();
    for f in &files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        for case in v["cases"].as_array().unwrap() {
            n += 1;
            let id = case["id"].as_str().unwrap();
            let found = findings(case);
            let errors: Vec<&Diagnostic> = found.iter().filter(|d| d.is_error()).collect();
            let ok = match case["expect"].as_str().unwrap() {
                // An error must say where: a JSON pointer, or a line for syntax errors.
                "invalid" => errors
                    .iter()
                    .any(|d| !d.loc.pointer.is_empty() || d.loc.line > 0 || d.code == "IAM117"),
                "valid" => found.is_empty(),
                "valid-with-warnings" => errors.is_empty() && !found.is_empty(),
                other => panic!("{id}: unknown expectation {other}"),
            };
            if !ok {
                failures.push(format!(
                    "{id}: expected {}, found {found:?}",
                    case["expect"]
                ));
            }
        }
    }
    assert!(n >= 40, "expected the whole validation corpus, found {n}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
