//! Tests of `request`.
#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn callers() {
    let c = Caller::parse("arn:aws:sts::111122223333:assumed-role/app/s1").unwrap();
    assert_eq!(
        c.principal_arn().unwrap(),
        "arn:aws:iam::111122223333:role/app"
    );
    assert_eq!(
        c.arn().unwrap(),
        "arn:aws:sts::111122223333:assumed-role/app/s1"
    );
    assert!(c.is_session());
    let u = Caller::parse("arn:aws:iam::111122223333:user/div/alice").unwrap();
    let r = Request::new(u, "kinesis:PutRecord", "*").with_derived_keys();
    assert_eq!(r.context.variable("aws:username"), Some("alice"));
    assert_eq!(r.context.variable("aws:principaltype"), Some("User"));
    assert_eq!(Caller::parse("anonymous").unwrap(), Caller::Anonymous);
    assert!(Caller::parse("arn:aws:iam::1:user/x").is_err());
    assert!(Caller::parse("arn:aws:s3:::bucket").is_err());
    assert!(Caller::parse("bob").is_err());
    assert_eq!(
        Caller::parse("arn:aws:iam::111122223333:root").unwrap(),
        Caller::Root {
            partition: "aws".into(),
            account: "111122223333".into()
        }
    );
}

#[test]
fn time_keys_come_from_the_clock_unless_given() {
    let alice = || Caller::parse("arn:aws:iam::111122223333:user/alice").unwrap();
    let at_2021 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_609_459_200);
    let mut r = Request::new(alice(), "kinesis:GetRecords", "*");
    r.add_time_keys(at_2021);
    assert_eq!(
        r.context.variable("aws:currenttime"),
        Some("2021-01-01T00:00:00Z")
    );
    assert_eq!(r.context.variable("aws:epochtime"), Some("1609459200"));
    // One given key sets the time of both; a given key is kept as given.
    let mut r = Request::new(alice(), "kinesis:GetRecords", "*");
    r.context
        .insert("aws:EpochTime", ContextValue::One(Scalar::number("86400")));
    r.add_time_keys(at_2021);
    assert_eq!(r.context.variable("aws:epochtime"), Some("86400"));
    assert_eq!(
        r.context.variable("aws:currenttime"),
        Some("1970-01-02T00:00:00Z")
    );
}

#[test]
fn context_keys_ignore_case() {
    let mut c = Context::new();
    c.insert(
        "aws:PrincipalTag/Team",
        ContextValue::One(Scalar::string("x")),
    );
    assert!(c.get("AWS:principaltag/team").is_some());
    assert!(c
        .insert_new(
            "aws:principaltag/TEAM",
            ContextValue::One(Scalar::string("y"))
        )
        .is_err());
    assert_eq!(encode_base64(b"hello"), "aGVsbG8=");
}
