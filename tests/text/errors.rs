//! Errors: every syntax error of a run reported, the edges, value errors as the JSON front end
//! gives them, duplicate condition keys, bounds.

use super::*;

// ---------------------------------------------------------------------------------------------
// The parser's errors

fn messages(text: &str) -> Vec<String> {
    text_errors(text)
        .iter()
        .map(|d| format!("{}:{} {} {}", d.loc.line, d.loc.column, d.code, d.message))
        .collect()
}

#[test]
fn one_run_reports_every_syntax_error() {
    let text = r#"policy "x" version 2012-10-17 {
  allow kinesis:GetRecords kinesis:PutRecord on *;
  deny on *;
  allow kinesis:X on arn:aws:kinesis:us-east-1:111122223333:stream/a
  allow s3:GetObject on "unterminated;
  allow s3:* on * when aws:SourceIp IpAddress 10.0.0.0/8 ~ ;
  sid all allow s3:* on *;
  allow x:y on * when aws:x StringEquals a, and;
}
"#;
    assert_eq!(
        messages(text),
        [
            "2:28 IAM005 unexpected `kinesis:PutRecord`; expected `on`, `when`, `,` or `;`",
            "3:8 IAM005 unexpected `on`; expected `anyone`, `all`, `aws`, `service`, `federated`, `canonical-user` or a value",
            "5:3 IAM005 unexpected `allow`; expected `when`, `,` or `;`",
            "5:25 IAM005 unterminated string: a `\"` needs its closing `\"` on the same line",
            "6:58 IAM005 unexpected `~`; expected `and`, `,` or `;`",
            "7:7 IAM005 unexpected `all`; expected a value",
            "8:45 IAM005 unexpected `and`; expected a value",
        ]
    );
    let e = text_errors(text);
    assert_eq!(e[0].help.as_deref(), Some("separate values with `,`"));
    assert_eq!(
        e[1].help.as_deref(),
        Some("`on` is a reserved word; to use it as a value, quote it: \"on\"")
    );
    assert_eq!(e[2].help.as_deref(), Some("each statement ends with `;`"));
}

#[test]
fn syntax_errors_at_the_edges() {
    assert_eq!(
        messages(""),
        ["1:1 IAM005 unexpected end of input; expected `policy`"]
    );
    assert_eq!(
        messages("policy {\n  allow * on *;\n"),
        ["2:16 IAM005 unexpected end of input; expected `sid`, `allow`, `deny` or `}`"]
    );
    assert_eq!(
        messages("policy { allow * on *; } policy { }"),
        ["1:26 IAM005 unexpected `policy` after the end of the policy; a file holds one policy"]
    );
    assert_eq!(
        messages("policy { allow anyone except to * on *; }"),
        ["1:30 IAM005 unexpected `to`; expected `anyone`, `aws`, `service`, `federated` or `canonical-user`"]
    );
    assert_eq!(
        messages("policy { allow aws * kinesis:PutRecord on *; }"),
        ["1:22 IAM005 unexpected `kinesis:PutRecord`; expected `to` or `,`"]
    );
    assert_eq!(
        messages("policy { allow x:y when aws:x StringEquals; }"),
        ["1:43 IAM005 unexpected `;`; expected a value"]
    );
    assert_eq!(
        messages("policy { allow x:y on *; \u{a0} }"),
        ["1:26 IAM005 unexpected character U+00A0"]
    );
    assert_eq!(
        messages("policy { allow x:y on \"\\x\"; }"),
        ["1:23 IAM005 invalid string literal: invalid escape"]
    );
}

#[test]
fn value_errors_match_the_json_front_end() {
    // Each pair is one mistake in both forms: the same code, at the same JSON pointer.
    let cases: &[(&str, &str)] = &[
        (
            "policy version 2012-10-18 { allow x:y on *; }",
            r#"{"Version": "2012-10-18", "Statement": [{"Effect": "Allow", "Action": "x:y", "Resource": "*"}]}"#,
        ),
        (
            "policy { allow kinesis on *; }",
            r#"{"Statement": [{"Effect": "Allow", "Action": "kinesis", "Resource": "*"}]}"#,
        ),
        (
            "policy { allow x:y on stream/x; }",
            r#"{"Statement": [{"Effect": "Allow", "Action": "x:y", "Resource": "stream/x"}]}"#,
        ),
        (
            "policy { allow aws alice to x:y on *; }",
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "alice"}, "Action": "x:y", "Resource": "*"}]}"#,
        ),
        (
            "policy { allow aws arn:aws:iam::111122223333:user/* to x:y on *; }",
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/*"}, "Action": "x:y", "Resource": "*"}]}"#,
        ),
        (
            "policy { allow x:y on * when aws:x StringEqual a; }",
            r#"{"Statement": [{"Effect": "Allow", "Action": "x:y", "Resource": "*", "Condition": {"StringEqual": {"aws:x": "a"}}}]}"#,
        ),
        (
            "policy { allow x:y on * when aws:x NullIfExists true; }",
            r#"{"Statement": [{"Effect": "Allow", "Action": "x:y", "Resource": "*", "Condition": {"NullIfExists": {"aws:x": "true"}}}]}"#,
        ),
        (
            "policy { allow x:y on * when username StringEquals a; }",
            r#"{"Statement": [{"Effect": "Allow", "Action": "x:y", "Resource": "*", "Condition": {"StringEquals": {"username": "a"}}}]}"#,
        ),
        (
            "policy { allow x:y on * when aws:x NumericLessThan ten; }",
            r#"{"Statement": [{"Effect": "Allow", "Action": "x:y", "Resource": "*", "Condition": {"NumericLessThan": {"aws:x": "ten"}}}]}"#,
        ),
        (
            "policy { allow x:y on * when aws:x IpAddress 10.0.0.0/8, 10.0.0.0/33; }",
            r#"{"Statement": [{"Effect": "Allow", "Action": "x:y", "Resource": "*", "Condition": {"IpAddress": {"aws:x": ["10.0.0.0/8", "10.0.0.0/33"]}}}]}"#,
        ),
        (
            "policy { sid \"A\" allow x:y on *; sid \"A\" allow x:y on *; }",
            r#"{"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "x:y", "Resource": "*"}, {"Sid": "A", "Effect": "Allow", "Action": "x:y", "Resource": "*"}]}"#,
        ),
        (
            "policy { allow x:y on \"\u{263a}\"; }",
            "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"x:y\", \"Resource\": \"\u{263a}\"}]}",
        ),
    ];
    for (text, json) in cases {
        let from_text: Vec<(&str, String)> = text_errors(text)
            .into_iter()
            .map(|d| (d.code.as_str(), d.loc.pointer))
            .collect();
        let from_json: Vec<(&str, String)> = match parse_policy(json, &limits()) {
            Ok(_) => panic!("{json} parsed"),
            Err(e) => e
                .into_iter()
                .map(|d| (d.code.as_str(), d.loc.pointer))
                .collect(),
        };
        assert_eq!(from_text, from_json, "{text}");
    }
    // Positions are the text's own.
    let e = text_errors("policy {\n  allow aws alice\n    to x:y on *;\n}");
    assert_eq!((e[0].loc.line, e[0].loc.column), (2, 13));
    assert_eq!(e[0].code, "IAM021");
}

#[test]
fn a_condition_key_twice_under_one_operator_is_an_error() {
    let e = text_errors(
        "policy {\n  allow x:y on *\n    when aws:x StringEquals a\n    and aws:x StringEquals b\n    and aws:y NumericLessThan ten;\n}",
    );
    let got: Vec<(&str, u32, u32, &str)> = e
        .iter()
        .map(|d| {
            (
                d.code.as_str(),
                d.loc.line,
                d.loc.column,
                d.loc.pointer.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("IAM002", 4, 9, "/Statement/0/Condition/StringEquals/aws:x"),
            (
                "IAM025",
                5,
                31,
                "/Statement/0/Condition/NumericLessThan/aws:y"
            ),
        ]
    );
    assert_eq!(
        e[0].message,
        "condition key `aws:x` appears twice under `StringEquals` (first at line 3, column 10)"
    );
    // Under different operators it is fine.
    text_ok("policy { allow x:y on * when aws:x StringEquals a and aws:x StringLike b*; }");
}

#[test]
fn bounds_hold_for_text() {
    let small = Limits {
        max_document_bytes: 20,
        ..Limits::default()
    };
    let e = parse_text_policy("policy { allow x:y on *; }", &small).unwrap_err();
    assert_eq!(e[0].code, "IAM003");
    let few = Limits {
        max_list_items: 2,
        ..Limits::default()
    };
    let e = parse_text_policy("policy { allow a:b, a:c, a:d on *; }", &few).unwrap_err();
    assert_eq!(e[0].code, "IAM003");
}
