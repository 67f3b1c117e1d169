//! Reconstructing requests from records: every field replay reads, and every identity type.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use crate::request::{Caller, ContextValue};
use crate::store::Store;

const STORE: &str = r#"{"version": 1,
  "accounts": {"111122223333": {
    "users": {"alice": {"path": "/div/"}},
    "roles": {"app": {"path": "/teams/"}}}},
  "sessions": {"arn:aws:sts::111122223333:federated-user/fed": {"user": "alice"}}}"#;

fn store() -> Store {
    Store::from_str(STORE, None).unwrap()
}

fn record(identity: &str, name: &str, params: &str, extra: &str) -> String {
    format!(
        r#"{{"eventSource":"kinesis.amazonaws.com","eventName":"{name}","eventTime":"2026-11-30T10:00:00Z",
        "eventID":"e1","awsRegion":"us-east-2","recipientAccountId":"444455556666",
        "sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2","userIdentity":{identity},
        "requestParameters":{params}{extra}}}"#
    )
}

const USER: &str = r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/div/alice","principalId":"AIDAX","accountId":"111122223333"}"#;

fn rebuild(text: &str) -> Result<Event, Skip> {
    let rec: Record<'_> = serde_json::from_str(text).unwrap();
    reconstruct(&rec, &store())
}

fn key(ev: &Event, k: &str) -> Option<String> {
    match ev.request.context.get(k)? {
        ContextValue::One(s) => Some(s.text().to_string()),
        ContextValue::Many(_) => None,
    }
}

#[test]
fn a_user_call_gives_its_resource_and_context_keys() {
    let ev = rebuild(&record(
        USER,
        "PutRecord",
        r#"{"streamName":"orders"}"#,
        r#","tlsDetails":{"tlsVersion":"TLSv1.3"},"vpcEndpointId":"vpce-1""#,
    ))
    .unwrap();
    assert_eq!(ev.request.action, "kinesis:PutRecord");
    // The stream is in the recipient account and the record's region.
    assert_eq!(
        ev.request.resource,
        "arn:aws:kinesis:us-east-2:444455556666:stream/orders"
    );
    assert_eq!(ev.recorded, Recorded::Allowed);
    assert_eq!(ev.principal, "arn:aws:iam::111122223333:user/div/alice");
    assert_eq!(key(&ev, "aws:SourceIp").unwrap(), "203.0.113.7");
    assert_eq!(key(&ev, "aws:SecureTransport").unwrap(), "true");
    assert_eq!(key(&ev, "aws:CurrentTime").unwrap(), "2026-11-30T10:00:00Z");
    assert_eq!(key(&ev, "aws:EpochTime").unwrap(), "1796032800");
    assert_eq!(key(&ev, "aws:RequestedRegion").unwrap(), "us-east-2");
    assert_eq!(key(&ev, "aws:userid").unwrap(), "AIDAX");
    assert_eq!(key(&ev, "aws:UserAgent").unwrap(), "aws-cli/2");
    assert_eq!(key(&ev, "aws:SourceVpce").unwrap(), "vpce-1");
    assert!(key(&ev, "aws:MultiFactorAuthPresent").is_none());
    // Without tlsDetails the key is not set; a service's DNS name is no IP address.
    let ev = rebuild(
        &record(USER, "ListStreams", "null", "").replace("203.0.113.7", "kinesis.amazonaws.com"),
    )
    .unwrap();
    assert_eq!(ev.request.resource, "*");
    assert!(key(&ev, "aws:SecureTransport").is_none());
    assert!(key(&ev, "aws:SourceIp").is_none());
}

#[test]
fn error_codes_map_to_what_aws_decided() {
    for (code, want) in [
        ("AccessDeniedException", Recorded::Denied),
        ("AccessDenied", Recorded::Denied),
        (
            "ResourceNotFoundException",
            Recorded::OtherError("ResourceNotFoundException".into()),
        ),
        (
            "KMSAccessDeniedException",
            Recorded::OtherError("KMSAccessDeniedException".into()),
        ),
    ] {
        let extra = format!(r#","errorCode":"{code}""#);
        let ev = rebuild(&record(
            USER,
            "GetRecords",
            r#"{"streamARN":"arn:aws:kinesis:us-east-2:444455556666:stream/s"}"#,
            &extra,
        ))
        .unwrap();
        assert_eq!(ev.recorded, want, "{code}");
    }
}

#[test]
fn a_role_session_is_its_role_with_the_path_and_its_session_keys() {
    let identity = r#"{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/w-1",
      "principalId":"AROAX:w-1","accountId":"111122223333",
      "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/teams/app"},
        "attributes":{"mfaAuthenticated":"true","creationDate":"2026-11-30T08:00:00Z"}}}"#;
    let consumer = "arn:aws:kinesis:us-east-2:444455556666:stream/s/consumer/c:1674696300";
    let ev = rebuild(&record(
        identity,
        "SubscribeToShard",
        &format!(r#"{{"consumerARN":"{consumer}","shardId":"x"}}"#),
        "",
    ))
    .unwrap();
    assert_eq!(ev.request.resource, consumer);
    assert_eq!(ev.principal, "arn:aws:iam::111122223333:role/teams/app");
    match &ev.request.caller {
        Caller::RoleSession {
            session, role_path, ..
        } => assert_eq!((session.as_str(), role_path.as_str()), ("w-1", "/teams/")),
        other => panic!("{other:?}"),
    }
    assert_eq!(key(&ev, "aws:MultiFactorAuthPresent").unwrap(), "true");
    assert_eq!(
        key(&ev, "aws:TokenIssueTime").unwrap(),
        "2026-11-30T08:00:00Z"
    );
    assert_eq!(key(&ev, "aws:userid").unwrap(), "AROAX:w-1");
}

#[test]
fn encryption_needs_the_key_arn_as_a_second_resource() {
    let key_arn = "arn:aws:kms:us-east-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let ev = rebuild(&record(
        USER,
        "StartStreamEncryption",
        &format!(r#"{{"streamName":"s","encryptionType":"KMS","keyId":"{key_arn}"}}"#),
        "",
    ))
    .unwrap();
    assert_eq!(
        ev.request.resource,
        "arn:aws:kinesis:us-east-2:444455556666:stream/s"
    );
    assert_eq!(ev.request.extra_resources, vec![key_arn.to_string()]);
    // A key alias is not an ARN: the request cannot be built.
    let skip = rebuild(&record(
        USER,
        "StartStreamEncryption",
        r#"{"streamName":"s","keyId":"alias/aws/kinesis"}"#,
        "",
    ))
    .unwrap_err();
    assert_eq!(skip.reason(), "resource not reconstructable");
}

#[test]
fn identities_the_store_cannot_model_are_refused_with_their_reason() {
    let p = r#"{"streamName":"s"}"#;
    let reason = |identity: &str| {
        rebuild(&record(identity, "PutRecord", p, ""))
            .map(|ev| ev.request.caller.to_string())
            .map_err(|s| s.reason())
    };
    let fed = r#"{"type":"FederatedUser","arn":"arn:aws:sts::111122223333:federated-user/fed","accountId":"111122223333"}"#;
    assert_eq!(
        reason(fed).unwrap(),
        "arn:aws:sts::111122223333:federated-user/fed"
    );
    let other_fed = fed.replace("/fed", "/other");
    assert_eq!(
        reason(&other_fed).unwrap_err(),
        "principal not in the store"
    );
    let root =
        r#"{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}"#;
    assert_eq!(reason(root).unwrap(), "arn:aws:iam::111122223333:root");
    let svc = r#"{"type":"AWSService","invokedBy":"firehose.amazonaws.com"}"#;
    assert_eq!(reason(svc).unwrap(), "firehose.amazonaws.com");
    // The path is part of a user's identity.
    let no_path = USER.replace("user/div/alice", "user/alice");
    assert_eq!(reason(&no_path).unwrap_err(), "principal not in the store");
    for t in ["AWSAccount", "SAMLUser", "WebIdentityUser"] {
        let id = format!(r#"{{"type":"{t}","accountId":"111122223333"}}"#);
        assert_eq!(
            reason(&id).unwrap_err(),
            format!("identity type not modeled ({t})")
        );
    }
    let s3 = record(USER, "GetObject", p, "").replace("kinesis.amazonaws.com", "s3.amazonaws.com");
    assert_eq!(
        rebuild(&s3).unwrap_err().reason(),
        "another service (s3.amazonaws.com)"
    );
    assert_eq!(
        rebuild(&record(USER, "NoSuchCall", p, ""))
            .unwrap_err()
            .reason(),
        "action not in the catalog (kinesis:NoSuchCall)"
    );
}
