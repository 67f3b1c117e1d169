//! The text policy language: round trips with IAM JSON (the conformance corpus, the examples,
//! generated policies), the formatter, and the lexer's and parser's errors with their messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use iamc::ast::{Loc, Policy};
use iamc::diag::Diagnostic;
use iamc::parse::text::token::{is_bare_word, quote, text_value, LexError, Token};
use iamc::parse::text::{format_as_json, format_as_text};
use iamc::parse::{
    parse_policy, parse_policy_any, parse_text_policy, policy_to_json, policy_to_text, Limits,
};
use logos::Logos;
use proptest::prelude::*;
use serde_json::{json, Value};

#[path = "text/cli.rs"]
mod cli;
#[path = "text/errors.rs"]
mod errors;
#[path = "text/fmt.rs"]
mod fmt;
#[path = "text/lexer.rs"]
mod lexer;
#[path = "text/properties.rs"]
mod properties;
#[path = "text/round_trips.rs"]
mod round_trips;

// ---------------------------------------------------------------------------------------------
// Helpers

fn limits() -> Limits {
    Limits::default()
}

/// The AST without what depends on how the source was written: positions, the source's size,
/// and whether `Statement` was a single object.
fn strip(p: &Policy) -> Policy {
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

fn json_ok(text: &str) -> Policy {
    parse_policy(text, &limits()).unwrap_or_else(|e| panic!("JSON does not parse: {e:?}\n{text}"))
}

fn text_ok(text: &str) -> Policy {
    parse_text_policy(text, &limits())
        .unwrap_or_else(|e| panic!("text does not parse: {e:#?}\n{text}"))
}

fn text_errors(text: &str) -> Vec<Diagnostic> {
    match parse_text_policy(text, &limits()) {
        Ok(_) => panic!("text parsed, errors expected:\n{text}"),
        Err(e) => e,
    }
}

/// JSON -> text -> JSON gives the same AST, and the text is stable: formatting it again, or
/// converting it to JSON and back, gives the same text.
fn assert_round_trip(what: &str, policy: &Policy) {
    let text = policy_to_text(policy);
    let from_text = parse_text_policy(&text, &limits())
        .unwrap_or_else(|e| panic!("{what}: its text form does not parse: {e:#?}\n{text}"));
    assert_eq!(
        strip(&from_text),
        strip(policy),
        "{what}: text -> AST\n{text}"
    );
    let json = policy_to_json(&from_text);
    let back = parse_policy(&json, &limits())
        .unwrap_or_else(|e| panic!("{what}: JSON from text does not parse: {e:#?}\n{json}"));
    assert_eq!(
        strip(&back),
        strip(policy),
        "{what}: text -> JSON -> AST\n{json}"
    );
    assert_eq!(policy_to_text(&back), text, "{what}: text -> JSON -> text");
    let formatted = format_as_text(&text, &limits())
        .unwrap_or_else(|e| panic!("{what}: fmt fails: {e:#?}\n{text}"));
    assert_eq!(formatted, text, "{what}: fmt changes formatted text");
    assert_eq!(
        format_as_json(&text, &limits()).ok().as_deref(),
        Some(json.as_str()),
        "{what}: text -> JSON"
    );
}

fn shared_dir() -> PathBuf {
    match std::env::var_os("IAMC_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// Every policy document in a corpus file: any object with a `Statement`, and any
/// `document_text`.
fn documents(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("Statement") {
                out.push((path.to_string(), serde_json::to_string_pretty(v).unwrap()));
                return;
            }
            for (k, x) in m {
                if k == "document_text" {
                    if let Some(s) = x.as_str() {
                        out.push((format!("{path}/{k}"), s.to_string()));
                    }
                } else {
                    documents(x, &format!("{path}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                documents(x, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn corpus_documents() -> Vec<(String, String)> {
    let shared = shared_dir().join("conformance");
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = json_files(&shared.join("decisions"));
    files.extend(json_files(&shared.join("validation")));
    files.extend(json_files(&own));
    let mut out = Vec::new();
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        documents(&v, &name, &mut out);
    }
    out
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kinesis")
}
