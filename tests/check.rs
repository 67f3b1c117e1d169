//! `iamc check` and the validator behind it: every code has a policy that triggers it and a
//! fixed one that does not; the validation corpus passes through the text front end with
//! every finding placed; the CLI's exit codes and its human, JSON and SARIF output; snapshots
//! of the human output (insta, `tests/check/snapshots/*.snap`: `cargo insta review`, or
//! `INSTA_UPDATE=always`, accepts a reviewed change); and no input makes the checks panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

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

fn cases() -> Vec<Case> {
    use PolicyType::{Identity as I, KinesisResource as K, Rcp, Resource as R, Session};
    let put = q("kinesis:PutRecord");
    let stream = q(STREAM);
    let ok = doc(&allow(&put, &stream, ""));
    let acct = r#"{"AWS":"210987654321"}"#;
    let seed = shared(acct, &put, &stream);
    let rcp = |m: &str| doc(&st(m));
    let rcp_ok =
        r#""Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*""#;
    let cond = |c: &str| doc(&allow(&put, &stream, &format!(r#""Condition":{{{c}}}"#)));
    let tag = |c: &str| {
        doc(&allow(
            &q("kinesis:TagResource"),
            &stream,
            &format!(r#""Condition":{{{c}}}"#),
        ))
    };
    let deep = format!(
        r#""Condition":{{"StringEquals":{{"aws:username":{}"a"{}}}}}"#,
        "[".repeat(70),
        "]".repeat(70)
    );
    let roles = |n: usize| {
        let v: Vec<String> = (0..n)
            .map(|i| format!("\"arn:aws:iam::210987654321:role/reader-role-number-{i:04}\""))
            .collect();
        format!(r#"{{"AWS":[{}]}}"#, v.join(","))
    };
    let s3 = r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#;
    let mut v = vec![
        // Parser (IAM0xx).
        case(
            "IAM001",
            I,
            r#"{"Version":"2012-10-17","Statement":["#.into(),
            ok.clone(),
        ),
        case(
            "IAM002",
            I,
            cond(r#""StringEquals":{"aws:username":"a","aws:username":"b"}"#),
            cond(r#""StringEquals":{"aws:username":"a","aws:userid":"b"}"#),
        ),
        case("IAM003", I, doc(&allow(&put, &stream, &deep)), ok.clone()),
        case(
            "IAM004",
            I,
            doc(&allow(&put, &stream, r#""Sid":"Caf€""#)),
            doc(&allow(&put, &stream, r#""Sid":"Cafe""#)),
        ),
        case(
            "IAM005",
            I,
            "policy version 2012-10-17 {\n  allow kinesis:PutRecord on ;\n}\n".to_string(),
            "policy version 2012-10-17 {\n  allow kinesis:PutRecord on *;\n}\n".to_string(),
        ),
        case(
            "IAM010",
            I,
            doc(&st(
                r#""Effect":"Allow","Actions":"kinesis:PutRecord","Resource":"*""#,
            )),
            ok.clone(),
        ),
        case(
            "IAM011",
            I,
            doc(&allow(&put, &stream, r#""Sid":5"#)),
            doc(&allow(&put, &stream, r#""Sid":"S5""#)),
        ),
        case(
            "IAM012",
            I,
            ok.replace("2012-10-17", "2013-01-01"),
            ok.clone(),
        ),
        case(
            "IAM013",
            I,
            r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
            ok.clone(),
        ),
        case(
            "IAM014",
            I,
            doc(&format!(
                "{},{}",
                allow(&put, &stream, r#""Sid":"A""#),
                allow(&q("kinesis:GetRecords"), &stream, r#""Sid":"A""#)
            )),
            doc(&format!(
                "{},{}",
                allow(&put, &stream, r#""Sid":"A""#),
                allow(&q("kinesis:GetRecords"), &stream, r#""Sid":"B""#)
            )),
        ),
        case(
            "IAM015",
            I,
            ok.replace("\"Allow\"", "\"allow\""),
            ok.clone(),
        ),
        case(
            "IAM016",
            I,
            doc(&st(&format!(r#""Effect":"Allow","Resource":{stream}"#))),
            ok.clone(),
        ),
        case(
            "IAM017",
            I,
            doc(&allow(&q("PutRecord"), &stream, "")),
            ok.clone(),
        ),
        case("IAM018", I, doc(&allow(&put, "[]", "")), ok.clone()),
        case(
            "IAM019",
            I,
            doc(&allow(&put, &q("stream/orders"), "")),
            ok.clone(),
        ),
        case(
            "IAM020",
            R,
            shared(&q("210987654321"), &put, &stream),
            shared(acct, &put, &stream),
        ),
        case(
            "IAM021",
            R,
            shared(
                r#"{"AWS":"arn:aws:iam::210987654321:user/*"}"#,
                &put,
                &stream,
            ),
            shared(
                r#"{"AWS":"arn:aws:iam::210987654321:user/alice"}"#,
                &put,
                &stream,
            ),
        ),
        case(
            "IAM022",
            I,
            doc(&allow(&put, &stream, r#""Condition":[]"#)),
            doc(&allow(&put, &stream, r#""Condition":{}"#)),
        ),
        case(
            "IAM023",
            I,
            cond(r#""StringEqualz":{"aws:username":"a"}"#),
            cond(r#""StringEquals":{"aws:username":"a"}"#),
        ),
        case(
            "IAM024",
            I,
            cond(r#""StringEquals":{"username":"a"}"#),
            cond(r#""StringEquals":{"aws:username":"a"}"#),
        ),
        case(
            "IAM025",
            I,
            cond(r#""IpAddress":{"aws:SourceIp":"10.0.0.0/33"}"#),
            cond(r#""IpAddress":{"aws:SourceIp":"10.0.0.0/8"}"#),
        ),
        // Policy types (IAM101–IAM109).
        case("IAM101", I, shared(acct, &put, &stream), ok.clone()),
        case(
            "IAM102",
            I,
            doc(&st(r#""Effect":"Allow","Action":"kinesis:PutRecord""#)),
            ok.clone(),
        ),
        case(
            "IAM103",
            I,
            doc(&allow(&put, &stream, r#""Sid":"read-only""#)),
            doc(&allow(&put, &stream, r#""Sid":"ReadOnly""#)),
        ),
        case("IAM104", R, ok.clone(), seed.clone()),
        case(
            "IAM105",
            Rcp,
            rcp(&rcp_ok.replace(
                r#""Principal":"*""#,
                r#""Principal":{"AWS":"111122223333"}"#,
            )),
            rcp(rcp_ok),
        ),
        case(
            "IAM106",
            Rcp,
            rcp(&rcp_ok.replace("Deny", "Allow")),
            rcp(rcp_ok),
        ),
        case(
            "IAM107",
            Rcp,
            rcp(&rcp_ok.replace("\"Action\"", "\"NotAction\"")),
            rcp(rcp_ok),
        ),
        case(
            "IAM108",
            Rcp,
            rcp(&rcp_ok.replace("kinesis:DeleteStream", "*")),
            rcp(rcp_ok),
        ),
        case(
            "IAM109",
            Rcp,
            rcp(rcp_ok).replace("2012-10-17", "2008-10-17"),
            rcp(rcp_ok),
        ),
        // Kinesis resource policies (IAM110–IAM118).
        case(
            "IAM110",
            K,
            shared(acct, &q("kinesis:*"), &stream),
            seed.clone(),
        ),
        case("IAM111", K, shared(&q("*"), &put, &stream), seed.clone()),
        case(
            "IAM112",
            K,
            shared(r#"{"Service":"lambda.amazonaws.com"}"#, &put, &stream),
            seed.clone(),
        ),
        case(
            "IAM113",
            K,
            seed.replace("\"Principal\"", "\"NotPrincipal\""),
            seed.clone(),
        ),
        case(
            "IAM114",
            K,
            shared(acct, &q("kinesis:DeleteStream"), &stream),
            seed.clone(),
        ),
        case(
            "IAM115",
            K,
            shared(acct, &q("kinesis:SubscribeToShard"), &stream),
            seed.clone(),
        ),
        case(
            "IAM116",
            K,
            shared(acct, &put, &q(&STREAM.replace("orders", "payments"))),
            seed.clone(),
        ),
        case(
            "IAM117",
            K,
            shared(&roles(700), &put, &stream),
            shared(&roles(10), &put, &stream),
        ),
        // Sizes.
        case(
            "IAM120",
            Session,
            doc(&allow(&many_actions(200), &q("*"), "")),
            doc(&allow(&many_actions(20), &q("*"), "")),
        ),
        case(
            "IAM121",
            I,
            doc(&allow(&many_actions(400), &q("*"), "")),
            doc(&allow(&many_actions(20), &q("*"), "")),
        ),
        // Actions.
        case(
            "IAM150",
            I,
            doc(&allow(&q("kinesis:PutRecordz"), &stream, "")),
            ok.clone(),
        ),
        case(
            "IAM151",
            I,
            doc(&allow(&q("kinesiss:PutRecord"), &stream, "")),
            ok.clone(),
        ),
        case(
            "IAM152",
            I,
            doc(&allow(&q("kinesis:Gett*"), &stream, "")),
            doc(&allow(&q("kinesis:Get*"), &stream, "")),
        ),
        // Resources.
        case(
            "IAM160",
            I,
            doc(&allow(
                &put,
                &q(&STREAM.replace("111122223333", "1111")),
                "",
            )),
            ok.clone(),
        ),
        case(
            "IAM161",
            I,
            doc(&allow(&put, &q("arn:aws:s3:::bucket"), "")),
            ok.clone(),
        ),
        case(
            "IAM162",
            I,
            doc(&allow(&q("kinesis:SubscribeToShard"), &stream, "")),
            doc(&allow(&q("kinesis:SubscribeToShard"), &q(CONSUMER), "")),
        ),
        case(
            "IAM153",
            I,
            doc(&allow(&q("kinesis:Update*"), &stream, "")),
            doc(&allow(
                r#"["kinesis:UpdateMaxRecordSize","kinesis:UpdateStreamWarmThroughput"]"#,
                &stream,
                "",
            )),
        ),
        case(
            "IAM163",
            I,
            doc(&allow(&q("kinesis:ListStreams"), &stream, "")),
            doc(&allow(&q("kinesis:ListStreams"), &q("*"), "")),
        ),
        case(
            "IAM164",
            I,
            doc(&allow(&put, &q("arn:aws:kinesis:us-east-1"), "")),
            doc(&allow(&put, &q("arn:aws:kinesis:us-east-1:*:*"), "")),
        ),
        case(
            "IAM165",
            R,
            shared(acct, &put, &q("arn:aws:kinesis")),
            seed.clone(),
        ),
        // Conditions.
        case(
            "IAM170",
            I,
            cond(r#""StringEquals":{"aws:RequestTag/team":"data"}"#),
            cond(r#""StringEquals":{"aws:ResourceTag/team":"data"}"#),
        ),
        case(
            "IAM171",
            I,
            cond(r#""NumericLessThan":{"aws:username":"5"}"#),
            cond(r#""StringEquals":{"aws:username":"5"}"#),
        ),
        case(
            "IAM172",
            I,
            cond(r#""StringEquals":{"aws:SourceIp":"203.0.113.5"}"#),
            cond(r#""IpAddress":{"aws:SourceIp":"203.0.113.5"}"#),
        ),
        case(
            "IAM173",
            I,
            cond(r#""IpAddress":{"aws:SourceIpp":"203.0.113.0/24"}"#),
            cond(r#""IpAddress":{"aws:SourceIp":"203.0.113.0/24"}"#),
        ),
        case(
            "IAM174",
            I,
            tag(r#""StringEquals":{"aws:TagKeys":"team"}"#),
            tag(r#""ForAnyValue:StringEquals":{"aws:TagKeys":"team"}"#),
        ),
        case(
            "IAM175",
            I,
            cond(r#""ForAnyValue:StringEquals":{"aws:username":"alice"}"#),
            cond(r#""StringEquals":{"aws:username":"alice"}"#),
        ),
        case(
            "IAM176",
            R,
            doc(&st(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:user/${{aws:username}}"}},{s3}"#
            ))),
            doc(&st(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:user/alice"}},{s3}"#
            ))),
        ),
        case(
            "IAM177",
            I,
            doc(&allow(&put, &q(&format!("{STREAM}-${{aws:username}}")), ""))
                .replace("2012-10-17", "2008-10-17"),
            doc(&allow(&put, &q(&format!("{STREAM}-${{aws:username}}")), "")),
        ),
        case(
            "IAM178",
            I,
            format!(r#"{{"Statement":[{}]}}"#, allow(&put, &stream, "")),
            ok.clone(),
        ),
        case(
            "IAM179",
            I,
            cond(
                r#""Null":{"aws:ResourceTag/team":"true"},"StringEquals":{"aws:ResourceTag/team":"data"}"#,
            ),
            cond(
                r#""Null":{"aws:ResourceTag/team":"false"},"StringEquals":{"aws:ResourceTag/team":"data"}"#,
            ),
        ),
        // Security warnings.
        case(
            "IAM187",
            I,
            doc(&allow(
                &put,
                &q("arn:aws:kinesis:us-east-1:111122223333:*/orders"),
                "",
            )),
            doc(&allow(
                &put,
                &q("arn:aws:kinesis:us-east-1:111122223333:stream/orders"),
                "",
            )),
        ),
        case(
            "IAM180",
            I,
            doc(&st(
                r#""Effect":"Allow","NotAction":"kinesis:DeleteStream","Resource":"*""#,
            )),
            doc(&st(
                r#""Effect":"Deny","NotAction":"kinesis:DeleteStream","Resource":"*""#,
            )),
        ),
        case(
            "IAM181",
            I,
            doc(&st(&format!(
                r#""Effect":"Allow","Action":{put},"NotResource":{stream}"#
            ))),
            doc(&st(&format!(
                r#""Effect":"Deny","Action":{put},"NotResource":{stream}"#
            ))),
        ),
        case(
            "IAM182",
            R,
            doc(&st(&format!(
                r#""Effect":"Allow","NotPrincipal":{acct},{s3}"#
            ))),
            doc(&st(&format!(
                r#""Effect":"Deny","NotPrincipal":{acct},{s3}"#
            ))),
        ),
        case(
            "IAM183",
            I,
            doc(&allow(&put, &q(&format!("{STREAM}*")), "")),
            ok.clone(),
        ),
        case(
            "IAM184",
            I,
            doc(&allow(
                &q("kinesis:TagResource"),
                &q("arn:aws:kinesis:us-east-1:111122223333:stream/*"),
                "",
            )),
            doc(&allow(&q("kinesis:TagResource"), &stream, "")),
        ),
        case(
            "IAM185",
            R,
            shared(acct, &q("kinesis:DeleteStream"), &stream),
            shared(
                r#"{"AWS":"111122223333"}"#,
                &q("kinesis:DeleteStream"),
                &stream,
            ),
        ),
        case(
            "IAM186",
            I,
            tag(r#""ForAllValues:StringEquals":{"aws:TagKeys":["team"]}"#),
            tag(
                r#""ForAllValues:StringEquals":{"aws:TagKeys":["team"]},"Null":{"aws:TagKeys":"false"}"#,
            ),
        ),
        // Suggestions.
        case(
            "IAM190",
            I,
            doc(&format!(
                "{},{}",
                allow(&q("kinesis:*"), &stream, ""),
                allow(&put, &stream, "")
            )),
            doc(&format!(
                "{},{}",
                allow(&q("kinesis:*"), &stream, ""),
                allow(&put, &q(&STREAM.replace("orders", "payments")), "")
            )),
        ),
        case(
            "IAM191",
            I,
            doc(&allow(&q("kinesis:SubscribeToShard"), &stream, "")),
            doc(&allow(&q("kinesis:SubscribeToShard"), &q(CONSUMER), "")),
        ),
    ];
    v.push(Case {
        code: "IAM118",
        ty: K,
        attached_to: Some("arn:aws:s3:::bucket"),
        trigger: seed.clone(),
        fixed: seed,
    });
    // Kinesis resource policies are checked against the stream they are attached to (IAM118's
    // fixed policy too, see the test).
    for c in &mut v {
        if c.ty == K && c.attached_to.is_none() {
            c.attached_to = Some(STREAM);
        }
    }
    v
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

#[test]
fn exit_codes() {
    let (code, out, _) = run(&[&format!("{FIX}/clean.json")]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "0 errors, 0 warnings in 1 file");
    assert_eq!(run(&[&format!("{FIX}/identity-mistakes.json")]).0, 1);
    assert_eq!(run(&[&format!("{FIX}/broken.json")]).0, 1);

    // Warnings only: 0, unless --deny.
    let dir = tempdir("warn");
    let p = dir.join("warn.json");
    std::fs::write(&p, doc(&allow(&q("kinesis:PutRecordz"), &q(STREAM), ""))).unwrap();
    let p = p.to_str().unwrap();
    assert_eq!(run(&[p]).0, 0);
    assert_eq!(run(&[p, "--deny", "warnings"]).0, 1);
    assert_eq!(run(&[p, "--deny", "security-warnings"]).0, 0);
    assert_eq!(run(&[p, "--deny", "suggestions"]).0, 1);

    // Could not run: 2.
    let (code, _, err) = run(&["tests/check/no-such-file.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-file.json"), "{err}");
    assert_eq!(run(&["--type", "nope", p]).0, 2);
    assert_eq!(run(&["--format", "xml", p]).0, 2);
    assert_eq!(run(&["--deny", "everything", p]).0, 2);
    assert_eq!(run(&[]).0, 2);
    let bad = dir.join("latin.json");
    std::fs::write(&bad, [0xff_u8, 0xfe, 0x00]).unwrap();
    assert_eq!(run(&[bad.to_str().unwrap()]).0, 2);
}

#[test]
fn types_and_attachment_from_the_command_line() {
    let f = format!("{FIX}/stream-policy.json");
    let (_, out, _) = run(&[&f]);
    assert!(out.contains("error[IAM101]"), "{out}");
    let (code, out, _) = run(&[
        "--type",
        "kinesis-resource",
        "--attached-to",
        "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
        &f,
    ]);
    assert_eq!(code, 1);
    for c in ["IAM110", "IAM111", "IAM112", "IAM114", "IAM115", "IAM116"] {
        assert!(out.contains(&format!("error[{c}]")), "{c}:\n{out}");
    }
    assert!(!out.contains("IAM101"));
    // --attached-to a stream implies kinesis-resource.
    let (_, out2, _) = run(&[
        "--attached-to",
        "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
        &f,
    ]);
    assert_eq!(out, out2);
}

#[test]
fn json_output() {
    let (code, out, _) = run(&["--format", "json", &format!("{FIX}/identity-mistakes.json")]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let f = findings.iter().find(|f| f["code"] == "IAM150").unwrap();
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["path"], format!("{FIX}/identity-mistakes.json"));
    assert_eq!(f["pointer"], "/Statement/0/Action/0");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(7), Some(18))
    );
    assert_eq!(f["type"], "identity");
    assert!(f["help"].as_str().unwrap().contains("kinesis:PutRecord"));
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["files"], 1);
    let total: u64 = ["errors", "security_warnings", "warnings", "suggestions"]
        .iter()
        .map(|k| v["summary"][k].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, findings.len());
}

#[test]
fn sarif_output() {
    let (code, out, _) = run(&["--format", "sarif", FIX]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(
        v["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "iamc");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], id);
        assert!(rules[idx]["shortDescription"]["text"].as_str().is_some());
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].as_str().is_some());
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with(FIX));
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(levels.contains(&"error") && levels.contains(&"warning") && levels.contains(&"note"));
}

#[test]
fn stores_are_checked_with_their_types() {
    let (code, out, _) = run(&["--format", "json", "tests/check/store"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let get = |c: &str| {
        findings
            .iter()
            .find(|f| f["code"] == c)
            .unwrap_or_else(|| panic!("{c}: {out}"))
    };
    // The stream policy, checked as a Kinesis policy of the stream it is attached to, placed in
    // its own file.
    let f = get("IAM115");
    assert_eq!(f["path"], "tests/check/store/policies/orders-stream.json");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(7), Some(68))
    );
    // The identity policy, in its file.
    assert_eq!(
        get("IAM170")["path"],
        "tests/check/store/policies/producer.json"
    );
    // The boundary, written inline in the store.
    let f = get("IAM180");
    assert_eq!(f["path"], "tests/check/store/store.json");
    assert_eq!(
        f["pointer"],
        "/policies/Boundary/document/Statement/0/NotAction"
    );
    // The bundled example store is clean.
    let (code, out, _) = run(&["examples/kinesis/store.json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "0 errors, 0 warnings in 1 file");
}

#[test]
fn a_file_of_several_policies_is_checked_policy_by_policy() {
    // One SCP level, as `iamc authorize --scp` takes it: a JSON array of policies.
    let dir = tempdir("scps");
    let p = dir.join("level.json");
    std::fs::write(
        &p,
        format!(
            "[{},\n{}]",
            doc(&allow(&q("*"), &q("*"), "")),
            doc(&st(
                r#""Effect":"Deny","Action":"kinesis:DeleteStrem","Resource":"*""#
            ))
        ),
    )
    .unwrap();
    let (code, out, _) = run(&["--type", "scp", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let f = findings.iter().find(|f| f["code"] == "IAM150").unwrap();
    assert_eq!(f["pointer"], "/1/Statement/0/Action");
    assert_eq!(f["line"], 2);
}

#[test]
fn help_teaches() {
    let out = iamc().args(["check", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--attached-to",
        "--deny",
        "sarif",
        "Exit codes",
        "iamc check --type",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
}

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
