//! Loading a store: the folder form and file references, bounds, and every error with its
//! pointer and line.

use super::*;

#[test]
fn folder_form_with_file_references() {
    let dir = TempDir::new("folder");
    dir.write(
        "store.json",
        r#"{
  "version": 1,
  "policies": {
    "Boundary": { "type": "boundary", "file": "policies/boundary.json" }
  },
  "accounts": { "111122223333": { "users": { "alice": {
    "boundary": "Boundary",
    "inline": { "put": { "file": "policies/put.json" } } } } } },
  "resources": {
    "arn:aws:kinesis:us-east-2:111122223333:stream/orders": { "policy": { "file": "policies/orders.json" } }
  }
}"#,
    );
    dir.write("policies/boundary.json", DOC);
    dir.write("policies/put.json", DOC);
    dir.write(
        "policies/orders.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},
            "Action":"kinesis:PutRecord",
            "Resource":"arn:aws:kinesis:us-east-2:111122223333:stream/orders"}]}"#,
    );
    for path in [dir.0.clone(), dir.0.join("store.json")] {
        let s = match Store::load(&path) {
            Ok(s) => s,
            Err(e) => unreachable!("{}: {}", path.display(), show(&e)),
        };
        let inputs = s.inputs_for(&request(
            "arn:aws:iam::111122223333:user/alice",
            "kinesis:PutRecord",
            STREAM,
        ));
        assert_eq!(ids(&inputs.identity), ["user/alice/inline/put"]);
        assert_eq!(
            inputs.boundary.as_ref().map(|b| b.id.as_ref()),
            Some("policy/Boundary")
        );
        assert!(inputs
            .side(STREAM)
            .and_then(|r| r.policy.as_ref())
            .is_some());
        assert_eq!(s.stats().policies, 3);
    }

    // A broken policy file: the error names the file, points through the `file` member,
    // and has the line in that file.
    dir.write(
        "policies/put.json",
        "{\"Version\":\"2012-10-17\",\n\"Statement\":[\n  {\"Effect\":\"allow\",\"Action\":\"kinesis:PutRecord\",\"Resource\":\"*\"}]}",
    );
    let e = match Store::load(&dir.0) {
        Ok(_) => unreachable!("a broken file loaded"),
        Err(e) => e,
    };
    let d = find(&e, Code::InvalidEffect);
    assert!(d.message.starts_with("policies/put.json: "), "{d}");
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/inline/put/file/Statement/0/Effect"
    );
    assert_eq!(d.loc.line, 3);

    // A missing file: the error names its path.
    std::fs::remove_file(dir.0.join("policies/boundary.json")).unwrap();
    dir.write("policies/put.json", DOC);
    let e = match Store::load(&dir.0) {
        Ok(_) => unreachable!("a missing file loaded"),
        Err(e) => e,
    };
    let d = find(&e, Code::StoreFileUnreadable);
    assert!(d.message.contains("policies/boundary.json"), "{d}");
    assert_eq!(d.loc.pointer, "/policies/Boundary/file");
    assert_eq!(d.loc.line, 4);
    // The boundary is invalid, so `"boundary": "Boundary"` adds no second error.
    assert_eq!(e.iter().filter(|d| d.is_error()).count(), 1, "{}", show(&e));

    // A missing store.
    let e = match Store::load(&dir.0.join("nope.json")) {
        Ok(_) => unreachable!(),
        Err(e) => e,
    };
    assert_eq!(e[0].code, Code::StoreFileUnreadable);
    assert!(e[0].message.contains("nope.json"), "{}", e[0]);
}

#[test]
fn file_reference_without_a_folder_or_absolute() {
    let text = r#"{"version":1,"policies":{"B":{"type":"boundary","file":"b.json"}}}"#;
    let d = find(&errors(text), Code::FileReferenceRefused).clone();
    assert_eq!(d.loc.pointer, "/policies/B/file");
    let dir = TempDir::new("absolute");
    let abs = dir.0.join("policies/b.json");
    dir.write("policies/b.json", DOC);
    let text = format!(
        r#"{{"version":1,"policies":{{"B":{{"type":"boundary","file":{}}}}}}}"#,
        serde_json::Value::String(abs.display().to_string())
    );
    let e = errors_in(&text, Some(&dir.0));
    assert!(find(&e, Code::FileReferenceRefused)
        .message
        .contains("relative"));
}

#[test]
fn file_size_bound() {
    let dir = TempDir::new("big");
    let big = std::fs::File::create(dir.0.join("policies/big.json")).unwrap();
    big.set_len(MAX_STORE_BYTES as u64 + 1).unwrap();
    let text = r#"{"version":1,"policies":{"B":{"type":"boundary","file":"policies/big.json"}}}"#;
    let e = errors_in(text, Some(&dir.0));
    assert!(
        find(&e, Code::BoundExceeded)
            .message
            .contains("max_store_bytes"),
        "{}",
        show(&e)
    );
}

#[test]
fn unknown_policy_name() {
    let text = r#"{"version": 1,
"policies": {"KinesisRead": {"type": "identity", "document": DOC}},
"accounts": {"111122223333": {"users": {"alice": {
  "policies": ["KinesisRaed", "kinesisread"]}}}}}"#
        .replace("DOC", DOC);
    let e = errors(&text);
    let d = find(&e, Code::UnknownPolicyName);
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/policies/0"
    );
    assert_eq!((d.loc.line, d.loc.column), (4, 16));
    assert!(d.message.contains("KinesisRaed"), "{d}");
    // The other is a case slip, with a hint.
    let hinted: Vec<&Diagnostic> = e
        .iter()
        .filter(|d| d.code == Code::UnknownPolicyName)
        .collect();
    assert_eq!(hinted.len(), 2);
    assert_eq!(
        hinted[1].loc.pointer,
        "/accounts/111122223333/users/alice/policies/1"
    );
    assert!(hinted[1]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("KinesisRead")));
}

#[test]
fn wrong_policy_type() {
    let text = r#"{"version": 1,
"policies": {"Id": {"type": "identity", "document": DOC}},
"organization": {"accounts": {"111122223333": {"scps": [["Id"]]}}},
"accounts": {"111122223333": {"roles": {"r": {"boundary": "Id"}}}}}"#
        .replace("DOC", DOC);
    let e = errors(&text);
    let wrong: Vec<(&str, u32)> = e
        .iter()
        .filter(|d| d.code == Code::PolicyTypeMismatch)
        .map(|d| (d.loc.pointer.as_str(), d.loc.line))
        .collect();
    assert_eq!(
        wrong,
        [
            ("/organization/accounts/111122223333/scps/0/0", 3),
            ("/accounts/111122223333/roles/r/boundary", 4)
        ]
    );
    assert!(find(&e, Code::PolicyTypeMismatch).message.contains("`scp`"));
}

#[test]
fn duplicate_key() {
    let text = "{\"version\": 1,\n\"accounts\": {\"111122223333\": {\"users\": {\n  \"a\": {},\n  \"a\": {}}}}}";
    let e = errors(text);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, Code::DuplicateKey);
    assert_eq!(e[0].loc.line, 4);
    // Inside an inline document too.
    let text = "{\"version\": 1, \"policies\": {\"P\": {\"type\": \"identity\", \"document\":\n {\"Version\": \"2012-10-17\", \"Version\": \"2012-10-17\"}}}}";
    let e = errors(text);
    assert_eq!((e[0].code, e[0].loc.line), (Code::DuplicateKey, 2));
}

#[test]
fn unknown_fields() {
    let text = r#"{"version": 1, "acounts": {},
"accounts": {"111122223333": {"users": {"alice": {"grups": []}}}},
"resources": {"arn:aws:kinesis:us-east-2:111122223333:stream/s": {"Policy": null}}}"#;
    let e = errors(text);
    let unknown: Vec<(&str, u32, u32)> = e
        .iter()
        .filter(|d| d.code == Code::StoreUnknownField)
        .map(|d| (d.loc.pointer.as_str(), d.loc.line, d.loc.column))
        .collect();
    assert_eq!(
        unknown,
        [
            ("/acounts", 1, 16),
            ("/accounts/111122223333/users/alice/grups", 2, 51),
            (
                "/resources/arn:aws:kinesis:us-east-2:111122223333:stream~1s/Policy",
                3,
                67
            )
        ]
    );
    assert!(e
        .iter()
        .any(|d| d.message.contains("did you mean `policy`")));
}

#[test]
fn bad_policy_inside_is_re_pointed() {
    let text = r#"{"version": 1,
"accounts": {"111122223333": {"users": {"alice": {"inline": {"put": {
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "*",
                 "Principal": "*"},
                {"Effect": "Permit", "Action": "kinesis:PutRecord", "Resource": "*"}]}}}}}}}"#;
    let e = errors(text);
    // Parser error: pointer = the document's + the policy's; line in the store.
    let d = find(&e, Code::InvalidEffect);
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/inline/put/Statement/1/Effect"
    );
    assert_eq!(d.loc.line, 6);
    // The parser failed, so the validator did not run; with a parsable policy it does.
    let text = text.replace("Permit", "Allow");
    let e = errors(&text);
    let d = find(&e, Code::PrincipalNotAllowed);
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/inline/put/Statement/0/Principal"
    );
    assert_eq!(d.loc.line, 4);
}

#[test]
fn kinesis_resource_policy_checked_against_its_arn() {
    let text = r#"{"version": 1,
"policies": {
  "Shared": {"type": "kinesis-resource", "document": {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kinesis:GetRecords",
    "Resource": "arn:aws:kinesis:us-east-2:111122223333:stream/a"}]}},
  "Unused": {"type": "kinesis-resource", "document": {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kinesis:GetRecords",
    "Resource": "arn:aws:kinesis:us-east-2:111122223333:stream/a"}]}}
},
"resources": {
  "arn:aws:kinesis:us-east-2:111122223333:stream/a": {"policy": "Shared"},
  "arn:aws:kinesis:us-east-2:111122223333:stream/b": {"policy": "Shared"}
}}"#;
    let e = errors(text);
    // Valid for stream/a, not for stream/b: one error, pointing into the named document.
    let bad: Vec<&Diagnostic> = e.iter().filter(|d| d.is_error()).collect();
    assert_eq!(bad.len(), 1, "{}", show(&e));
    assert_eq!(bad[0].code, Code::KinesisResourceNotAttached);
    assert!(bad[0]
        .loc
        .pointer
        .starts_with("/policies/Shared/document/Statement/0/Resource"));
    assert!(bad[0].message.contains("stream/b"), "{}", bad[0]);
    let w = find(&e, Code::UnattachedKinesisPolicy);
    assert_eq!(
        (w.loc.pointer.as_str(), w.loc.line),
        ("/policies/Unused", 6)
    );

    // An identity policy where the stream's policy goes.
    let text = format!(
        r#"{{"version": 1, "policies": {{"Id": {{"type": "identity", "document": {DOC}}}}},
"resources": {{"{STREAM}": {{"policy": "Id"}}}}}}"#
    );
    assert!(find(&errors(&text), Code::PolicyTypeMismatch)
        .message
        .contains("kinesis-resource"));
}

#[test]
fn warnings_are_kept() {
    let text = r#"{"version": 1, "policies": {"P": {"type": "identity", "document":
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecordz", "Resource": "*"}]}}}}"#;
    let s = Store::from_str(text, None).unwrap();
    let w = find(s.warnings(), Code::UnknownAction);
    assert!(
        w.loc
            .pointer
            .starts_with("/policies/P/document/Statement/0/Action"),
        "{w}"
    );
    assert_eq!(w.loc.line, 2);
}

#[test]
fn names_ids_arns_and_accounts() {
    let text = r#"{"version": 2,
"policies": {"P": {"type": "identiy", "document": {}}, "Q": {"type": "scp"}},
"organization": {"management_account": "12345", "accounts": {"111122223333": {"scps": [[]]}}},
"accounts": {
  "1111": {},
  "111122223333": {
    "users": {"alice": {"groups": ["nope"], "path": "div"}, "Alice": {}, "bad name": {}},
    "roles": {"r": {"id": "", "tags": {"Team": "a", "team": "b"}}}}},
"sessions": {
  "arn:aws:iam::111122223333:user/alice": {},
  "arn:aws:sts::111122223333:assumed-role/r/s": {"user": "alice"},
  "arn:aws:sts::111122223333:federated-user/f": {"user": "ghost"}},
"resources": {"arn:aws:kinesis:us-east-2:1234:stream/s": {}, "not-an-arn": {}}}"#;
    let e = errors(text);
    let got: Vec<(Code, &str)> = e.iter().map(|d| (d.code, d.loc.pointer.as_str())).collect();
    let want = [
        (Code::StoreWrongType, "/version"),
        (Code::StoreWrongType, "/policies/P/type"),
        (Code::StoreMissingField, "/policies/Q"),
        (Code::InvalidAccountId, "/organization/management_account"),
        (
            Code::StoreWrongType,
            "/organization/accounts/111122223333/scps/0",
        ),
        (Code::InvalidAccountId, "/accounts/1111"),
        (Code::CaseCollision, "/accounts/111122223333/users/Alice"),
        (
            Code::StoreWrongType,
            "/accounts/111122223333/users/bad name",
        ),
        (Code::StoreWrongType, "/accounts/111122223333/roles/r/id"),
        (
            Code::CaseCollision,
            "/accounts/111122223333/roles/r/tags/team",
        ),
        (
            Code::UnknownGroupOrUser,
            "/accounts/111122223333/users/alice/groups/0",
        ),
        (
            Code::StoreWrongType,
            "/accounts/111122223333/users/alice/path",
        ),
        (
            Code::InvalidStoreArn,
            "/sessions/arn:aws:iam::111122223333:user~1alice",
        ),
        (
            Code::StoreWrongType,
            "/sessions/arn:aws:sts::111122223333:assumed-role~1r~1s/user",
        ),
        (
            Code::UnknownGroupOrUser,
            "/sessions/arn:aws:sts::111122223333:federated-user~1f/user",
        ),
        (
            Code::InvalidStoreArn,
            "/resources/arn:aws:kinesis:us-east-2:1234:stream~1s",
        ),
        (Code::InvalidStoreArn, "/resources/not-an-arn"),
    ];
    for w in want {
        assert!(got.contains(&w), "missing {w:?} in:\n{}", show(&e));
    }
    assert!(e.iter().all(|d| d.loc.line > 0), "{}", show(&e));
}

#[test]
fn version_is_required_and_store_must_be_an_object() {
    let e = errors("{}");
    assert_eq!((e[0].code, e[0].loc.line), (Code::StoreMissingField, 1));
    assert_eq!(errors("[]")[0].code, Code::StoreWrongType);
    assert_eq!(errors("{\"version\": 1,}")[0].code, Code::InvalidJson);
    assert!(Store::from_str(r#"{"version": 1}"#, None).is_ok());
}

#[test]
fn inline_document_size_is_its_source_text() {
    // A Kinesis resource policy over 20,480 bytes of source is rejected: the size counted is
    // that of the inline document's text in the store.
    let pad = " ".repeat(21_000);
    let text = format!(
        r#"{{"version": 1, "resources": {{"{STREAM}": {{"policy": {{"Version": "2012-10-17",{pad}"Statement": [{{
  "Effect": "Allow", "Principal": {{"AWS": "444455556666"}}, "Action": "kinesis:GetRecords",
  "Resource": "{STREAM}"}}]}}}}}}}}"#
    );
    assert!(find(&errors(&text), Code::KinesisPolicyTooLarge)
        .loc
        .pointer
        .ends_with("/policy"));
    let small = text.replace(&pad, "");
    assert!(Store::from_str(&small, None).is_ok());
    assert_eq!(
        crate::parse::json::reader::value_end("{\"a\": \"}\\\"\"} tail", 0),
        12
    );
    assert_eq!(crate::parse::json::reader::value_end("12, 3", 0), 2);
    assert_eq!(crate::parse::json::reader::value_end("[12]", 1), 3);
}

#[test]
fn schema_lists_the_same_fields_as_the_loader() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let props = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    let sorted = |f: &[&str]| -> Vec<String> {
        let mut k: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    };
    let defs = &schema["$defs"];
    use super::load::*;
    assert_eq!(props(&schema), sorted(TOP_FIELDS));
    for (def, fields) in [
        ("namedPolicy", NAMED_POLICY_FIELDS),
        ("organization", ORGANIZATION_FIELDS),
        ("orgAccount", ORG_ACCOUNT_FIELDS),
        ("account", ACCOUNT_FIELDS),
        ("user", USER_FIELDS),
        ("group", GROUP_FIELDS),
        ("role", ROLE_FIELDS),
        ("session", SESSION_FIELDS),
        ("resource", RESOURCE_FIELDS),
        ("fileRef", FILE_REF_FIELDS),
    ] {
        assert_eq!(props(&defs[def]), sorted(fields), "$defs/{def}");
        assert_eq!(defs[def]["additionalProperties"], false, "$defs/{def}");
    }
}

#[test]
fn policy_and_statement_bounds() {
    use super::load::{load_bounded, Bounds};
    let text = format!(
        r#"{{"version": 1, "accounts": {{"111122223333": {{"users": {{"a": {{"inline": {{
  "p1": {DOC}, "p2": {DOC},
  "p3": {DOC}}}}}}}}}}}}}"#
    );
    let bounds = Bounds {
        policies: 2,
        statements: 10,
    };
    let e = load_bounded(&text, no_files(), bounds).err().unwrap();
    assert_eq!(e.len(), 1, "{}", show(&e));
    assert_eq!(e[0].code, Code::BoundExceeded);
    assert!(e[0].message.contains("max_policies = 2"), "{}", e[0]);
    assert_eq!(
        (e[0].loc.pointer.as_str(), e[0].loc.line),
        ("/accounts/111122223333/users/a/inline/p3", 3)
    );
    let bounds = Bounds {
        policies: 10,
        statements: 2,
    };
    let e = load_bounded(&text, no_files(), bounds).err().unwrap();
    assert!(find(&e, Code::BoundExceeded)
        .message
        .contains("max_statements = 2"));
    assert!(load_bounded(
        &text,
        no_files(),
        Bounds {
            policies: 3,
            statements: 3
        }
    )
    .is_ok());
}

#[test]
fn store_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<Store>();
}
