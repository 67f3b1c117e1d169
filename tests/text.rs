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

// ---------------------------------------------------------------------------------------------
// Round trips

#[test]
fn conformance_policies_round_trip() {
    let docs = corpus_documents();
    let mut parsed = 0;
    for (name, text) in &docs {
        // Invalid documents (broken JSON, duplicate keys...) have no AST to write.
        let Ok(policy) = parse_policy(text, &limits()) else {
            continue;
        };
        assert_round_trip(name, &policy);
        parsed += 1;
    }
    assert!(
        parsed >= 350,
        "only {parsed} of {} corpus documents parsed",
        docs.len()
    );
}

#[test]
fn examples_in_text_form_match_their_json() {
    let json_dir = examples_dir().join("policies");
    let text_dir = examples_dir().join("text");
    let mut n = 0;
    for f in json_files(&json_dir) {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let text_file = text_dir.join(format!("{stem}.iam"));
        let text = std::fs::read_to_string(&text_file)
            .unwrap_or_else(|e| panic!("{}: {e}", text_file.display()));
        let from_json = json_ok(&std::fs::read_to_string(&f).unwrap());
        let from_text = text_ok(&text);
        assert_eq!(strip(&from_text), strip(&from_json), "{stem}");
        assert_eq!(
            format_as_text(&text, &limits()).unwrap(),
            text,
            "{} is not formatted",
            text_file.display()
        );
        assert_round_trip(&stem, &from_json);
        n += 1;
    }
    assert_eq!(n, 15);
}

#[test]
fn every_operator_and_principal_form_round_trips() {
    let mut conditions = serde_json::Map::new();
    let value_for = |base: &str| -> Value {
        match base {
            b if b.starts_with("Numeric") => json!(["10", 1.5, -3]),
            b if b.starts_with("Date") => json!(["2024-01-01T00:00:00Z", 1704067200]),
            "Bool" => json!([true, "false"]),
            "BinaryEquals" => json!("QmluYXJ5"),
            "IpAddress" | "NotIpAddress" => json!(["203.0.113.0/24", "2001:DB8::/32"]),
            b if b.starts_with("Arn") => json!("arn:aws:iam::*:role/${aws:username}"),
            "Null" => json!("true"),
            _ => json!(["a*", "${aws:username}", "on", "a b, c; d", ""]),
        }
    };
    for base in iamc::ast::OperatorBase::ALL {
        let name = base.name();
        let mut names = vec![name.to_string()];
        if name != "Null" {
            names.push(format!("{name}IfExists"));
            names.push(format!("ForAllValues:{name}"));
            names.push(format!("ForAnyValue:{name}IfExists"));
        }
        for n in names {
            conditions.insert(
                n,
                json!({ "aws:TagKeys": value_for(name), "k:b": value_for(name) }),
            );
        }
    }
    let doc = json!({
        "Version": "2012-10-17",
        "Id": "every form",
        "Statement": [
            {"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
             "Condition": conditions},
            {"Effect": "Deny", "NotPrincipal": {"AWS": ["111122223333", "*"],
                "Service": "kinesis.amazonaws.com", "Federated": "accounts.google.com",
                "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
             "NotAction": ["kinesis:Get*", "s3:?et*"],
             "NotResource": ["arn:aws:s3:::b/${aws:username}/*", "arn:aws:kinesis:*:*:stream/a"]},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kinesis:PutRecord"},
            {"Effect": "Deny", "NotPrincipal": "*", "Action": "kinesis:PutRecord", "Resource": "*"}
        ]
    });
    let policy = json_ok(&doc.to_string());
    assert_round_trip("every form", &policy);
    // The old language: `${...}` is literal text.
    let old = json_ok(&doc.to_string().replace("2012-10-17", "2008-10-17"));
    assert_round_trip("2008", &old);
    // No Version.
    let mut none = doc.clone();
    none.as_object_mut().unwrap().remove("Version");
    assert_round_trip("no version", &json_ok(&none.to_string()));
}

#[test]
fn text_reads_as_its_json() {
    let text = r#"
        // Kinesis readers.
        policy "readers" version 2012-10-17 {
          sid "Read"
          allow kinesis:Get*, kinesis:DescribeStreamSummary
            on arn:aws:kinesis:us-east-1:111122223333:stream/stream1;

          deny anyone except aws 111122223333, aws arn:aws:iam::111122223333:role/admin
            to all except kinesis:Describe*
            on all except arn:aws:kinesis:us-east-1:111122223333:stream/public
            when aws:SourceIp NotIpAddress 203.0.113.0/24, 2001:DB8::/32
            and aws:PrincipalTag/team ForAnyValue:StringNotEqualsIgnoreCase "on call", ops
            and aws:CurrentTime DateGreaterThanIfExists 2024-01-01T00:00:00Z;

          allow service kinesis.amazonaws.com, aws 111122223333, anyone to kinesis:PutRecord;
        }
    "#;
    let json = r#"{"Version": "2012-10-17", "Id": "readers", "Statement": [
        {"Sid": "Read", "Effect": "Allow",
         "Action": ["kinesis:Get*", "kinesis:DescribeStreamSummary"],
         "Resource": "arn:aws:kinesis:us-east-1:111122223333:stream/stream1"},
        {"Effect": "Deny",
         "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/admin"]},
         "NotAction": "kinesis:Describe*",
         "NotResource": "arn:aws:kinesis:us-east-1:111122223333:stream/public",
         "Condition": {
            "NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8::/32"]},
            "ForAnyValue:StringNotEqualsIgnoreCase": {"aws:PrincipalTag/team": ["on call", "ops"]},
            "DateGreaterThanIfExists": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}},
        {"Effect": "Allow", "Principal": {"Service": "kinesis.amazonaws.com",
         "AWS": ["111122223333", "*"]}, "Action": "kinesis:PutRecord"}]}"#;
    assert_eq!(strip(&text_ok(text)), strip(&json_ok(json)));
    // parse_policy_any picks the form by the first character.
    assert_eq!(
        strip(&parse_policy_any(text, &limits()).unwrap()),
        strip(&parse_policy_any(json, &limits()).unwrap())
    );
    // Statement locations are in the text.
    let p = text_ok(text);
    assert_eq!(p.statements[1].loc.line, 8);
    assert_eq!(p.statements[1].loc.pointer, "/Statement/1");
}

#[test]
fn the_text_of_a_policy_reads_naturally() {
    let json = r#"{"Version": "2012-10-17", "Id": "read-stream1", "Statement": [
        {"Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:DescribeStreamSummary"],
         "Resource": "arn:aws:kinesis:us-east-1:111122223333:stream/stream1"},
        {"Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*"},
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "210987654321"},
         "Action": "kinesis:PutRecord",
         "Resource": "arn:aws:kinesis:us-east-2:123456789012:stream/datastreamABC",
         "Condition": {"Bool": {"aws:SecureTransport": true},
                       "StringEquals": {"aws:PrincipalTag/team": ["analytics", "ops"]}}}]}"#;
    let expected = r#"policy "read-stream1" version 2012-10-17 {
  allow kinesis:Get*, kinesis:DescribeStreamSummary
    on arn:aws:kinesis:us-east-1:111122223333:stream/stream1;

  allow kinesis:ListStreams on *;

  sid "Partner"
  allow aws 210987654321
    to kinesis:PutRecord
    on arn:aws:kinesis:us-east-2:123456789012:stream/datastreamABC
    when aws:SecureTransport Bool true
    and aws:PrincipalTag/team StringEquals analytics, ops;
}
"#;
    assert_eq!(policy_to_text(&json_ok(json)), expected);
}

#[test]
fn long_lists_break_one_value_per_line() {
    let actions: Vec<String> = (0..12).map(|i| format!("kinesis:Action{i}")).collect();
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]});
    let text = policy_to_text(&json_ok(&doc.to_string()));
    assert!(text.starts_with(
        "policy version 2012-10-17 {\n  allow kinesis:Action0,\n        kinesis:Action1,\n"
    ));
    assert!(
        text.contains("        kinesis:Action11\n    on *;\n"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 100));
}

// ---------------------------------------------------------------------------------------------
// Formatting and comments

#[test]
fn fmt_keeps_comments_and_is_idempotent() {
    let source = r#"// Readers of stream1.
/* Owned by
   the analytics team. */
policy "read-stream1" version 2012-10-17 { // header
  // The readers.
  sid "Read" // why
  allow kinesis:Get*, // all reads
    kinesis:DescribeStreamSummary
    on arn:aws:kinesis:us-east-1:111122223333:stream/stream1; // end
  // Listing.
  allow kinesis:ListStreams
  on *;   // short
  allow aws 111122223333, service kinesis.amazonaws.com, aws arn:aws:iam::111122223333:role/x to kinesis:PutRecord on * when
     // only from the VPC
     aws:SourceVpc StringEquals vpc-1 and aws:SecureTransport Bool true and aws:SourceVpce StringEquals "vpce 1", /* second */ vpce-2;
  // before close
} // close
// after
"#;
    let expected = r#"// Readers of stream1.
/* Owned by
   the analytics team. */
policy "read-stream1" version 2012-10-17 { // header
  // The readers.
  sid "Read" // why
  allow kinesis:Get*, // all reads
        kinesis:DescribeStreamSummary
    on arn:aws:kinesis:us-east-1:111122223333:stream/stream1; // end

  // Listing.
  allow kinesis:ListStreams on *; // short

  allow aws 111122223333, aws arn:aws:iam::111122223333:role/x, service kinesis.amazonaws.com
    to kinesis:PutRecord
    on *
    // only from the VPC
    when aws:SourceVpc StringEquals vpc-1
    and aws:SourceVpce StringEquals "vpce 1", /* second */
                                    vpce-2
    and aws:SecureTransport Bool true;

  // before close
} // close
// after
"#;
    let formatted = format_as_text(source, &limits()).unwrap();
    assert_eq!(formatted, expected);
    assert_eq!(format_as_text(&formatted, &limits()).unwrap(), formatted);
    // Comments change nothing in the AST, and are dropped in JSON.
    let json = format_as_json(source, &limits()).unwrap();
    assert!(!json.contains("//") && !json.contains("/*"));
    assert_eq!(strip(&text_ok(source)), strip(&json_ok(&json)));
    // The JSON converts back to the same text, less the comments.
    let back = format_as_text(&json, &limits()).unwrap();
    assert_eq!(
        back,
        r#"policy "read-stream1" version 2012-10-17 {
  sid "Read"
  allow kinesis:Get*, kinesis:DescribeStreamSummary
    on arn:aws:kinesis:us-east-1:111122223333:stream/stream1;

  allow kinesis:ListStreams on *;

  allow aws 111122223333, aws arn:aws:iam::111122223333:role/x, service kinesis.amazonaws.com
    to kinesis:PutRecord
    on *
    when aws:SourceVpc StringEquals vpc-1
    and aws:SourceVpce StringEquals "vpce 1", vpce-2
    and aws:SecureTransport Bool true;
}
"#
    );
}

#[test]
fn fmt_converts_json_to_text_and_back() {
    let json_text =
        std::fs::read_to_string(examples_dir().join("policies/datastreamABC-stream-policy.json"))
            .unwrap();
    let text = format_as_text(&json_text, &limits()).unwrap();
    assert!(text.starts_with("policy \"datastreamABC_sharing\" version 2012-10-17 {\n"));
    let json = format_as_json(&text, &limits()).unwrap();
    assert_eq!(strip(&json_ok(&json)), strip(&json_ok(&json_text)));
    // JSON -> JSON lays the document out again; doing it twice changes nothing.
    let again = format_as_json(&json, &limits()).unwrap();
    assert_eq!(again, json);
}

#[test]
fn fmt_refuses_invalid_policies() {
    let e = format_as_text("policy { allow kinesis on *; }", &limits()).unwrap_err();
    assert_eq!(e[0].code, "IAM017");
    let e = format_as_json("policy { allow ", &limits()).unwrap_err();
    assert_eq!(e[0].code, "IAM005");
}

// ---------------------------------------------------------------------------------------------
// The lexer

/// Asserts the tokens of `source`: (token or error, slice, span), then the end.
fn assert_lex(source: &str, expected: &[(Result<Token, LexError>, &str, std::ops::Range<usize>)]) {
    let mut lex = Token::lexer(source);
    for (token, slice, span) in expected {
        assert_eq!(
            lex.next().as_ref(),
            Some(token),
            "token at {span:?} in {source:?}"
        );
        assert_eq!(lex.slice(), *slice);
        assert_eq!(lex.span(), *span);
    }
    assert_eq!(lex.next(), None, "more tokens in {source:?}");
}

fn w(s: &str) -> Result<Token, LexError> {
    Ok(Token::Word(s.to_string()))
}

#[test]
fn lexer_words_keywords_and_strings() {
    assert_lex(
        "allow kinesis:Get*, x on arn:aws:s3:::b/*;",
        &[
            (Ok(Token::Allow), "allow", 0..5),
            (w("kinesis:Get*"), "kinesis:Get*", 6..18),
            (Ok(Token::Comma), ",", 18..19),
            (w("x"), "x", 20..21),
            (Ok(Token::On), "on", 22..24),
            (w("arn:aws:s3:::b/*"), "arn:aws:s3:::b/*", 25..41),
            (Ok(Token::Semi), ";", 41..42),
        ],
    );
    // Keywords are whole words only; a word may hold `${...}`, `//` and `/*`.
    assert_lex(
        "once policy-x canonical-user arn:aws:s3:::${aws:username}/a//b/*c",
        &[
            (w("once"), "once", 0..4),
            (w("policy-x"), "policy-x", 5..13),
            (Ok(Token::CanonicalUser), "canonical-user", 14..28),
            (
                w("arn:aws:s3:::${aws:username}/a//b/*c"),
                "arn:aws:s3:::${aws:username}/a//b/*c",
                29..65,
            ),
        ],
    );
    // Strings are JSON string literals.
    assert_lex(
        r#""on" "a \"b\"\t\u00e9" """#,
        &[
            (Ok(Token::Str("on".into())), r#""on""#, 0..4),
            (
                Ok(Token::Str("a \"b\"\t\u{e9}".into())),
                r#""a \"b\"\t\u00e9""#,
                5..22,
            ),
            (Ok(Token::Str(String::new())), r#""""#, 23..25),
        ],
    );
    // Comments start at a token boundary.
    assert_lex(
        "a // c\n/* d\n e */ b/c",
        &[
            (w("a"), "a", 0..1),
            (Ok(Token::LineComment), "// c", 2..6),
            (Ok(Token::BlockComment), "/* d\n e */", 7..17),
            (w("b/c"), "b/c", 18..21),
        ],
    );
}

#[test]
fn lexer_errors() {
    assert_lex(
        "\"abc\nx",
        &[
            (Err(LexError::UnterminatedString), "\"abc", 0..4),
            (w("x"), "x", 5..6),
        ],
    );
    assert_lex(
        "a /* b",
        &[
            (w("a"), "a", 0..1),
            (Err(LexError::UnterminatedComment), "/* b", 2..6),
        ],
    );
    assert_lex(
        r#""\q""#,
        &[(
            Err(LexError::BadString("invalid escape".into())),
            r#""\q""#,
            0..4,
        )],
    );
    assert_lex(
        "/ x",
        &[
            (Err(LexError::Unexpected('/')), "/", 0..1),
            (w("x"), "x", 2..3),
        ],
    );
    assert_eq!(
        LexError::Unexpected('\u{a0}').to_string(),
        "unexpected character U+00A0"
    );
}

#[test]
fn bare_words_and_quoting() {
    for bare in [
        "kinesis:Get*",
        "arn:aws:s3:::b/${aws:username}/*",
        "2001:DB8::/32",
        "2024-01-01T00:00:00Z",
        "-1.5",
        "true",
        "/home/*",
        "x//y",
        "$",
        "é",
    ] {
        assert!(is_bare_word(bare), "{bare} should be bare");
        assert_eq!(text_value(bare), bare);
    }
    for quoted in [
        "",
        "on",
        "all",
        "canonical-user",
        "a b",
        "a,b",
        "a;b",
        "{",
        "}",
        "\"",
        "//x",
        "/*x",
        "/",
        "${aws:username, 'x'}",
        "a${b",
        "tab\t",
        "new\nline",
    ] {
        assert!(!is_bare_word(quoted), "{quoted:?} should be quoted");
        assert_eq!(text_value(quoted), quote(quoted));
    }
}

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

// ---------------------------------------------------------------------------------------------
// Generated policies

/// Strings of the characters IAM accepts, weighted towards the ones the text form must quote.
fn any_string() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("on".to_string()),
        Just("all".to_string()),
        Just("anyone".to_string()),
        Just(" ".to_string()),
        Just(",".to_string()),
        Just(";".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("${aws:username}".to_string()),
        Just("${x, 'd'}".to_string()),
        Just("$".to_string()),
        Just("//".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("é".to_string()),
        Just("ÿ".to_string()),
        "[a-zA-Z0-9:/*?._-]{1,6}",
    ];
    prop::collection::vec(pieces, 0..5).prop_map(|v| v.concat())
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        ("[a-z][a-z0-9-]{0,8}", "[A-Za-z*?]{1,12}").prop_map(|(s, n)| format!("{s}:{n}")),
    ]
}

fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        (
            prop::sample::select(vec!["aws", "aws-cn", "a*"]),
            "[a-z0-9-]{1,8}",
            "[a-z0-9*-]{0,10}",
            "[0-9*]{0,12}",
            any_string(),
        )
            .prop_map(|(p, s, r, a, rest)| format!("arn:{p}:{s}:{r}:{a}:{rest}")),
    ]
}

fn principal() -> impl Strategy<Value = Value> {
    let aws = prop_oneof![
        Just("*".to_string()),
        "[0-9]{12}",
        "[0-9]{12}".prop_map(|a| format!("arn:aws:iam::{a}:role/r")),
        "[A-Z0-9]{8}".prop_map(|u| format!("AROA{u}")),
    ];
    let text = || "[a-z][a-z0-9.-]{0,12}";
    prop_oneof![
        Just(json!("*")),
        (
            prop::collection::vec(aws, 0..3),
            prop::collection::vec(text(), 0..2),
            prop::collection::vec(text(), 0..2),
            prop::collection::vec("[0-9a-f]{8}", 0..2),
        )
            .prop_filter_map("at least one principal", |(a, s, f, c)| {
                let mut m = serde_json::Map::new();
                for (k, v) in [
                    ("AWS", a),
                    ("Service", s),
                    ("Federated", f),
                    ("CanonicalUser", c),
                ] {
                    match v.len() {
                        0 => {}
                        1 => {
                            m.insert(k.into(), json!(v[0]));
                        }
                        _ => {
                            m.insert(k.into(), json!(v));
                        }
                    }
                }
                (!m.is_empty()).then_some(Value::Object(m))
            }),
    ]
}

fn condition_values(base: &'static str) -> BoxedStrategy<Vec<Value>> {
    let one: BoxedStrategy<Value> = match base {
        b if b.starts_with("Numeric") => prop_oneof![
            (-1000i64..1000).prop_map(|n| json!(n)),
            "-?[0-9]{1,4}(\\.[0-9]{1,2})?".prop_map(|s| json!(s)),
        ]
        .boxed(),
        b if b.starts_with("Date") => prop_oneof![
            (0u32..2_000_000_000).prop_map(|n| json!(n)),
            Just(json!("2024-01-01T00:00:00Z")),
            Just(json!("2020-02-29")),
        ]
        .boxed(),
        "Bool" => prop_oneof![
            Just(json!(true)),
            Just(json!("false")),
            Just(json!("${aws:x}"))
        ]
        .boxed(),
        "Null" => prop_oneof![Just(json!(true)), Just(json!("false"))].boxed(),
        "BinaryEquals" => "[A-Za-z0-9+/]{4}".prop_map(|s| json!(s)).boxed(),
        "IpAddress" | "NotIpAddress" => prop_oneof![
            Just(json!("203.0.113.0/24")),
            Just(json!("10.1.2.3")),
            Just(json!("2001:DB8::/32")),
        ]
        .boxed(),
        _ => any_string().prop_map(|s| json!(s)).boxed(),
    };
    prop::collection::vec(one, 1..4).boxed()
}

fn condition() -> impl Strategy<Value = (String, String, Vec<Value>)> {
    let bases: Vec<&'static str> = iamc::ast::OperatorBase::ALL
        .iter()
        .map(|b| b.name())
        .collect();
    (
        prop::sample::select(bases),
        0..3usize,
        any::<bool>(),
        prop_oneof![
            Just("aws:username".to_string()),
            Just("aws:PrincipalTag/team".to_string()),
            "[a-z]{1,4}:[A-Za-z/ .,;{}\"]{1,8}",
        ],
    )
        .prop_flat_map(|(base, q, if_exists, key)| {
            let mut name = String::new();
            if base != "Null" {
                name.push_str(["", "ForAllValues:", "ForAnyValue:"][q]);
            }
            name.push_str(base);
            if base != "Null" && if_exists {
                name.push_str("IfExists");
            }
            (Just(name), Just(key), condition_values(base))
        })
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[A-Za-z0-9]{1,8}"),
        any::<bool>(),
        prop::option::of((any::<bool>(), principal())),
        (any::<bool>(), prop::collection::vec(action(), 1..4)),
        prop::option::of((any::<bool>(), prop::collection::vec(resource(), 1..3))),
        prop::collection::vec(condition(), 0..4),
    )
        .prop_map(|(sid, allow, principal, actions, resources, conditions)| {
            let mut m = serde_json::Map::new();
            if let Some(s) = sid {
                m.insert("Sid".into(), json!(s));
            }
            m.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
            if let Some((not, p)) = principal {
                m.insert(if not { "NotPrincipal" } else { "Principal" }.into(), p);
            }
            let one_or_many = |v: Vec<String>| {
                if v.len() == 1 {
                    json!(v[0])
                } else {
                    json!(v)
                }
            };
            let (not, a) = actions;
            m.insert(
                if not { "NotAction" } else { "Action" }.into(),
                one_or_many(a),
            );
            if let Some((not, r)) = resources {
                m.insert(
                    if not { "NotResource" } else { "Resource" }.into(),
                    one_or_many(r),
                );
            }
            if !conditions.is_empty() {
                let mut ops = serde_json::Map::new();
                for (op, key, values) in conditions {
                    let entry = ops.entry(op).or_insert_with(|| json!({}));
                    if let Some(keys) = entry.as_object_mut() {
                        keys.entry(key).or_insert_with(|| {
                            if values.len() == 1 {
                                values[0].clone()
                            } else {
                                Value::Array(values)
                            }
                        });
                    }
                }
                m.insert("Condition".into(), Value::Object(ops));
            }
            Value::Object(m)
        })
}

fn policy() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![Some("2012-10-17"), Some("2008-10-17"), None]),
        prop::option::of(any_string()),
        prop::collection::vec(statement(), 1..4),
        any::<bool>(),
    )
        .prop_map(|(version, id, statements, single)| {
            let mut m = serde_json::Map::new();
            if let Some(v) = version {
                m.insert("Version".into(), json!(v));
            }
            if let Some(id) = id {
                m.insert("Id".into(), json!(id));
            }
            let statements = if single && statements.len() == 1 {
                statements[0].clone()
            } else {
                Value::Array(statements)
            };
            m.insert("Statement".into(), statements);
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_round_trip(doc in policy()) {
        let text = serde_json::to_string_pretty(&doc).unwrap();
        // A few generated documents are invalid (`${aws:x}` in a Bool of a 2008 policy): they
        // have no AST.
        if let Ok(policy) = parse_policy(&text, &limits()) {
            assert_round_trip(&text, &policy);
        }
    }

    #[test]
    fn any_string_is_written_so_that_it_reads_back(s in any_string()) {
        let written = text_value(&s);
        let mut lex = Token::lexer(&written);
        let token = lex.next();
        prop_assert!(lex.next().is_none(), "{written} is more than one token");
        match token {
            Some(Ok(Token::Word(w))) | Some(Ok(Token::Str(w))) => prop_assert_eq!(w, s),
            other => prop_assert!(false, "{written} lexes as {other:?}"),
        }
    }

    #[test]
    fn the_parser_never_panics(words in prop::collection::vec(prop_oneof![
        Just("policy"), Just("{"), Just("}"), Just(";"), Just(","), Just("allow"), Just("deny"),
        Just("sid"), Just("anyone"), Just("except"), Just("all"), Just("to"), Just("on"),
        Just("when"), Just("and"), Just("aws"), Just("x:y"), Just("*"), Just("\"s\""),
        Just("\"open"), Just("/*"), Just("//"), Just("\n"), Just("version"),
        Just("2012-10-17"), Just("StringEquals"), Just("aws:k"),
    ], 0..40)) {
        let text = words.join(" ");
        if let Err(e) = parse_text_policy(&text, &limits()) {
            prop_assert!(!e.is_empty());
            prop_assert!(e.iter().all(|d| d.loc.line >= 1 && d.loc.column >= 1));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `iamc fmt`, run for real

fn iamc() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("iamc").unwrap()
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn cli_fmt_converts_json_to_text_and_text_to_json() {
    let json = examples_dir().join("policies/datastreamABC-stream-policy.json");
    let text = examples_dir().join("text/datastreamABC-stream-policy.iam");
    let out = iamc().arg("fmt").arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // The bundled text form is the same, plus its opening comment.
    let bundled = std::fs::read_to_string(&text).unwrap();
    let uncommented: String = bundled
        .lines()
        .filter(|l| !l.starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(stdout_of(&out), uncommented);

    let out = iamc()
        .args(["fmt", "--to", "json"])
        .arg(&text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let back = json_ok(&stdout_of(&out));
    assert_eq!(
        strip(&back),
        strip(&json_ok(&std::fs::read_to_string(&json).unwrap()))
    );

    // Standard input, either form.
    let out = iamc()
        .args(["fmt", "-"])
        .write_stdin("policy version 2012-10-17 { allow kinesis:ListStreams\n on * ; }")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout_of(&out),
        "policy version 2012-10-17 {\n  allow kinesis:ListStreams on *;\n}\n"
    );
}

#[test]
fn cli_fmt_check() {
    // The bundled text policies are formatted.
    let out = iamc()
        .args(["fmt", "--check"])
        .arg(examples_dir().join("text"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    assert!(stdout_of(&out).is_empty());

    let messy = tmp("messy.iam", "policy {\n allow   x:y on *;}\n");
    let tidy = tmp("tidy.iam", "policy {\n  allow x:y on *;\n}\n");
    let out = iamc()
        .args(["fmt", "--check"])
        .arg(&messy)
        .arg(&tidy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout_of(&out),
        format!(
            "{}: not formatted (first difference at line 2)\n",
            messy.display()
        )
    );
    // A JSON file is checked against the JSON layout, unless --to says otherwise.
    let json = tmp(
        "p.json",
        &policy_to_json(&text_ok("policy { allow x:y on *; }")),
    );
    let out = iamc().args(["fmt", "--check"]).arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let out = iamc()
        .args(["fmt", "--check", "--to", "text"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    // --write formats in place.
    let out = iamc()
        .args(["fmt", "--write"])
        .arg(&messy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "policy {\n  allow x:y on *;\n}\n"
    );
}

#[test]
fn cli_fmt_errors_and_exit_codes() {
    let bad = tmp(
        "bad.iam",
        "policy {\n  allow x:y on *\n  deny kinesis on *;\n  allow on *;\n}\n",
    );
    let out = iamc().arg("fmt").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    let name = bad.display().to_string();
    assert!(
        err.contains(&format!(
            "{name}:3:3: error[IAM005]: unexpected `deny`; expected `when`, `,` or `;`\n  help: each statement ends with `;`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:4:9: error[IAM005]: unexpected `on`")),
        "{err}"
    );
    // Value errors come with the JSON pointer they stand for.
    let bad = tmp("bad-value.iam", "policy {\n  allow kinesis on *;\n}\n");
    let out = iamc().arg("fmt").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains(":2:9: error[IAM017]: action \"kinesis\" has no service prefix"),
        "{}",
        stderr_of(&out)
    );
    assert!(stderr_of(&out).contains("(at /Statement/0/Action)"));

    // Bad arguments and unreadable files: 2.
    let out = iamc()
        .args(["fmt", "--to", "yaml", "x.iam"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("--to takes `text` or `json`, not `yaml`"));
    let out = iamc().args(["fmt", "no/such/file.iam"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no/such/file.iam: cannot read"));
    let json = tmp(
        "w.json",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"x:y\"}}",
    );
    let out = iamc()
        .args(["fmt", "--write", "--to", "text"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
