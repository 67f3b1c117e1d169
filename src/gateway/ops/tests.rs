//! Tests of `ops`: the mapping of Kinesis requests to actions and resources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use serde_json::json;

fn place() -> Place {
    Place {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "111122223333".into(),
    }
}

fn plan_of(op: &str, body: Value, caller: Option<&str>) -> Result<Plan, OpError> {
    plan(op, &body, caller, &place(), None)
}

#[test]
fn stream_name_is_resolved_in_the_callers_account() {
    let p = plan_of(
        "PutRecord",
        json!({"StreamName": "orders", "Data": "aGk=", "PartitionKey": "k"}),
        Some("210987654321"),
    )
    .unwrap();
    assert_eq!(
        p.checks,
        vec![Check {
            action: "kinesis:PutRecord".into(),
            resource: "arn:aws:kinesis:us-east-1:210987654321:stream/orders".into(),
            extra_resources: vec![],
        }]
    );
    assert_eq!(p.handling, Handling::Forward);
}

#[test]
fn stream_arn_wins_and_must_agree_with_the_name() {
    let arn = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
    let p = plan_of(
        "GetShardIterator",
        json!({"StreamARN": arn}),
        Some("210987654321"),
    )
    .unwrap();
    assert_eq!(p.checks[0].resource, arn);
    let e = plan_of(
        "GetShardIterator",
        json!({"StreamARN": arn, "StreamName": "other"}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidArgumentException");
    let e = plan_of(
        "PutRecord",
        json!({"StreamARN": "arn:aws:kinesis:*:111122223333:stream/x"}),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidArgumentException");
    let e = plan_of("PutRecord", json!({}), None).unwrap_err();
    assert!(e.message.contains("StreamName or StreamARN"), "{e:?}");
}

#[test]
fn get_records_takes_the_stream_of_its_iterator() {
    let arn = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
    let p = plan(
        "GetRecords",
        &json!({"ShardIterator": "i1.x.y"}),
        Some("111122223333"),
        &place(),
        Some(arn),
    )
    .unwrap();
    assert_eq!(p.checks[0].resource, arn);
    // A StreamARN that names another stream than the iterator's is refused.
    let e = plan(
        "GetRecords",
        &json!({"ShardIterator": "i1.x.y", "StreamARN": arn.replace("orders", "other")}),
        Some("111122223333"),
        &place(),
        Some(arn),
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidArgumentException");
    let e = plan(
        "GetRecords",
        &json!({}),
        Some("111122223333"),
        &place(),
        None,
    )
    .unwrap_err();
    assert_eq!(e.code, "InvalidArgumentException");
}

#[test]
fn create_stream_with_tags_needs_add_tags_too() {
    let p = plan_of(
        "CreateStream",
        json!({"StreamName": "s", "ShardCount": 1, "Tags": {"env": "prod"}}),
        Some("111122223333"),
    )
    .unwrap();
    let actions: Vec<&str> = p.checks.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, ["kinesis:CreateStream", "kinesis:AddTagsToStream"]);
    assert!(
        p.context
            .iter()
            .any(|(k, v)| k == "aws:RequestTag/env"
                && *v == ContextValue::One(Scalar::string("prod")))
    );
    assert!(p.context.iter().any(|(k, _)| k == "aws:TagKeys"));
}

#[test]
fn encryption_checks_the_stream_and_the_key() {
    let p = plan_of(
        "StartStreamEncryption",
        json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
        Some("111122223333"),
    )
    .unwrap();
    assert_eq!(
        p.checks[0].extra_resources,
        vec!["arn:aws:kms:us-east-1:111122223333:alias/aws/kinesis".to_string()]
    );
    let p = plan_of(
        "StopStreamEncryption",
        json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "1234abcd-12ab"}),
        Some("111122223333"),
    )
    .unwrap();
    assert_eq!(
        p.checks[0].extra_resources,
        vec!["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab".to_string()]
    );
    // A KMS key ARN is taken as is; a KeyId that starts as an ARN but is not a KMS one is
    // refused (tests/fuzz/kinesis_plan/key-id-not-a-kms-arn).
    let key = "arn:aws:kms:us-east-1:111122223333:key/k1";
    let p = plan_of(
        "StopStreamEncryption",
        json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": key}),
        Some("111122223333"),
    )
    .unwrap();
    assert_eq!(p.checks[0].extra_resources, vec![key.to_string()]);
    for bad in [
        "arn:aws>kms:us-east-1:133:key/k1",
        "arn:aws*:kms:us-east-1:133:key/k1",
        "arn:aws:kms:us-east-1:133:key/*",
        "arn:aws:s3:::bucket",
    ] {
        let e = plan_of(
            "StopStreamEncryption",
            json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": bad}),
            Some("111122223333"),
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidArgumentException", "{bad}");
    }
}

#[test]
fn consumers_and_resource_policies() {
    let c = "arn:aws:kinesis:us-east-1:111122223333:stream/orders/consumer/fan:1700000000";
    let p = plan_of(
        "SubscribeToShard",
        json!({"ConsumerARN": c, "ShardId": "s"}),
        None,
    )
    .unwrap();
    assert_eq!(p.checks[0].resource, c);
    let p = plan_of(
        "DescribeStreamConsumer",
        json!({"StreamARN": "arn:aws:kinesis:us-east-1:111122223333:stream/orders", "ConsumerName": "fan"}),
        None,
    )
    .unwrap();
    assert_eq!(
        p.checks[0].resource,
        "arn:aws:kinesis:us-east-1:111122223333:stream/orders/consumer/fan:*"
    );
    let p = plan_of(
        "PutResourcePolicy",
        json!({"ResourceARN": c, "Policy": "{}"}),
        None,
    )
    .unwrap();
    assert_eq!(p.handling, Handling::PutResourcePolicy);
    assert_eq!(p.resource.as_deref(), Some(c));
    let p = plan_of("ListStreams", json!({}), None).unwrap();
    assert_eq!(p.checks[0].resource, "*");
}

#[test]
fn unknown_operations_and_bad_bodies_are_refused() {
    assert_eq!(
        plan_of("FlyToTheMoon", json!({}), None).unwrap_err().code,
        "UnknownOperationException"
    );
    assert_eq!(
        plan_of("PutRecord", json!([1]), None).unwrap_err().code,
        "SerializationException"
    );
    assert_eq!(
        plan_of("PutRecord", json!({"StreamName": 5}), None)
            .unwrap_err()
            .code,
        "SerializationException"
    );
    assert_eq!(
        plan_of("PutRecord", json!({"StreamName": "a b"}), None)
            .unwrap_err()
            .code,
        "InvalidArgumentException"
    );
}

#[test]
fn every_mapped_operation_is_a_catalog_action() {
    for (op, _) in OPERATIONS {
        assert!(
            crate::catalog::lookup_lc(&format!("kinesis:{op}").to_ascii_lowercase()).is_some(),
            "{op}"
        );
    }
}
