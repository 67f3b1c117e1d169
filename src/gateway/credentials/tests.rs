//! Tests of `credentials`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::diag::Code;

const GOOD: &str = r#"{
  "version": 1,
  "keys": {
    "AKIAPRODUCER00000001": {
      "secret": "producer-secret-key",
      "principal": "arn:aws:iam::111122223333:user/producer",
      "tags": { "team": "ingest" }
    },
    "ASIASESSION000000001": {
      "secret": "session-secret-key",
      "session_token": "FwoGZXIvYXdzEBYaDH+token/with=chars",
      "principal": "arn:aws:sts::111122223333:assumed-role/Reader/alice",
      "session_policy": {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Allow",
          "Action": "kinesis:PutRecord",
          "Resource": "arn:aws:kinesis:us-east-1:111122223333:stream/orders"
        }]
      }
    },
    "AKIAROOT000000000001": {
      "secret": "root-secret",
      "principal": "arn:aws:iam::111122223333:root",
      "session_token": null
    }
  }
}"#;

/// The errors of `text`, as (code, pointer, line).
fn errors(text: &str) -> Vec<(Code, String, u32)> {
    let found = Credentials::from_str(text).expect_err("an invalid file");
    found
        .into_iter()
        .filter(Diagnostic::is_error)
        .map(|d| (d.code, d.loc.pointer, d.loc.line))
        .collect()
}

/// `entry` as the only key's entry, on line 4 of a file.
fn one_key(entry: &str) -> String {
    format!(
        "{{\n  \"version\": 1,\n  \"keys\": {{\n    \"AKIAPRODUCER00000001\": {entry}\n  }}\n}}"
    )
}

#[test]
fn reads_a_good_file() {
    let creds = Credentials::from_str(GOOD).unwrap();
    assert_eq!(creds.len(), 3);
    let ids: Vec<&str> = creds.iter().map(|c| c.access_key_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "AKIAPRODUCER00000001",
            "AKIAROOT000000000001",
            "ASIASESSION000000001"
        ]
    );
    let p = creds.get("AKIAPRODUCER00000001").unwrap();
    assert_eq!(p.secret(), "producer-secret-key");
    assert_eq!(p.principal, "arn:aws:iam::111122223333:user/producer");
    assert!(matches!(p.caller, Caller::User { .. }));
    assert_eq!(p.tags.get("team").map(String::as_str), Some("ingest"));
    assert!(p.session_token.is_none() && p.session_policy.is_none());
    let s = creds.get("ASIASESSION000000001").unwrap();
    assert_eq!(
        s.session_token.as_deref(),
        Some("FwoGZXIvYXdzEBYaDH+token/with=chars")
    );
    assert!(matches!(s.caller, Caller::RoleSession { .. }));
    let doc = s.session_policy.as_ref().unwrap();
    assert_eq!(&*doc.id, "credentials/ASIASESSION000000001/session-policy");
    assert_eq!(doc.ty, PolicyType::Session);
    let r = creds.get("AKIAROOT000000000001").unwrap();
    assert!(matches!(r.caller, Caller::Root { .. }));
    assert!(r.session_token.is_none());
    assert!(creds.get("AKIAUNKNOWN000000001").is_none());
    assert_eq!(Credentials::default().len(), 0);
}

#[test]
fn debug_redacts_secrets_and_tokens() {
    let creds = Credentials::from_str(GOOD).unwrap();
    for text in [
        format!("{creds:?}"),
        format!("{creds:#?}"),
        format!("{:?}", creds.get("ASIASESSION000000001").unwrap()),
    ] {
        assert!(!text.contains("producer-secret-key"), "{text}");
        assert!(!text.contains("session-secret-key"), "{text}");
        assert!(!text.contains("root-secret"), "{text}");
        assert!(!text.contains("FwoGZXIvYXdzEBYaDH"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
    assert!(format!("{creds:?}").contains("AKIAPRODUCER00000001"));
}

#[test]
fn iam400_file_unreadable_or_too_big() {
    let dir = std::env::temp_dir().join(format!("iamc-creds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.json");
    let found = Credentials::load(&missing).unwrap_err();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, Code::CredentialsUnreadable);
    assert!(found[0].message.starts_with(&missing.display().to_string()));

    let bad = dir.join("bad.json");
    std::fs::write(&bad, one_key("{\"secret\": \"s\"}")).unwrap();
    let found = Credentials::load(&bad).unwrap_err();
    assert_eq!(found[0].code, Code::CredentialsMissingField);
    assert!(found[0].message.starts_with(&bad.display().to_string()));

    let good = dir.join("good.json");
    std::fs::write(&good, GOOD).unwrap();
    assert_eq!(Credentials::load(&good).unwrap().len(), 3);

    let latin1 = dir.join("latin1.json");
    std::fs::write(&latin1, b"{\"version\": 1, \"keys\": {\xe9}}").unwrap();
    assert_eq!(
        Credentials::load(&latin1).unwrap_err()[0].code,
        Code::CredentialsUnreadable
    );
    assert_eq!(
        Credentials::load(&dir).unwrap_err()[0].code,
        Code::CredentialsUnreadable
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let huge = " ".repeat(MAX_CREDENTIALS_BYTES + 1);
    assert_eq!(
        Credentials::from_str(&huge).unwrap_err()[0].code,
        Code::CredentialsUnreadable
    );
}

#[test]
fn syntax_errors_keep_the_reader_codes() {
    let found = Credentials::from_str("{\n  \"version\": 1,\n  \"keys\": {,}\n}").unwrap_err();
    assert_eq!(found[0].code, Code::InvalidJson);
    assert_eq!(found[0].loc.line, 3);
    let found = Credentials::from_str("{\"version\": 1, \"keys\": {}, \"keys\": {}}").unwrap_err();
    assert_eq!(found[0].code, Code::DuplicateKey);
}

#[test]
fn iam401_wrong_types_and_values() {
    assert_eq!(
        errors("{\n  \"version\": 2,\n  \"keys\": {}\n}"),
        [(Code::CredentialsWrongType, "/version".to_string(), 2)]
    );
    assert_eq!(
        errors("{\n  \"version\": 1,\n  \"keys\": []\n}"),
        [(Code::CredentialsWrongType, "/keys".to_string(), 3)]
    );
    assert_eq!(
        errors("[]"),
        [(Code::CredentialsWrongType, String::new(), 1)]
    );
    // A bad access key id, an empty secret, a bad token, a tag value of the wrong type:
    // all reported.
    let text = "{\n  \"version\": 1,\n  \"keys\": {\n    \"akia-lower\": {\n      \"secret\": \"\",\n      \"principal\": \"arn:aws:iam::111122223333:user/u\",\n      \"session_token\": \"has space\",\n      \"tags\": {\"a\": 1, \"\": \"x\"}\n    }\n  }\n}";
    assert_eq!(
        errors(text),
        [
            (
                Code::CredentialsWrongType,
                "/keys/akia-lower".to_string(),
                4
            ),
            (
                Code::CredentialsWrongType,
                "/keys/akia-lower/secret".to_string(),
                5
            ),
            (
                Code::CredentialsWrongType,
                "/keys/akia-lower/session_token".to_string(),
                7
            ),
            (
                Code::CredentialsWrongType,
                "/keys/akia-lower/tags/a".to_string(),
                8
            ),
            (
                Code::CredentialsWrongType,
                "/keys/akia-lower/tags/".to_string(),
                8
            ),
        ]
    );
    assert_eq!(
        errors(&one_key(
            "{\"secret\": 5, \"principal\": \"arn:aws:iam::111122223333:user/u\"}"
        )),
        [(
            Code::CredentialsWrongType,
            "/keys/AKIAPRODUCER00000001/secret".to_string(),
            4
        )]
    );
    assert_eq!(
        errors(&one_key("[]")),
        [(
            Code::CredentialsWrongType,
            "/keys/AKIAPRODUCER00000001".to_string(),
            4
        )]
    );
    assert_eq!(
            errors(&one_key(
                "{\"secret\": \"s\", \"principal\": \"arn:aws:sts::111122223333:assumed-role/R/s\", \"session_policy\": \"{}\"}"
            )),
            [(Code::CredentialsWrongType, "/keys/AKIAPRODUCER00000001/session_policy".to_string(), 4)]
        );
}

#[test]
fn iam402_unknown_fields() {
    let text = "{\n  \"version\": 1,\n  \"keys\": {},\n  \"extra\": true\n}";
    assert_eq!(
        errors(text),
        [(Code::CredentialsUnknownField, "/extra".to_string(), 4)]
    );
    let found = Credentials::from_str(&one_key(
        "{\"secret\": \"s\", \"principal\": \"arn:aws:iam::111122223333:user/u\", \"Tags\": {}}",
    ))
    .unwrap_err();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].code, Code::CredentialsUnknownField);
    assert_eq!(found[0].loc.pointer, "/keys/AKIAPRODUCER00000001/Tags");
    assert_eq!(found[0].loc.line, 4);
    assert!(found[0].message.contains("did you mean `tags`"));
}

#[test]
fn iam403_missing_fields() {
    assert_eq!(
        errors("{\"keys\": {}}"),
        [(Code::CredentialsMissingField, String::new(), 1)]
    );
    assert_eq!(
        errors("{\n\"version\": 1}"),
        [(Code::CredentialsMissingField, String::new(), 1)]
    );
    assert_eq!(
        errors(&one_key("{}")),
        [
            (
                Code::CredentialsMissingField,
                "/keys/AKIAPRODUCER00000001".to_string(),
                4
            ),
            (
                Code::CredentialsMissingField,
                "/keys/AKIAPRODUCER00000001".to_string(),
                4
            ),
        ]
    );
}

#[test]
fn iam404_bad_principals() {
    for p in [
        "anonymous",
        "kinesis.amazonaws.com",
        "arn:aws:iam::111122223333:role/Reader",
        "arn:aws:iam::1111:user/u",
        "not an arn",
    ] {
        let text = one_key(&format!("{{\"secret\": \"s\", \"principal\": \"{p}\"}}"));
        assert_eq!(
            errors(&text),
            [(
                Code::CredentialsBadPrincipal,
                "/keys/AKIAPRODUCER00000001/principal".to_string(),
                4
            )],
            "{p}"
        );
    }
    let fed = one_key(
        "{\"secret\": \"s\", \"principal\": \"arn:aws:sts::111122223333:federated-user/bob\"}",
    );
    let creds = Credentials::from_str(&fed).unwrap();
    assert!(matches!(
        creds.get("AKIAPRODUCER00000001").unwrap().caller,
        Caller::FederatedUser { .. }
    ));
}

#[test]
fn iam405_session_policy_on_a_user() {
    let text = "{\n  \"version\": 1,\n  \"keys\": {\n    \"AKIAPRODUCER00000001\": {\n      \"secret\": \"s\",\n      \"principal\": \"arn:aws:iam::111122223333:user/u\",\n      \"session_policy\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"}]}\n    }\n  }\n}";
    assert_eq!(
        errors(text),
        [(
            Code::CredentialsSessionPolicy,
            "/keys/AKIAPRODUCER00000001/session_policy".to_string(),
            7
        )]
    );
}

#[test]
fn iam406_tag_keys_differ_only_in_case() {
    let text = "{\n  \"version\": 1,\n  \"keys\": {\n    \"AKIAPRODUCER00000001\": {\n      \"secret\": \"s\",\n      \"principal\": \"arn:aws:iam::111122223333:user/u\",\n      \"tags\": {\n        \"Team\": \"a\",\n        \"team\": \"b\"\n      }\n    }\n  }\n}";
    assert_eq!(
        errors(text),
        [(
            Code::CredentialsTagCase,
            "/keys/AKIAPRODUCER00000001/tags/team".to_string(),
            9
        )]
    );
}

#[test]
fn session_policy_errors_are_repointed() {
    let text = "{\n  \"version\": 1,\n  \"keys\": {\n    \"ASIASESSION000000001\": {\n      \"secret\": \"s\",\n      \"principal\": \"arn:aws:sts::111122223333:assumed-role/R/s\",\n      \"session_policy\": {\n        \"Version\": \"2012-10-17\",\n        \"Statement\": [{\"Effect\": \"Maybe\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"}]\n      }\n    }\n  }\n}";
    let found = errors(text);
    assert!(!found.is_empty());
    for (code, pointer, line) in &found {
        assert!(matches!(&code.as_str()[..4], "IAM0" | "IAM1"), "{code}");
        assert!(
            pointer.starts_with("/keys/ASIASESSION000000001/session_policy/"),
            "{pointer}"
        );
        assert_eq!(*line, 9);
    }
    // A session policy with a principal is invalid as a session policy.
    let text = one_key(
            "{\"secret\": \"s\", \"principal\": \"arn:aws:sts::111122223333:assumed-role/R/s\", \"session_policy\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"kinesis:PutRecord\", \"Resource\": \"*\"}]}}",
        );
    let found = errors(&text);
    assert!(!found.is_empty());
    assert!(found
        .iter()
        .all(|(_, p, _)| p.starts_with("/keys/AKIAPRODUCER00000001/session_policy")));
}

#[test]
fn all_errors_are_collected_across_keys() {
    let text = "{\n  \"version\": 1,\n  \"keys\": {\n    \"AKIAPRODUCER00000001\": {\"secret\": \"s\"},\n    \"AKIAPRODUCER00000002\": {\"secret\": \"s\", \"principal\": \"anonymous\", \"x\": 1}\n  }\n}";
    let found = errors(text);
    assert_eq!(
        found,
        [
            (
                Code::CredentialsMissingField,
                "/keys/AKIAPRODUCER00000001".to_string(),
                4
            ),
            (
                Code::CredentialsUnknownField,
                "/keys/AKIAPRODUCER00000002/x".to_string(),
                5
            ),
            (
                Code::CredentialsBadPrincipal,
                "/keys/AKIAPRODUCER00000002/principal".to_string(),
                5
            ),
        ]
    );
}
