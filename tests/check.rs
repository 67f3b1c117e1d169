//! `iamc check` and the validator behind it: every code has a policy that triggers it and a
//! fixed one that does not; the validation corpus passes through the text front end with
//! every finding placed; the CLI's exit codes and its human, JSON and SARIF output; snapshots
//! of the human output (insta, `tests/check/snapshots/*.snap`: `cargo insta review`, or
//! `INSTA_UPDATE=always`, accepts a reviewed change); and no input makes the checks panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "check/cases.rs"]
mod cases;
#[path = "check/cli.rs"]
mod cli;

use cases::cases;

use std::path::Path;

use assert_cmd::Command;
use iamc::ast::PolicyType;
use iamc::diag::Code;
use iamc::diag::{Diagnostic, Severity};
use iamc::validate::check_text;
use proptest::prelude::*;
use serde_json::Value;

const STREAM: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
const CONSUMER: &str =
    "arn:aws:kinesis:us-east-1:111122223333:stream/orders/consumer/c1:1674696300";

/// A 2012-10-17 policy with these statements (JSON object texts, comma-separated).
fn doc(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

/// One statement: `{members}`.
fn st(members: &str) -> String {
    format!("{{{members}}}")
}

/// Allow `action` on `resource` (JSON values), plus more members.
fn allow(action: &str, resource: &str, more: &str) -> String {
    let more = if more.is_empty() {
        String::new()
    } else {
        format!(",{more}")
    };
    st(&format!(
        r#""Effect":"Allow","Action":{action},"Resource":{resource}{more}"#
    ))
}

fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// A Kinesis stream policy sharing `action` with `principal` on `resource`.
fn shared(principal: &str, action: &str, resource: &str) -> String {
    doc(&st(&format!(
        r#""Effect":"Allow","Principal":{principal},"Action":{action},"Resource":{resource}"#
    )))
}

struct Case {
    code: &'static str,
    ty: PolicyType,
    attached_to: Option<&'static str>,
    trigger: String,
    fixed: String,
}

fn case(code: &'static str, ty: PolicyType, trigger: String, fixed: String) -> Case {
    Case {
        code,
        ty,
        attached_to: None,
        trigger,
        fixed,
    }
}

fn many_actions(n: usize) -> String {
    let v: Vec<String> = (0..n).map(|i| format!("\"s3:GetObject{i:04}\"")).collect();
    format!("[{}]", v.join(","))
}

fn show(found: &[Diagnostic]) -> String {
    found
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_code_has_a_trigger_and_a_fix() {
    let cases = cases();
    for c in &cases {
        let found = check_text(&c.trigger, c.ty, c.attached_to);
        let hits: Vec<&Diagnostic> = found.iter().filter(|d| d.code == c.code).collect();
        assert!(
            !hits.is_empty(),
            "{}: the trigger ({}) gives:\n{}",
            c.code,
            c.ty,
            show(&found)
        );
        let code: Code = c.code.parse().unwrap_or_else(|e| panic!("{e}"));
        for d in hits {
            assert_eq!(d.severity, code.severity(), "{}: {d}", c.code);
            assert!(d.loc.line > 0, "{}: no line: {d}", c.code);
        }
        let attached = if c.code == "IAM118" {
            Some(STREAM)
        } else {
            c.attached_to
        };
        let fixed = check_text(&c.fixed, c.ty, attached);
        assert!(
            fixed.iter().all(|d| d.code != c.code),
            "{}: the fixed policy still gives it:\n{}",
            c.code,
            show(&fixed)
        );
    }
    // Every code of the parser and the validator has a case (the store's, the evaluation's,
    // the engine build's, the credentials file's and the importer's are tested where they are
    // given).
    for code in Code::ALL
        .iter()
        .filter(|c| !["store", "eval", "engine", "credentials", "import"].contains(&c.family()))
    {
        assert!(
            cases.iter().any(|c| c.code == *code),
            "no test case for {code}"
        );
    }
}

#[test]
fn fixed_policies_of_the_lint_families_are_clean() {
    // The fixes of the lints (IAM15x–IAM19x) are policies a user would write: no finding at all,
    // except where the fix itself is a deliberate, still-flagged choice.
    let allowed: &[(&str, &str)] = &[
        ("IAM177", "IAM160"), // a stream name with `-${aws:username}` is fine in 2012, flagged in 2008 only
        ("IAM180", ""),
        ("IAM181", ""),
    ];
    for c in cases() {
        let n: u32 = c.code[3..].parse().unwrap();
        if n < 150 {
            continue;
        }
        let found = check_text(&c.fixed, c.ty, c.attached_to);
        let unexpected: Vec<&Diagnostic> = found
            .iter()
            .filter(|d| !allowed.contains(&(c.code, d.code.as_str())))
            .collect();
        assert!(
            unexpected.is_empty(),
            "{}: the fixed policy has findings:\n{}",
            c.code,
            show(&found)
        );
    }
}

/// The shared validation corpus and the project's, through the text front end: the same
/// verdicts as `tests/validation.rs`, and every finding placed on a line.
#[test]
fn validation_corpus_through_check_text() {
    let mut files = common::json_files(&common::shared_dir().join("conformance/validation"));
    files
        .push(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/spec-edge-validation.json"));
    let mut n = 0;
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for c in v["cases"].as_array().unwrap() {
            n += 1;
            let id = c["id"].as_str().unwrap();
            let text = match (&c["document"], &c["document_text"]) {
                (Value::Null, Value::String(t)) => t.clone(),
                (d, _) => serde_json::to_string_pretty(d).unwrap(),
            };
            let ty = PolicyType::from_name(c["policy_type"].as_str().unwrap()).unwrap();
            let found = check_text(&text, ty, c["attached_to"].as_str());
            let errors = found.iter().filter(|d| d.is_error()).count();
            let ok = match c["expect"].as_str().unwrap() {
                "invalid" => errors > 0,
                "valid" => found.is_empty(),
                "valid-with-warnings" => errors == 0 && !found.is_empty(),
                other => panic!("{id}: {other}"),
            };
            assert!(
                ok,
                "{id}: expected {}, found:\n{}",
                c["expect"],
                show(&found)
            );
            for d in &found {
                assert!(d.loc.line > 0, "{id}: finding without a line: {d}");
            }
        }
    }
    assert!(n >= 44, "{n} cases");
}

#[test]
fn findings_point_at_the_element() {
    let text = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": ["kinesis:PutRecord", "kinesis:PutRecordz"],
    "Resource": "*"
  }]
}"#;
    let found = check_text(text, PolicyType::Identity, None);
    let d = found.iter().find(|d| d.code == "IAM150").unwrap();
    assert_eq!(d.loc.pointer, "/Statement/0/Action/1");
    assert_eq!((d.loc.line, d.loc.column), (5, 37));
    assert_eq!(
        d.help.as_deref(),
        Some("did you mean \"kinesis:PutRecord\"?")
    );
}

#[test]
fn store_loading_keeps_lint_warnings_and_fails_on_errors() {
    // A warning (IAM150) does not stop a store from loading; it is kept.
    let store = |doc: &str| {
        format!(
            r#"{{"version":1,"policies":{{"P":{{"type":"identity","document":{doc}}}}},
               "accounts":{{"111122223333":{{"users":{{"alice":{{"policies":["P"]}}}}}}}}}}"#
        )
    };
    let warn = doc(&allow(&q("kinesis:PutRecordz"), &q(STREAM), ""));
    let s = iamc::store::Store::from_str(&store(&warn), None).unwrap();
    assert!(s.warnings().iter().any(|d| d.code == "IAM150"));
    // An error of a lint (IAM171) refuses the store, as the parser's errors do.
    let bad = doc(&allow(
        &q("kinesis:PutRecord"),
        &q(STREAM),
        r#""Condition":{"NumericLessThan":{"aws:username":"5"}}"#,
    ));
    let errors = iamc::store::Store::from_str(&store(&bad), None).unwrap_err();
    assert!(errors.iter().any(|d| d.code == "IAM171" && d.is_error()));
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn iamc() -> Command {
    let mut c = Command::cargo_bin("iamc").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = iamc().arg("check").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const FIX: &str = "tests/check/fixtures";

// ---------------------------------------------------------------------------------------------
// Snapshots of the human output.

/// The human output of `iamc check ARGS` against `tests/check/snapshots/NAME.snap` (insta:
/// `cargo insta review`, or `INSTA_UPDATE=always cargo test --test check`, accepts a change).
fn snapshot(name: &str, args: &[&str]) {
    let (_, out, err) = run(args);
    insta::with_settings!({
        snapshot_path => "check/snapshots",
        prepend_module_to_snapshot => false,
        description => format!("iamc check {}", args.join(" ")),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, format!("{out}{err}"));
    });
}

#[test]
fn snapshot_identity_mistakes() {
    snapshot(
        "identity-mistakes",
        &[&format!("{FIX}/identity-mistakes.json")],
    );
}

#[test]
fn snapshot_kinesis_stream_policy() {
    snapshot(
        "stream-policy",
        &[
            "--type",
            "kinesis-resource",
            "--attached-to",
            "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
            &format!("{FIX}/stream-policy.json"),
        ],
    );
}

#[test]
fn snapshot_broken_json() {
    snapshot("broken", &[&format!("{FIX}/broken.json")]);
}

#[test]
fn snapshot_store() {
    snapshot("store", &["tests/check/store"]);
}

// ---------------------------------------------------------------------------------------------
// No input makes the checks panic.

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("iamc-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const TYPES: [PolicyType; 7] = [
    PolicyType::Identity,
    PolicyType::Boundary,
    PolicyType::Session,
    PolicyType::Scp,
    PolicyType::Rcp,
    PolicyType::Resource,
    PolicyType::KinesisResource,
];

fn pieces() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        Just("kinesis:*".to_string()),
        Just("kinesis:Get*".to_string()),
        Just("kinesis:PutRecord".to_string()),
        Just("kinesis:SubscribeToShard".to_string()),
        Just("kinesis:ListStreams".to_string()),
        Just(STREAM.to_string()),
        Just(format!("{STREAM}*")),
        Just(CONSUMER.to_string()),
        Just("arn:aws:kinesis:*:*:stream/*".to_string()),
        Just("arn:aws:kinesis:us-east-1:111122223333:stream/${aws:username}".to_string()),
        Just("arn:aws:s3:::b".to_string()),
        "[a-zA-Z0-9:/*?${}.-]{0,24}",
    ]
}

fn statement() -> impl Strategy<Value = String> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::collection::vec(pieces(), 1..4),
        prop::bool::ANY,
        prop::collection::vec(pieces(), 1..3),
        prop::option::of((
            prop::sample::select(vec![
                "StringEquals",
                "ForAllValues:StringLike",
                "ForAnyValue:StringEquals",
                "NumericLessThan",
                "DateGreaterThan",
                "IpAddress",
                "Bool",
                "Null",
                "ArnLike",
                "StringNotEqualsIfExists",
            ]),
            prop::sample::select(vec![
                "aws:TagKeys",
                "aws:username",
                "aws:SourceIp",
                "aws:CurrentTime",
                "aws:PrincipalArn",
                "aws:RequestTag/team",
                "kinesis:FisActionId",
                "s3:prefix",
                "aws:SourceIpp",
            ]),
            pieces(),
        )),
        prop::option::of(prop::sample::select(vec![
            r#""*""#,
            r#"{"AWS":"210987654321"}"#,
            r#"{"AWS":["111122223333","*"]}"#,
            r#"{"Service":"lambda.amazonaws.com"}"#,
        ])),
    )
        .prop_map(
            |(allow, not_action, actions, not_resource, resources, cond, principal)| {
                let list = |v: &[String]| serde_json::to_string(v).unwrap();
                let mut s = format!(
                    r#""Effect":"{}","{}":{},"{}":{}"#,
                    if allow { "Allow" } else { "Deny" },
                    if not_action { "NotAction" } else { "Action" },
                    list(&actions),
                    if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    },
                    list(&resources),
                );
                if let Some((op, key, value)) = cond {
                    s.push_str(&format!(
                        r#","Condition":{{"{op}":{{"{key}":{}}}}}"#,
                        serde_json::to_string(&value).unwrap()
                    ));
                }
                if let Some(p) = principal {
                    s.push_str(&format!(r#","Principal":{p}"#));
                }
                format!("{{{s}}}")
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_never_panic(
        statements in prop::collection::vec(statement(), 1..5),
        version in prop::sample::select(vec!["2012-10-17", "2008-10-17", ""]),
        ty in prop::sample::select(TYPES.to_vec()),
        attached in prop::option::of(prop::sample::select(vec![STREAM, CONSUMER, "arn:aws:s3:::b"])),
    ) {
        let v = if version.is_empty() { String::new() } else { format!(r#""Version":"{version}","#) };
        let text = format!(r#"{{{v}"Statement":[{}]}}"#, statements.join(","));
        let found = check_text(&text, ty, attached);
        for d in &found {
            prop_assert!(d.severity != Severity::Error || d.is_error());
        }
    }

    #[test]
    fn mutated_text_never_panics(
        cut in 0usize..2000,
        insert in "[\\[\\]{}\",:*?$ a-z0-9\u{e9}\u{20ac}]{0,4}",
        ty in prop::sample::select(TYPES.to_vec()),
    ) {
        for name in ["identity-mistakes.json", "stream-policy.json", "clean.json"] {
            let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIX).join(name)).unwrap();
            let mut at = cut.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mutated = format!("{}{insert}{}", &text[..at], &text[at..]);
            let _ = check_text(&mutated, ty, Some(STREAM));
            let _ = check_text(&text[..at], ty, None);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded output: a long line is shown as a window around the finding, and findings are capped
// per file.

/// A one-line identity policy of about `bytes` bytes: one statement whose actions are all
/// misspelt (one IAM150 each), with a multi-byte character in every resource name.
fn one_line_policy(bytes: usize) -> (String, usize) {
    let mut actions = Vec::new();
    let mut n = 0;
    let mut len = 0;
    while len < bytes {
        let a = format!("\"kinesis:PutRecordz{n:06}\"");
        len += a.len() + 1;
        actions.push(a);
        n += 1;
    }
    let text = doc(&allow(
        &format!("[{}]", actions.join(",")),
        &q("arn:aws:kinesis:us-east-1:111122223333:stream/caf\u{e9}"),
        "",
    ));
    (text, n)
}

/// The findings in human output: the lines that start with a severity.
fn finding_lines(out: &str) -> usize {
    out.lines()
        .filter(|l| {
            ["error[", "security-warning[", "warning[", "suggestion["]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .count()
}

fn run_stdout_bytes(args: &[&str]) -> (i32, Vec<u8>) {
    let out = iamc().arg("check").args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), out.stdout)
}

#[test]
fn a_long_line_is_shown_as_a_window_and_findings_are_capped() {
    let dir = tempdir("long-line");
    let (text, n) = one_line_policy(32 * 1024);
    assert!(!text.contains('\n') && text.len() >= 32 * 1024);
    let p = dir.join("long.json");
    std::fs::write(&p, &text).unwrap();
    let p = p.to_str().unwrap();

    // Every finding, counted in JSON with no cap.
    let (_, all) = run_stdout_bytes(&["--format", "json", "--max-findings", "0", p]);
    let all: Value = serde_json::from_slice(&all).unwrap();
    let total = all["findings"].as_array().unwrap().len();
    assert!(total > n, "{total} findings for {n} misspelt actions");
    assert_eq!(all["truncated"], 0);

    let (_, out) = run_stdout_bytes(&[p]);
    // 100 findings of a few hundred bytes each, not n copies of a 32 KB line.
    assert!(
        out.len() < 64 * 1024,
        "{} bytes of output for a {}-byte policy",
        out.len(),
        text.len()
    );
    let out = String::from_utf8(out).unwrap();
    assert_eq!(finding_lines(&out), 100, "{out}");
    assert!(
        out.contains(&format!(
            "{} more findings in {p} not shown (--max-findings 0 shows them all)",
            total - 100
        )),
        "{out}"
    );
    // The summary counts every finding.
    assert!(
        out.lines()
            .last()
            .unwrap()
            .contains(&format!("{} warnings", all["summary"]["warnings"])),
        "{}",
        out.lines().last().unwrap_or_default()
    );
    // Each source line is a window of at most ~120 characters, and the caret sits under the
    // element the finding names.
    let lines: Vec<&str> = out.lines().collect();
    let mut checked = 0;
    for (i, l) in lines.iter().enumerate() {
        let Some(src) = l.strip_prefix(" 1 │ ") else {
            continue;
        };
        assert!(src.chars().count() <= 124, "{}: {src}", src.chars().count());
        let caret = lines[i + 1].strip_prefix("   · ").unwrap();
        let col = caret.chars().take_while(|c| *c == ' ').count();
        let width = caret.chars().filter(|c| *c == '^').count();
        assert!(
            width >= 1 && col + width <= src.chars().count(),
            "{src}\n{caret}"
        );
        let under: String = src.chars().skip(col).take(width).collect();
        // The finding's own action is under the caret: `severity[CODE]`, a blank line, the
        // message, the file, then the source line.
        if lines[i - 4] != "warning[IAM150]" {
            continue;
        }
        let msg = lines[i - 2];
        let name = msg.split('"').nth(1).unwrap();
        assert_eq!(under, format!("\"{name}\""), "{msg}");
        checked += 1;
    }
    assert!(checked >= 90, "{checked} carets checked");
    assert!(out.contains('…'), "no elision marks:\n{out}");

    // --max-findings changes the cap; 0 shows them all.
    let (_, out) = run_stdout_bytes(&["--max-findings", "3", p]);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(finding_lines(&out), 3);
    assert!(
        out.contains(&format!("{} more findings", total - 3)),
        "{out}"
    );
    let (_, out) = run_stdout_bytes(&["--max-findings", "0", p]);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.matches("warning[IAM150]").count(), n);
    assert_eq!(finding_lines(&out), total);
    assert!(!out.contains("more findings"));
    assert!(out.len() < 16 * 1024 * 1024, "{} bytes", out.len());
    assert_eq!(run(&["--max-findings", "many", p]).0, 2);

    // JSON and SARIF apply the same cap and say how many were left out.
    let (_, out) = run_stdout_bytes(&["--format", "json", p]);
    assert!(out.len() < 128 * 1024, "{} bytes of JSON", out.len());
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 100);
    assert_eq!(v["truncated"], (total - 100) as u64);
    assert_eq!(v["summary"], all["summary"]);
    let (_, out) = run_stdout_bytes(&["--format", "sarif", p]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 100);
    assert_eq!(
        v["runs"][0]["properties"]["truncated"],
        (total - 100) as u64
    );
}

#[test]
fn a_window_never_splits_a_character() {
    // A long line of two-byte characters with a finding near its end: the window starts and
    // ends on character boundaries (the output is valid UTF-8) and the caret is under it.
    let dir = tempdir("utf8-window");
    let long = "\u{e9}".repeat(3000);
    let text = doc(&allow(
        &q("kinesis:PutRecordz"),
        &q(&format!(
            "arn:aws:kinesis:us-east-1:111122223333:stream/{long}"
        )),
        &format!(r#""Sid":"{}x""#, "\u{e0}".repeat(3)),
    ));
    let p = dir.join("utf8.json");
    std::fs::write(&p, &text).unwrap();
    let (_, out) = run_stdout_bytes(&[p.to_str().unwrap()]);
    let out = String::from_utf8(out).expect("valid UTF-8");
    // A message quotes its value in full (IAM160 quotes the 3,000-character ARN); the source
    // lines are windows.
    assert!(out.len() < 32 * 1024, "{out}");
    let mut windows = 0;
    for l in out.lines().filter(|l| l.starts_with(" 1 │ ")) {
        assert!(l.chars().count() <= 130, "{l}");
        windows += 1;
    }
    assert!(windows >= 2, "{out}");
}

#[test]
fn check_reads_standard_input() {
    let policy = doc(&allow(&q("kinesis:PutRecordz"), &q(STREAM), ""));
    let out = iamc()
        .args(["check", "-"])
        .write_stdin(policy.clone())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("warning[IAM150]"), "{stdout}");
    assert!(stdout.contains("─[<stdin>:1:"), "{stdout}");
    // With a type, and in JSON.
    let out = iamc()
        .args(["check", "--type", "scp", "--format", "json", "-"])
        .write_stdin(policy)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["path"], "<stdin>");
    assert_eq!(v["findings"][0]["type"], "scp");
    // A store on standard input is checked as a store.
    {
        let out = iamc()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["check", "--format", "json", "-"])
            .write_stdin(
                r#"{"version": 1, "policies": {"P": {"type": "identity", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecordz", "Resource": "*"}]}}}}"#,
            )
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == "IAM150")
            .unwrap_or_else(|| panic!("{v}"));
        assert_eq!(f["path"], "<stdin>");
        assert_eq!(f["pointer"], "/policies/P/document/Statement/0/Action");
    }
}

#[test]
fn iam153_names_the_wildcard_only_actions_a_pattern_does_not_grant() {
    let stream = q(STREAM);
    let found = check_text(
        &doc(&allow(&q("kinesis:Update*"), &stream, "")),
        PolicyType::Identity,
        None,
    );
    let hits: Vec<&Diagnostic> = found.iter().filter(|d| d.code == "IAM153").collect();
    assert_eq!(hits.len(), 1, "{}", show(&found));
    let d = hits[0];
    assert_eq!(d.loc.pointer, "/Statement/0/Action");
    assert!(d.message.contains("\"kinesis:Update*\""), "{d}");
    assert!(
        d.message.contains(
            "kinesis:UpdateAccountSettings, kinesis:UpdateShardCount, kinesis:UpdateStreamMode"
        ),
        "{d}"
    );
    assert!(
        d.help.as_deref().unwrap().contains("\"Resource\": \"*\""),
        "{d}"
    );
    // A pattern of wildcard-only actions only is IAM163's, and only IAM163's.
    let found = check_text(
        &doc(&allow(&q("kinesis:UpdateShard*"), &stream, "")),
        PolicyType::Identity,
        None,
    );
    assert!(found.iter().any(|d| d.code == "IAM163"), "{}", show(&found));
    assert!(found.iter().all(|d| d.code != "IAM153"), "{}", show(&found));
    // Not with Resource "*", not when another statement grants them on "*", not in a Deny, and
    // not for the whole-service kinesis:* (the shared corpus's identity-seed-4 is clean).
    for text in [
        doc(&allow(&q("kinesis:Update*"), &q("*"), "")),
        doc(&format!(
            "{},{}",
            allow(&q("kinesis:Update*"), &stream, ""),
            allow(&q("kinesis:*"), &q("*"), "")
        )),
        doc(&st(&format!(
            r#""Effect":"Deny","Action":"kinesis:Update*","Resource":{stream}"#
        ))),
        doc(&allow(&q("kinesis:*"), &stream, "")),
    ] {
        let found = check_text(&text, PolicyType::Identity, None);
        assert!(found.iter().all(|d| d.code != "IAM153"), "{}", show(&found));
    }
    // Only the ones not granted elsewhere are named.
    let found = check_text(
        &doc(&format!(
            "{},{}",
            allow(&q("kinesis:List*"), &stream, ""),
            allow(&q("kinesis:ListStreams"), &q("*"), "")
        )),
        PolicyType::Identity,
        None,
    );
    let d = found.iter().find(|d| d.code == "IAM153").unwrap();
    assert!(
        d.message.contains("action kinesis:ListChannels: it is"),
        "{d}"
    );
    assert!(!d.message.contains("kinesis:ListStreams"), "{d}");
}
