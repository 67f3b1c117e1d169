//! Round trips: the conformance policies and examples through the text form, every operator
//! and principal form, and how the printed text reads.

use super::*;

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
    assert_eq!(n, 17);
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
