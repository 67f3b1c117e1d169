//! Tests of `policy`.

use super::*;
use crate::ast::Piece;
use crate::diag::Code;

fn parse(text: &str) -> Result<Policy, Vec<Diagnostic>> {
    parse_policy(text, &Limits::default())
}

fn ok(text: &str) -> Policy {
    match parse(text) {
        Ok(p) => p,
        Err(e) => unreachable!(
            "expected {text} to parse, got {}",
            e.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match parse(text) {
        Ok(p) => unreachable!("expected errors for {text}, got {p:?}"),
        Err(e) => e,
    }
}

/// A 2012 policy with one statement given as JSON members.
fn stmt(members: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{{members}}}]}}"#)
}

/// A statement with Effect/Action/Resource and extra members.
fn with(extra: &str) -> String {
    stmt(&format!(
        r#""Effect":"Allow","Action":"kinesis:PutRecord","Resource":"*",{extra}"#
    ))
}

fn assert_error(text: &str, code: Code, pointer: &str) {
    let e = errors(text);
    assert!(
        e.iter().any(|d| d.code == code && d.loc.pointer == pointer),
        "expected {code} at {pointer:?} for {text}, got:\n{}",
        e.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(e
        .iter()
        .all(|d| d.is_error() && d.loc.line > 0 || d.code == Code::BoundExceeded));
}

const BASE: &str = r#""Effect":"Allow","Action":"kinesis:PutRecord","Resource":"*""#;

#[test]
fn minimal_policies() {
    let p = ok(&stmt(BASE));
    assert_eq!(p.version, Version::V2012_10_17);
    assert!(!p.single_statement);
    assert_eq!(p.statements.len(), 1);
    let s = &p.statements[0];
    assert_eq!(s.effect, Effect::Allow);
    assert_eq!(s.loc.pointer, "/Statement/0");
    assert_eq!((s.loc.line, s.loc.column), (1, 38));
    assert_eq!(s.action.patterns[0].service.as_deref(), Some("kinesis"));
    assert!(s.action.patterns[0].matches("KINESIS:putrecord"));
    assert!(s.resource.as_ref().is_some_and(|r| r.patterns[0].is_star()));

    let text = r#"{"Statement":{"Effect":"Deny","NotAction":["s3:*"],"NotResource":["arn:aws:s3:::b"]}, "Id":"x"}"#;
    let p = ok(text);
    assert_eq!(p.version, Version::Absent);
    assert_eq!(p.id.as_deref(), Some("x"));
    assert!(p.single_statement);
    assert_eq!(p.source_bytes, text.len());
    let s = &p.statements[0];
    assert_eq!(s.loc.pointer, "/Statement");
    assert!(s.action.negated && s.resource.as_ref().is_some_and(|r| r.negated));
    assert_eq!(
        ok(&stmt(BASE).replace("2012", "2008")).version,
        Version::V2008_10_17
    );
}

#[test]
fn document_shape() {
    assert_error("[]", Code::WrongElementType, "");
    assert_error(r#"{"Version":"2012-10-17"}"#, Code::MissingStatement, "");
    assert_error(r#"{"Statement":[]}"#, Code::MissingStatement, "/Statement");
    assert_error(r#"{"Statement":"x"}"#, Code::WrongElementType, "/Statement");
    assert_error(
        r#"{"Statement":[1]}"#,
        Code::WrongElementType,
        "/Statement/0",
    );
    assert_error(
        &format!(r#"{{"Statement":[{{{BASE}}}],"Id":5}}"#),
        Code::WrongElementType,
        "/Id",
    );
    assert_error(
        &stmt(BASE).replace("2012-10-17", "2013-01-01"),
        Code::InvalidVersion,
        "/Version",
    );
    assert_error(
        &stmt(BASE).replace("\"2012-10-17\"", "2012"),
        Code::InvalidVersion,
        "/Version",
    );
}

#[test]
fn unknown_elements_with_suggestions() {
    let e = errors(&stmt(
        r#""Effect":"Allow","Actions":"kinesis:PutRecord","Resource":"*""#,
    ));
    let d = e.iter().find(|d| d.code == Code::UnknownElement);
    assert!(d.is_some_and(|d| d.loc.pointer == "/Statement/0/Actions"
        && d.message.contains("did you mean \"Action\"")));
    // Missing Action is reported too: all errors are collected.
    assert!(e
        .iter()
        .any(|d| d.code == Code::InvalidActionElement && d.loc.pointer == "/Statement/0"));
    let e = errors(&format!(
        r#"{{"Statment":[{{{BASE}}}],"Statement":[{{{BASE}}}]}}"#
    ));
    assert!(e.iter().any(|d| d.code == Code::UnknownElement
        && d.loc.pointer == "/Statment"
        && d.message.contains("\"Statement\"")));
    let e = errors(&stmt(
        r#""effect":"Allow","Action":"kinesis:PutRecord","Resource":"*""#,
    ));
    assert!(e
        .iter()
        .any(|d| d.code == Code::UnknownElement && d.message.contains("\"Effect\"")));
    assert!(e.iter().any(|d| d.code == Code::InvalidEffect));
    let e = errors(&with(r#""Frobnicate":1"#));
    assert!(e
        .iter()
        .any(|d| d.code == Code::UnknownElement && !d.message.contains("did you mean")));
    assert_eq!(suggest("Conditions", STATEMENT_ELEMENTS), Some("Condition"));
    assert_eq!(
        suggest("notresource", STATEMENT_ELEMENTS),
        Some("NotResource")
    );
}

#[test]
fn characters_outside_latin1_rejected() {
    assert_error(
        &with(r#""Sid":"caf\u2019""#),
        Code::InvalidCharacter,
        "/Statement/0/Sid",
    );
    assert_error(
        &with(r#""Condition":{"StringEquals":{"aws:username":["a","😀"]}}"#),
        Code::InvalidCharacter,
        "/Statement/0/Condition/StringEquals/aws:username/1",
    );
    assert_error(
        &with(r#""Condition":{"StringEquals":{"aws:user\u0001":"a"}}"#),
        Code::InvalidCharacter,
        "/Statement/0/Condition/StringEquals/aws:user\u{1}",
    );
    // Latin-1, TAB and newlines are fine.
    ok(&with(
        r#""Condition":{"StringEquals":{"aws:username":"café\tü\n"}}"#,
    ));
}

#[test]
fn sid_rules() {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"A",{BASE}}},{{"Sid":"B",{BASE}}},{{"Sid":"A",{BASE}}}]}}"#
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].code, e[0].loc.pointer.as_str()),
        (Code::DuplicateSid, "/Statement/2/Sid")
    );
    assert!(e[0].message.contains("/Statement/0/Sid"));
    assert_error(
        &with(r#""Sid":1"#),
        Code::WrongElementType,
        "/Statement/0/Sid",
    );
    assert_eq!(
        ok(&with(r#""Sid":"A b-c""#)).statements[0].sid.as_deref(),
        Some("A b-c")
    );
}

#[test]
fn effect_rules() {
    assert_error(
        &stmt(r#""Action":"kinesis:PutRecord","Resource":"*""#),
        Code::InvalidEffect,
        "/Statement/0",
    );
    let e = errors(&stmt(
        r#""Effect":"allow","Action":"kinesis:PutRecord","Resource":"*""#,
    ));
    assert!(e.iter().any(|d| d.code == Code::InvalidEffect
        && d.loc.pointer == "/Statement/0/Effect"
        && d.help
            .as_deref()
            .is_some_and(|h| h.contains("case-sensitive"))));
    assert_error(
        &stmt(r#""Effect":true,"Action":"kinesis:PutRecord","Resource":"*""#),
        Code::WrongElementType,
        "/Statement/0/Effect",
    );
    assert_eq!(
        ok(&stmt(&BASE.replace("Allow", "Deny"))).statements[0].effect,
        Effect::Deny
    );
}

#[test]
fn action_rules() {
    let s = |a: &str| stmt(&format!(r#""Effect":"Allow","Action":{a},"Resource":"*""#));
    assert_error(
        &s(r#"[]"#),
        Code::InvalidActionElement,
        "/Statement/0/Action",
    );
    assert_error(&s(r#"5"#), Code::WrongElementType, "/Statement/0/Action");
    assert_error(
        &s(r#"["kinesis:PutRecord", 5]"#),
        Code::WrongElementType,
        "/Statement/0/Action/1",
    );
    assert_error(
        &with(r#""NotAction":"s3:*""#),
        Code::InvalidActionElement,
        "/Statement/0/NotAction",
    );
    for bad in [
        "GetRecords",
        "kinesis:Put:Record",
        "kin*:PutRecord",
        "*:PutRecord",
        ":PutRecord",
        "kinesis:",
        "kinesis:PutRecord ",
        " kinesis:PutRecord",
        "s3:GetObject,PutObject",
        "kine_sis:PutRecord",
        "",
    ] {
        assert_error(
            &s(&format!(r#"["kinesis:GetRecords", "{bad}"]"#)),
            Code::InvalidAction,
            "/Statement/0/Action/1",
        );
    }
    let p = ok(&s(
        r#"["*", "Kinesis:Get*", "kinesis:Put?ecord", "execute-api:Invoke"]"#,
    ));
    let a = &p.statements[0].action.patterns;
    assert!(a[0].service.is_none() && a[0].name.is_none());
    assert_eq!(a[1].service.as_deref(), Some("kinesis"));
    assert!(a[1].matches("kinesis:GetRecords") && !a[1].matches("kinesis:PutRecord"));
    assert!(a[2].matches("kinesis:putrecord"));
    assert_eq!(a[3].raw, "execute-api:Invoke");
}

#[test]
fn resource_rules() {
    let s = |r: &str| {
        stmt(&format!(
            r#""Effect":"Allow","Action":"kinesis:PutRecord","Resource":{r}"#
        ))
    };
    assert_error(
        &s("[]"),
        Code::InvalidResourceElement,
        "/Statement/0/Resource",
    );
    assert_error(
        &with(r#""NotResource":"*""#),
        Code::InvalidResourceElement,
        "/Statement/0/NotResource",
    );
    assert_error(&s("{}"), Code::WrongElementType, "/Statement/0/Resource");
    for bad in [
        "stream/x",
        "ARN:aws:kinesis:us-east-1:1:stream/x",
        "arn:*",
        "arn:aws",
        "arn:awz:kinesis:us-east-1:111122223333:stream/x",
        "arn::kinesis:::x",
        "arn:aws:kin*:us-east-1:111122223333:stream/x",
        "arn:aws::us-east-1:111122223333:x",
        "arn:aws:kinesis:${aws:RequestedRegion}:111122223333:stream/x",
        "arn:aws:kinesis:us-east-1:${aws:PrincipalAccount}:stream/x",
    ] {
        assert_error(
            &s(&format!(r#"["*", "{bad}"]"#)),
            Code::InvalidResource,
            "/Statement/0/Resource/1",
        );
    }
    let p = ok(&s(
        r#"["arn:aws:s3:::bucket/${aws:username}/*", "arn:*:kinesis:*:*:*", "arn:aws-cn:sqs",
            "arn:a?s:kinesis:us-east-1:111122223333:stream/x"]"#,
    ));
    let r = match &p.statements[0].resource {
        Some(r) => &r.patterns,
        None => unreachable!("resource"),
    };
    assert!(r[0].template.has_variables());
    assert_eq!(r[0].raw, "arn:aws:s3:::bucket/${aws:username}/*");
    assert!(r[1].template.pieces().contains(&Piece::Star));
    // 2008: variables are literal, so a `${` anywhere is just text.
    let text =
        s(r#""arn:aws:kinesis:${x}:111122223333:stream/${aws:username}""#).replace("2012", "2008");
    let p = ok(&text);
    assert!(p.statements[0]
        .resource
        .as_ref()
        .is_some_and(|r| !r.patterns[0].template.has_variables()));
    // A missing Resource is accepted here; validate decides.
    assert!(
        ok(&stmt(r#""Effect":"Allow","Action":"kinesis:PutRecord""#)).statements[0]
            .resource
            .is_none()
    );
}

#[test]
fn principal_rules() {
    let p = |v: &str| with(&format!(r#""Principal":{v}"#));
    let first = |text: &str| match ok(text).statements[0].principal.clone() {
        Some(p) => p,
        None => unreachable!("principal"),
    };
    assert_eq!(first(&p(r#""*""#)).values, vec![PrincipalValue::Anyone]);
    assert_eq!(
        first(&p(r#"{"AWS":"*"}"#)).values,
        vec![PrincipalValue::Anyone]
    );
    let all = first(&p(
        r#"{"AWS":["111122223333","arn:aws:iam::111122223333:role/x","AROAEXAMPLEID123"],
            "Service":"kinesis.amazonaws.com","Federated":"accounts.google.com","CanonicalUser":"79a59df9"}"#,
    ));
    assert_eq!(all.values.len(), 6);
    assert!(!all.negated);
    assert_eq!(
        all.values[5],
        PrincipalValue::CanonicalUser("79a59df9".into())
    );
    let np = match ok(&with(r#""NotPrincipal":{"AWS":"111122223333"}"#)).statements[0]
        .principal
        .clone()
    {
        Some(p) => p,
        None => unreachable!("principal"),
    };
    assert!(np.negated);

    assert_error(
        &with(r#""Principal":"*","NotPrincipal":"*""#),
        Code::InvalidPrincipalElement,
        "/Statement/0/NotPrincipal",
    );
    assert_error(
        &p(r#""111122223333""#),
        Code::InvalidPrincipalElement,
        "/Statement/0/Principal",
    );
    assert_error(
        &p("{}"),
        Code::InvalidPrincipalElement,
        "/Statement/0/Principal",
    );
    assert_error(
        &p(r#"{"AWS":[]}"#),
        Code::InvalidPrincipalElement,
        "/Statement/0/Principal/AWS",
    );
    assert_error(&p("[]"), Code::WrongElementType, "/Statement/0/Principal");
    let e = errors(&p(r#"{"aws":"111122223333"}"#));
    assert!(e.iter().any(|d| d.code == Code::InvalidPrincipal
        && d.loc.pointer == "/Statement/0/Principal/aws"
        && d.message.contains("\"AWS\"")));
    assert_error(
        &p(r#"{"AWS":["111122223333","arn:aws:iam::111122223333:user/*"]}"#),
        Code::InvalidPrincipal,
        "/Statement/0/Principal/AWS/1",
    );
    assert_error(
        &p(r#"{"AWS":"1234"}"#),
        Code::InvalidPrincipal,
        "/Statement/0/Principal/AWS",
    );
    assert_error(
        &p(r#"{"AWS":"AIDA"}"#),
        Code::InvalidPrincipal,
        "/Statement/0/Principal/AWS",
    );
    assert_error(
        &p(r#"{"AWS":"alice"}"#),
        Code::InvalidPrincipal,
        "/Statement/0/Principal/AWS",
    );
    assert_error(
        &p(r#"{"Service":"*"}"#),
        Code::InvalidPrincipal,
        "/Statement/0/Principal/Service",
    );
}

#[test]
fn condition_shapes() {
    let c = |v: &str| with(&format!(r#""Condition":{v}"#));
    assert_error(
        &c("[]"),
        Code::InvalidConditionBlock,
        "/Statement/0/Condition",
    );
    assert_error(
        &c("null"),
        Code::InvalidConditionBlock,
        "/Statement/0/Condition",
    );
    assert_error(
        &c(r#"{"StringEquals":[{"aws:username":"a"}]}"#),
        Code::InvalidConditionBlock,
        "/Statement/0/Condition/StringEquals",
    );
    assert_error(
        &c(r#"{"StringEquals":{"aws:username":null}}"#),
        Code::InvalidConditionBlock,
        "/Statement/0/Condition/StringEquals/aws:username",
    );
    assert_error(
        &c(r#"{"StringEquals":{"aws:username":{"a":"b"}}}"#),
        Code::InvalidConditionBlock,
        "/Statement/0/Condition/StringEquals/aws:username",
    );
    assert_error(
        &c(r#"{"StringEquals":{"aws:username":[]}}"#),
        Code::InvalidConditionBlock,
        "/Statement/0/Condition/StringEquals/aws:username",
    );
    assert_error(
        &c(r#"{"StringEquals":{"aws:username":["a",["b"]]}}"#),
        Code::InvalidConditionBlock,
        "/Statement/0/Condition/StringEquals/aws:username/1",
    );
    assert_error(
        &c(r#"{"StringEqualz":{}}"#),
        Code::InvalidOperator,
        "/Statement/0/Condition/StringEqualz",
    );
    assert_error(
        &c(r#"{"stringequals":{"aws:username":"a"}}"#),
        Code::InvalidOperator,
        "/Statement/0/Condition/stringequals",
    );
    assert_error(
        &c(r#"{"NullIfExists":{"aws:username":"true"}}"#),
        Code::InvalidOperator,
        "/Statement/0/Condition/NullIfExists",
    );
    assert_error(
        &c(r#"{"StringEquals":{"username":"a"}}"#),
        Code::InvalidConditionKey,
        "/Statement/0/Condition/StringEquals/username",
    );
    assert_error(
        &c(r#"{"StringEquals":{"aws:":"a"}}"#),
        Code::InvalidConditionKey,
        "/Statement/0/Condition/StringEquals/aws:",
    );
    assert_error(
        &c(r#"{"StringEquals":{"a/b~c:d":1.5e}}"#),
        Code::InvalidJson,
        "/Statement/0/Condition/StringEquals/a~1b~0c:d",
    );
    assert_error(
        &c(r#"{"StringEquals":{"a/b~c":"x"}}"#),
        Code::InvalidConditionKey,
        "/Statement/0/Condition/StringEquals/a~1b~0c",
    );

    let p = ok(&c(
        r#"{"StringEquals":{"aws:PrincipalTag/Team":["a",10,true],"aws:username":"x"},
            "ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"t*"},"NumericLessThan":{"s3:max-keys":10.50}, "Bool":{}}"#,
    ));
    let conds = &p.statements[0].conditions;
    assert_eq!(conds.len(), 4);
    assert_eq!(conds[0].key, "aws:PrincipalTag/Team");
    assert_eq!(conds[0].key_lc, "aws:principaltag/team");
    assert_eq!(
        conds[0].loc.pointer,
        "/Statement/0/Condition/StringEquals/aws:PrincipalTag~1Team"
    );
    let raws: Vec<&str> = conds[0].values.iter().map(|v| v.raw.as_str()).collect();
    assert_eq!(raws, ["a", "10", "true"]);
    assert_eq!(conds[1].key, "aws:username");
    assert_eq!(conds[2].operator.name(), "ForAnyValue:StringLikeIfExists");
    assert_eq!(conds[3].values[0].raw, "10.50");
    assert!(matches!(conds[3].values[0].parsed, Parsed::Number(_)));
    // Duplicate condition keys are caught by the reader.
    assert_error(
        &c(r#"{"StringEquals":{"k:a":"x","k:a":"y"}}"#),
        Code::DuplicateKey,
        "/Statement/0/Condition/StringEquals/k:a",
    );
}

#[test]
fn condition_values_by_family() {
    let c = |op: &str, v: &str| with(&format!(r#""Condition":{{"{op}":{{"aws:k":{v}}}}}"#));
    let ptr = |op: &str| format!("/Statement/0/Condition/{op}/aws:k");
    let bad: &[(&str, &str)] = &[
        ("NumericEquals", r#""ten""#),
        ("NumericEquals", r#""${aws:x}""#),
        ("NumericEquals", "1e3"),
        ("DateGreaterThan", r#""next tuesday""#),
        ("DateLessThan", r#""2024-13-01""#),
        ("IpAddress", r#""10.0.0.0/33""#),
        ("NotIpAddress", r#""300.1.1.1""#),
        ("BinaryEquals", r#""!!""#),
        ("Null", r#""yes""#),
        ("Bool", r#""yes""#),
    ];
    for (op, v) in bad {
        assert_error(&c(op, v), Code::InvalidConditionValue, &ptr(op));
    }
    let e = errors(&c("NumericEquals", r#""${aws:x}""#));
    assert!(
        e[0].message
            .contains("policy variables are not allowed in Numeric conditions"),
        "{}",
        e[0]
    );
    assert_error(
        &c("IpAddress", r#"["10.0.0.0/8","x"]"#),
        Code::InvalidConditionValue,
        &format!("{}/1", ptr("IpAddress")),
    );

    let good: &[(&str, &str)] = &[
        ("NumericEquals", "10"),
        ("NumericGreaterThanEquals", r#""-1.25""#),
        ("DateGreaterThan", r#""2024-01-01T00:00:00Z""#),
        ("DateGreaterThan", "1704067200"),
        (
            "IpAddress",
            r#"["203.0.113.0/24","2001:DB8::/32","10.1.2.3"]"#,
        ),
        ("BinaryEquals", r#""QmluYXJ5""#),
        ("Null", "true"),
        ("Null", r#""FALSE""#),
        ("Bool", "false"),
        ("Bool", r#""True""#),
        ("Bool", r#""${aws:SecureTransport}""#),
        ("ArnLike", r#""arn:aws:iam::*:role/${aws:username}""#),
        ("StringNotEqualsIgnoreCase", r#""*""#),
    ];
    for (op, v) in good {
        ok(&c(op, v));
    }
    let p = ok(&c("Null", "true"));
    assert_eq!(
        p.statements[0].conditions[0].values[0].parsed,
        Parsed::Null(true)
    );
    // Templates follow the operator and the Version.
    let text = |op: &str, v: &str, ver: &str| {
        let p = ok(&c(op, v).replace("2012-10-17", ver));
        match &p.statements[0].conditions[0].values[0].parsed {
            Parsed::Text(t) => t.clone(),
            other => unreachable!("{other:?}"),
        }
    };
    let t = text("StringLike", r#""a*${aws:username}""#, "2012-10-17");
    assert!(t.has_variables() && t.pieces().contains(&Piece::Star));
    let t = text("StringEquals", r#""a*${aws:username}""#, "2012-10-17");
    assert!(t.has_variables() && !t.pieces().contains(&Piece::Star));
    let t = text("StringLike", r#""a*${aws:username}""#, "2008-10-17");
    assert!(!t.has_variables());
    // In 2008 a Bool value with `${` is plain text, so it must be a boolean.
    let e = errors(&c("Bool", r#""${aws:SecureTransport}""#).replace("2012-10-17", "2008-10-17"));
    assert_eq!(e[0].code, Code::InvalidConditionValue);
}

#[test]
fn bounds_are_errors() {
    let limits = Limits {
        max_statements: 2,
        max_list_items: 2,
        ..Limits::default()
    };
    let three = format!(r#"{{"Statement":[{{{BASE}}},{{{BASE}}},{{{BASE}}}]}}"#);
    let e = match parse_policy(&three, &limits) {
        Err(e) => e,
        Ok(_) => unreachable!("too many statements"),
    };
    assert!(e[0].code == Code::BoundExceeded && e[0].message.contains("max_statements = 2"));
    assert!(parse_policy(
        &format!(r#"{{"Statement":[{{{BASE}}},{{{BASE}}}]}}"#),
        &limits
    )
    .is_ok());
    for text in [
        stmt(r#""Effect":"Allow","Action":["a:b","a:c","a:d"],"Resource":"*""#),
        with(r#""Condition":{"StringEquals":{"a:b":["1","2","3"]}}"#),
        with(r#""Principal":{"AWS":["111122223333","111122223333","111122223333"]}"#),
    ] {
        let e = match parse_policy(&text, &limits) {
            Err(e) => e,
            Ok(_) => unreachable!("too many values"),
        };
        assert!(
            e[0].code == Code::BoundExceeded && e[0].message.contains("max_list_items = 2"),
            "{}",
            e[0]
        );
    }
    let node = match parse_json(&stmt(BASE), &Limits::default()) {
        Ok(n) => n,
        Err(d) => unreachable!("{d}"),
    };
    let small = Limits {
        max_document_bytes: 10,
        ..Limits::default()
    };
    assert!(policy_from_node(&node, 11, &small).is_err_and(|e| e[0].code == Code::BoundExceeded));
}

#[test]
fn embedded_policy_pointers_are_relative() {
    let file = format!(
        "{{\"policies\": [\n  {}\n]}}",
        stmt(r#""Effect":"Allow","Action":"x","Resource":"*""#)
    );
    let file_node = match parse_json(&file, &Limits::default()) {
        Ok(n) => n,
        Err(d) => unreachable!("{d}"),
    };
    let node = match file_node.get("policies").map(|p| &p.value) {
        Some(JsonValue::Array(items)) => &items[0],
        _ => unreachable!("array"),
    };
    let e = match policy_from_node(node, 100, &Limits::default()) {
        Err(e) => e,
        Ok(_) => unreachable!("bad action"),
    };
    assert_eq!(e[0].code, Code::InvalidAction);
    assert_eq!(e[0].loc.pointer, "/Statement/0/Action");
    assert_eq!(e[0].loc.line, 2);
}

#[test]
fn errors_are_collected_and_sorted() {
    let text = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"allow","Action":"x","Resource":"y"},
            {"Effect":"Allow","Action":"kinesis:PutRecord","Resource":"*","Condition":{"Nope":{}}}]}"#;
    let e = errors(text);
    let codes: Vec<&str> = e.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            Code::InvalidEffect,
            Code::InvalidAction,
            Code::InvalidResource,
            Code::InvalidOperator
        ]
    );
    assert!(e
        .windows(2)
        .all(|w| (w[0].loc.line, w[0].loc.column) <= (w[1].loc.line, w[1].loc.column)));
}
