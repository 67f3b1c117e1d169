//! Tests of `proxy`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::eval::StatementRef;

fn check() -> Check {
    Check {
        action: "kinesis:GetRecords".into(),
        resource: "arn:aws:kinesis:us-east-1:111122223333:stream/orders".into(),
        extra_resources: vec![],
    }
}

fn decision(outcome: Outcome, blocked_by: Option<Layer>, ty: Option<PolicyType>) -> Decision {
    Decision {
        decision: outcome,
        determining: ty
            .map(|t| StatementRef {
                policy_id: "p".into(),
                policy_type: t,
                statement: 0,
                sid: None,
            })
            .into_iter()
            .collect(),
        blocked_by,
        missing_keys: vec![],
        errors: vec![],
        notes: vec![],
    }
}

#[test]
fn deny_messages_name_principal_action_resource_and_reason() {
    let p = "arn:aws:iam::111122223333:user/producer";
    let m = deny_message(
        p,
        &check(),
        &decision(Outcome::ImplicitDeny, Some(Layer::Identity), None),
        &crate::semantics::Semantics::default(),
    );
    assert_eq!(
        m,
        "User: arn:aws:iam::111122223333:user/producer is not authorized to perform: \
             kinesis:GetRecords on resource: arn:aws:kinesis:us-east-1:111122223333:stream/orders \
             because no identity-based policy allows the kinesis:GetRecords action"
    );
    let m = deny_message(
        p,
        &check(),
        &decision(
            Outcome::ExplicitDeny,
            None,
            Some(PolicyType::KinesisResource),
        ),
        &crate::semantics::Semantics::default(),
    );
    assert!(
        m.ends_with("with an explicit deny in a resource-based policy"),
        "{m}"
    );
    let m = deny_message(
        p,
        &check(),
        &decision(Outcome::ExplicitDeny, None, Some(PolicyType::Scp)),
        &crate::semantics::Semantics::default(),
    );
    assert!(
        m.ends_with("with an explicit deny in a service control policy"),
        "{m}"
    );
    let m = deny_message(
        p,
        &check(),
        &decision(Outcome::ImplicitDeny, Some(Layer::CrossAccount), None),
        &crate::semantics::Semantics::default(),
    );
    assert!(
        m.ends_with("because no resource-based policy allows the kinesis:GetRecords action"),
        "{m}"
    );
    let mut c = check();
    c.extra_resources
        .push("arn:aws:kms:us-east-1:111122223333:key/k".into());
    let m = deny_message(
        p,
        &c,
        &decision(Outcome::ImplicitDeny, Some(Layer::Identity), None),
        &crate::semantics::Semantics::default(),
    );
    assert!(
        m.contains("stream/orders and arn:aws:kms:us-east-1:111122223333:key/k"),
        "{m}"
    );
}

#[test]
fn a_wildcard_only_action_denied_says_it_needs_resource_star() {
    let p = "arn:aws:iam::111122223333:user/producer";
    let mut c = check();
    c.action = "kinesis:UpdateShardCount".into();
    let m = deny_message(
        p,
        &c,
        &decision(Outcome::ImplicitDeny, Some(Layer::Identity), None),
        &crate::semantics::Semantics::default(),
    );
    assert!(
        m.ends_with(
            "because no identity-based policy allows the kinesis:UpdateShardCount action; \
                 kinesis:UpdateShardCount is authorized against \"Resource\": \"*\", so only a \
                 statement with \"Resource\": \"*\" allows it"
        ),
        "{m}"
    );
    // Not for an action that takes a resource, nor for an explicit deny.
    let m = deny_message(
        p,
        &check(),
        &decision(Outcome::ImplicitDeny, Some(Layer::Identity), None),
        &crate::semantics::Semantics::default(),
    );
    assert!(!m.contains("\"Resource\": \"*\""), "{m}");
    let m = deny_message(
        p,
        &c,
        &decision(Outcome::ExplicitDeny, None, Some(PolicyType::Scp)),
        &crate::semantics::Semantics::default(),
    );
    assert!(!m.contains("\"Resource\": \"*\""), "{m}");
}

#[test]
fn account_rewriting_touches_stream_arns_only() {
    let body = br#"{"StreamARN":"arn:aws:kinesis:us-east-1:111122223333:stream/orders","PartitionKey":"111122223333"}"#;
    let up = rewrite_accounts(Bytes::from_static(body), "111122223333", "000000000000");
    assert_eq!(
        std::str::from_utf8(&up).unwrap(),
        r#"{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/orders","PartitionKey":"111122223333"}"#
    );
    let back = rewrite_accounts(up, "000000000000", "111122223333");
    assert_eq!(&back[..], &body[..]);
    assert_eq!(
        &rewrite_accounts(Bytes::from_static(body), "1", "1")[..],
        &body[..]
    );
}

#[test]
fn upstream_error_messages_name_the_gateways_account() {
    let body = br#"{"__type":"ResourceNotFoundException","message":"Stream ghost under account 000000000000 not found."}"#;
    let out = rewrite_error_message(Bytes::from_static(body), "000000000000", "111122223333");
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["message"],
        "Stream ghost under account 111122223333 not found."
    );
    assert_eq!(v["__type"], "ResourceNotFoundException");
    assert_eq!(
        &rewrite_error_message(Bytes::from_static(b"not json"), "0", "1")[..],
        b"not json"
    );
}

#[test]
fn stream_name_is_added_from_the_arn_where_the_operation_takes_one() {
    let v = json!({"StreamARN": "arn:aws:kinesis:us-east-1:111122223333:stream/orders", "ShardId": "s"});
    let b = with_stream_name("GetShardIterator", &v).unwrap();
    let out: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(out["StreamName"], "orders");
    assert_eq!(out["StreamARN"], v["StreamARN"]);
    assert!(with_stream_name("GetRecords", &v).is_none());
    assert!(with_stream_name("RegisterStreamConsumer", &v).is_none());
    let named = json!({"StreamName": "orders"});
    assert!(with_stream_name("PutRecord", &named).is_none());
}
