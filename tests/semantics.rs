//! One test per rule that `src/semantics.rs` settles (the spec marks them unverified or in
//! conflict). Each asserts iamc's chosen reading, and where a switch exists, the other reading.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use iamc::ast::{Inputs, PolicyDoc, PolicyType, ResourceSide};
use iamc::diag::Code;
use iamc::eval::{reference, Decision, Layer, Outcome};
use iamc::parse::{parse_policy, Limits};
use iamc::request::{Caller, ContextValue, Request, Scalar};
use iamc::semantics::{NotPrincipalModel, Semantics};

const STREAM: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";

fn doc(ty: PolicyType, json: &str) -> Arc<PolicyDoc> {
    let p = parse_policy(json, &Limits::default()).unwrap_or_else(|e| panic!("{e:?}"));
    PolicyDoc::new(format!("{ty}"), ty, p)
}

fn identity(json: &str) -> Arc<PolicyDoc> {
    doc(PolicyType::Identity, json)
}

fn allow_all() -> Arc<PolicyDoc> {
    identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
    )
}

fn req(principal: &str, action: &str, resource: &str) -> Request {
    Request::new(Caller::parse(principal).unwrap(), action, resource).with_derived_keys()
}

fn decide(inputs: &Inputs, r: &Request) -> Decision {
    reference::evaluate(inputs, r, &Semantics::default())
}

fn with_resource_policy(mut inputs: Inputs, json: &str) -> Inputs {
    inputs.resources.push(ResourceSide {
        arn: STREAM.into(),
        policy: Some(doc(PolicyType::Resource, json)),
        rcps: vec![],
    });
    inputs
}

const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/app/s1";

fn not_principal_deny(listed: &[&str]) -> String {
    let list: Vec<String> = listed.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Deny","NotPrincipal":{{"AWS":[{}]}},"Action":"kinesis:PutRecord","Resource":"{STREAM}"}}]}}"#,
        list.join(",")
    )
}

#[test]
fn not_principal_deny_exempts_a_session_only_when_every_layer_is_listed() {
    let base = Inputs {
        identity: vec![allow_all()],
        ..Inputs::default()
    };
    let r = req(SESSION, "kinesis:PutRecord", STREAM);
    // Only the session listed: the layered reading still denies (the role and account are not).
    let only_session = with_resource_policy(base.clone(), &not_principal_deny(&[SESSION]));
    assert_eq!(decide(&only_session, &r).decision, Outcome::ExplicitDeny);
    // The lenient reading exempts it.
    let lenient = Semantics {
        not_principal: NotPrincipalModel::Lenient,
        ..Semantics::default()
    };
    assert_eq!(
        reference::evaluate(&only_session, &r, &lenient).decision,
        Outcome::Allow
    );
    // Session, role and account listed: exempt under both.
    let all = with_resource_policy(
        base.clone(),
        &not_principal_deny(&[
            SESSION,
            "arn:aws:iam::111122223333:role/app",
            "111122223333",
        ]),
    );
    assert_eq!(decide(&all, &r).decision, Outcome::Allow);
    // An unrelated principal listed: denied under both.
    let other = with_resource_policy(
        base,
        &not_principal_deny(&["arn:aws:iam::999988887777:user/x"]),
    );
    assert_eq!(decide(&other, &r).decision, Outcome::ExplicitDeny);
    assert_eq!(
        reference::evaluate(&other, &r, &lenient).decision,
        Outcome::ExplicitDeny
    );
}

#[test]
fn not_principal_allow_grants_only_to_callers_no_listed_value_relates_to() {
    // Allow + NotPrincipal listing the account: under the safe reading (lenient for Allow) the
    // account's callers are excluded, so nothing is granted to them.
    let inputs = with_resource_policy(
        Inputs::default(),
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","NotPrincipal":{{"AWS":"111122223333"}},"Action":"kinesis:PutRecord","Resource":"{STREAM}"}}]}}"#
        ),
    );
    let r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:PutRecord",
        STREAM,
    );
    assert_eq!(decide(&inputs, &r).decision, Outcome::ImplicitDeny);
    // The layered reading would grant it (the user ARN itself is not listed).
    let layered = Semantics {
        not_principal: NotPrincipalModel::Layered,
        ..Semantics::default()
    };
    assert_eq!(
        reference::evaluate(&inputs, &r, &layered).decision,
        Outcome::Allow
    );
}

#[test]
fn session_arn_grant_is_not_limited_by_the_session_policy_by_default() {
    let inputs = with_resource_policy(
        Inputs {
            session: Some(doc(
                PolicyType::Session,
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}"#,
            )),
            ..Inputs::default()
        },
        &format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{SESSION}"}},"Action":"kinesis:PutRecord","Resource":"{STREAM}"}}}}"#
        ),
    );
    let r = req(SESSION, "kinesis:PutRecord", STREAM);
    assert_eq!(decide(&inputs, &r).decision, Outcome::Allow);
    let strict = Semantics {
        session_policy_limits_session_arn_grant: true,
        ..Semantics::default()
    };
    let d = reference::evaluate(&inputs, &r, &strict);
    assert_eq!(d.decision, Outcome::ImplicitDeny);
    assert_eq!(d.blocked_by, Some(Layer::Identity));
}

#[test]
fn wildcard_only_action_allow_matches_star_and_deny_also_the_named_resource() {
    let allow_stream = identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"kinesis:UpdateShardCount","Resource":"{STREAM}"}}}}"#
    ));
    let r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:UpdateShardCount",
        STREAM,
    );
    // The SAR lists no resource type: an Allow on the stream ARN does not match.
    let inputs = Inputs {
        identity: vec![allow_stream.clone()],
        ..Inputs::default()
    };
    let d = decide(&inputs, &r);
    assert_eq!(d.decision, Outcome::ImplicitDeny);
    assert!(!d.notes.is_empty());
    // With the action configured as resource-scoped, it does.
    let scoped = Semantics {
        resource_scoped_actions: vec!["kinesis:updateshardcount".into()],
        ..Semantics::default()
    };
    assert_eq!(
        reference::evaluate(&inputs, &r, &scoped).decision,
        Outcome::Allow
    );
    // A Deny written for the stream still applies although the action is authorized on `*`.
    let deny_stream = identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"kinesis:UpdateShardCount","Resource":"{STREAM}"}}}}"#
    ));
    let inputs = Inputs {
        identity: vec![allow_all(), deny_stream],
        ..Inputs::default()
    };
    assert_eq!(decide(&inputs, &r).decision, Outcome::ExplicitDeny);
}

fn tag_keys(values: &[&str]) -> ContextValue {
    ContextValue::Many(values.iter().map(|v| Scalar::string(*v)).collect())
}

#[test]
fn negated_on_multi_valued_key_fails_closed() {
    let deny = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
           "Condition":{"StringNotEquals":{"aws:TagKeys":"team"}}}}"#,
    );
    let allow = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
           "Condition":{"StringNotEquals":{"aws:TagKeys":"secret"}}}}"#,
    );
    let mut r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:TagResource",
        STREAM,
    );
    r.context.insert("aws:TagKeys", tag_keys(&["team", "env"]));
    let d = decide(
        &Inputs {
            identity: vec![allow_all(), deny],
            ..Inputs::default()
        },
        &r,
    );
    assert_eq!(
        d.decision,
        Outcome::ExplicitDeny,
        "a Deny that cannot be evaluated matches"
    );
    assert_eq!(d.errors.len(), 1);
    assert_eq!(
        d.errors[0].code,
        Code::EvalNegatedOnMultiValued,
        "{:?}",
        d.errors
    );
    let d = decide(
        &Inputs {
            identity: vec![allow],
            ..Inputs::default()
        },
        &r,
    );
    assert_eq!(
        d.decision,
        Outcome::ImplicitDeny,
        "an Allow that cannot be evaluated does not"
    );
}

#[test]
fn malformed_request_value_fails_closed() {
    let allow = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
           "Condition":{"NumericNotEquals":{"aws:MultiFactorAuthAge":"0"}}}}"#,
    );
    let deny = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
           "Condition":{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01"}}}}"#,
    );
    let mut r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:PutRecord",
        STREAM,
    );
    r.context.insert(
        "aws:MultiFactorAuthAge",
        ContextValue::One(Scalar::string("ten")),
    );
    r.context.insert(
        "aws:TokenIssueTime",
        ContextValue::One(Scalar::string("yesterday")),
    );
    let d = decide(
        &Inputs {
            identity: vec![allow.clone()],
            ..Inputs::default()
        },
        &r,
    );
    assert_eq!(d.decision, Outcome::ImplicitDeny);
    assert!(
        d.errors.iter().any(
            |e| e.code == Code::EvalMalformedRequestValue && e.message.contains("not a number")
        ),
        "{:?}",
        d.errors
    );
    let d = decide(
        &Inputs {
            identity: vec![allow_all(), deny],
            ..Inputs::default()
        },
        &r,
    );
    assert_eq!(d.decision, Outcome::ExplicitDeny);
}

#[test]
fn bool_variable_is_substituted() {
    let allow = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
           "Condition":{"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/tls}"}}}}"#,
    );
    let mut r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:PutRecord",
        STREAM,
    );
    r.context
        .insert("aws:SecureTransport", ContextValue::One(Scalar::bool(true)));
    let inputs = Inputs {
        identity: vec![allow],
        ..Inputs::default()
    };
    assert_eq!(
        decide(&inputs, &r).decision,
        Outcome::ImplicitDeny,
        "no tag: no value"
    );
    r.context.insert(
        "aws:PrincipalTag/tls",
        ContextValue::One(Scalar::string("true")),
    );
    assert_eq!(decide(&inputs, &r).decision, Outcome::Allow);
}

#[test]
fn anonymous_callers_have_no_principal_type_and_only_wildcard_grants() {
    let r = req("anonymous", "s3:GetObject", "arn:aws:s3:::bucket/key");
    assert!(r.context.get("aws:PrincipalType").is_none());
    assert_eq!(
        r.context.get("aws:PrincipalAccount"),
        Some(&ContextValue::One(Scalar::string("anonymous")))
    );
    // Identity policies never apply to anonymous callers.
    let inputs = Inputs {
        identity: vec![allow_all()],
        ..Inputs::default()
    };
    let d = decide(&inputs, &r);
    assert_eq!(d.decision, Outcome::ImplicitDeny);
    assert_eq!(d.blocked_by, Some(Layer::ResourcePolicy));
    // A Deny keyed on the principal type applies to them (the key is absent).
    let mut inputs = Inputs::default();
    inputs.resources.push(ResourceSide {
        arn: "arn:aws:s3:::bucket/key".into(),
        policy: Some(doc(
            PolicyType::Resource,
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"},
              {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*",
               "Condition":{"StringNotEquals":{"aws:PrincipalType":"User"}}}]}"#,
        )),
        rcps: vec![],
    });
    assert_eq!(decide(&inputs, &r).decision, Outcome::ExplicitDeny);
}

#[test]
fn rcp_levels_apply_even_to_kinesis() {
    let rcp_deny = doc(
        PolicyType::Rcp,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:PutRecord","Resource":"*",
            "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}}"#,
    );
    let mut inputs = Inputs::default();
    inputs.resources.push(ResourceSide {
        arn: STREAM.into(),
        policy: Some(doc(
            PolicyType::Resource,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"210987654321"}},"Action":"kinesis:PutRecord","Resource":"{STREAM}"}}}}"#
            ),
        )),
        rcps: vec![vec![rcp_deny]],
    });
    inputs.identity.push(allow_all());
    let r = req(
        "arn:aws:iam::210987654321:user/producer",
        "kinesis:PutRecord",
        STREAM,
    );
    assert_eq!(decide(&inputs, &r).decision, Outcome::ExplicitDeny);
}

#[test]
fn root_user_is_allowed_in_its_account_but_not_past_explicit_denies() {
    let r = req(
        "arn:aws:iam::111122223333:root",
        "kinesis:DeleteStream",
        STREAM,
    );
    assert_eq!(decide(&Inputs::default(), &r).decision, Outcome::Allow);
    let inputs = with_resource_policy(
        Inputs::default(),
        &format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Principal":{{"AWS":"111122223333"}},"Action":"kinesis:DeleteStream","Resource":"{STREAM}"}}}}"#
        ),
    );
    assert_eq!(decide(&inputs, &r).decision, Outcome::ExplicitDeny);
}

#[test]
fn date_epoch_seconds() {
    let allow = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
           "Condition":{"DateGreaterThan":{"aws:CurrentTime":"1704067200"}}}}"#,
    );
    let inputs = Inputs {
        identity: vec![allow],
        ..Inputs::default()
    };
    let mut r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:PutRecord",
        STREAM,
    );
    r.context.insert(
        "aws:CurrentTime",
        ContextValue::One(Scalar::string("2024-01-01T00:00:01Z")),
    );
    assert_eq!(decide(&inputs, &r).decision, Outcome::Allow);
    r.context.insert(
        "aws:CurrentTime",
        ContextValue::One(Scalar::string("2023-12-31T23:59:59Z")),
    );
    assert_eq!(decide(&inputs, &r).decision, Outcome::ImplicitDeny);
}

#[test]
fn multi_resource_action_lacking_its_key_is_denied_with_a_reason() {
    let inputs = Inputs {
        identity: vec![allow_all()],
        ..Inputs::default()
    };
    let r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:StartStreamEncryption",
        STREAM,
    );
    let d = decide(&inputs, &r);
    assert_eq!(d.decision, Outcome::ImplicitDeny);
    assert_eq!(d.blocked_by, Some(Layer::Request));
    assert!(d
        .errors
        .iter()
        .any(|e| e.code == Code::EvalMissingResourceType && e.message.contains("kmsKey")));
}

/// A policy of `ty` with one statement: `effect`, `element` (`Resource` or `NotResource`) the
/// pattern, `kinesis:PutRecord`, and for resource policies any principal.
fn one_statement(ty: PolicyType, effect: &str, element: &str, pattern: &str) -> Arc<PolicyDoc> {
    let principal = if ty.has_principal() {
        r#""Principal":"*","#
    } else {
        ""
    };
    doc(
        ty,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}",{principal}"Action":"kinesis:PutRecord","{element}":"{pattern}"}}]}}"#
        ),
    )
}

/// Whether the identity policy (`Allow`) or an allow-all identity policy plus the statement
/// (`Deny`) lets `alice` put to `resource`.
fn identity_side_allows(
    ty: PolicyType,
    effect: &str,
    element: &str,
    pattern: &str,
    resource: &str,
) -> bool {
    let stmt = one_statement(ty, effect, element, pattern);
    let mut inputs = Inputs {
        identity: vec![allow_all()],
        ..Inputs::default()
    };
    match (ty, effect) {
        (PolicyType::Identity, "Allow") => inputs.identity = vec![stmt],
        (PolicyType::Identity, _) => inputs.identity.push(stmt),
        (PolicyType::Boundary, _) => inputs.boundary = Some(stmt),
        // An SCP level must also allow: FullAWSAccess beside the statement.
        (PolicyType::Scp, _) => {
            let full = doc(
                PolicyType::Scp,
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            );
            inputs.scps = vec![vec![full, stmt]];
        }
        _ => unreachable!(),
    }
    let r = req(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:PutRecord",
        resource,
    );
    decide(&inputs, &r).decision == Outcome::Allow
}

#[test]
fn short_arn_in_identity_side_policies_is_completed_with_stars() {
    let west = "arn:aws:kinesis:us-west-2:111122223333:stream/orders";
    for ty in [PolicyType::Identity, PolicyType::Boundary] {
        assert!(identity_side_allows(
            ty,
            "Allow",
            "Resource",
            "arn:aws:kinesis",
            STREAM
        ));
        assert!(identity_side_allows(
            ty,
            "Allow",
            "Resource",
            "arn:aws:kinesis:us-east-1",
            STREAM
        ));
        assert!(!identity_side_allows(
            ty,
            "Allow",
            "Resource",
            "arn:aws:kinesis:us-east-1",
            west
        ));
        // Another service's short ARN does not cover Kinesis.
        assert!(!identity_side_allows(
            ty,
            "Allow",
            "Resource",
            "arn:aws:sqs",
            STREAM
        ));
    }
    for ty in [PolicyType::Identity, PolicyType::Scp] {
        assert!(!identity_side_allows(
            ty,
            "Deny",
            "Resource",
            "arn:aws:kinesis",
            STREAM
        ));
        assert!(identity_side_allows(
            ty,
            "Deny",
            "Resource",
            "arn:aws:kinesis:us-west-2",
            STREAM
        ));
        // NotResource with a completed short ARN exempts what it covers.
        assert!(identity_side_allows(
            ty,
            "Deny",
            "NotResource",
            "arn:aws:kinesis:us-east-1",
            STREAM
        ));
        assert!(!identity_side_allows(
            ty,
            "Deny",
            "NotResource",
            "arn:aws:kinesis:us-west-2",
            STREAM
        ));
    }
    // Completion is by fields: the account field is `*`, not a prefix of the stream.
    let five = "arn:aws:kinesis:us-east-1:111122223333";
    assert!(identity_side_allows(
        PolicyType::Identity,
        "Allow",
        "Resource",
        five,
        STREAM
    ));
}

#[test]
fn short_arn_wildcard_spanning_colons_takes_the_safe_split() {
    // `arn:aws:kinesis:*:stream/orders` (five fields): as a glob its `*` spans region and
    // account and it matches the stream; completed (`…:stream/orders:*`) it does not.
    let p = "arn:aws:kinesis:*:stream/orders";
    // An Allow needs both readings: no match.
    assert!(!identity_side_allows(
        PolicyType::Identity,
        "Allow",
        "Resource",
        p,
        STREAM
    ));
    // A Deny applies on either: it denies.
    assert!(!identity_side_allows(
        PolicyType::Identity,
        "Deny",
        "Resource",
        p,
        STREAM
    ));
    // A Deny's NotResource exempts only on both: the Deny applies.
    assert!(!identity_side_allows(
        PolicyType::Identity,
        "Deny",
        "NotResource",
        p,
        STREAM
    ));
    // Where the readings agree, both give the answer (`arn:aws:kinesis:*` covers every
    // Kinesis ARN either way).
    assert!(identity_side_allows(
        PolicyType::Identity,
        "Allow",
        "Resource",
        "arn:aws:kinesis:*",
        STREAM
    ));
}

#[test]
fn type_wildcard_never_widens_an_allow_and_always_applies_to_a_deny() {
    let p = "arn:aws:kinesis:us-east-1:111122223333:*/orders";
    assert!(!identity_side_allows(
        PolicyType::Identity,
        "Allow",
        "Resource",
        p,
        STREAM
    ));
    assert!(!identity_side_allows(
        PolicyType::Identity,
        "Deny",
        "Resource",
        p,
        STREAM
    ));
    // NotResource: in a Deny the pattern exempts nothing (the Deny applies); in an Allow it
    // matches as a glob, so it excludes the stream.
    assert!(!identity_side_allows(
        PolicyType::Identity,
        "Deny",
        "NotResource",
        p,
        STREAM
    ));
    assert!(!identity_side_allows(
        PolicyType::Identity,
        "Allow",
        "NotResource",
        p,
        STREAM
    ));
    // A plain `*` resource part is not a wildcard in the type; a wildcard in the name is fine.
    for ok in [
        "arn:aws:kinesis:us-east-1:111122223333:*",
        "arn:aws:kinesis:us-east-1:111122223333:stream/ord*",
    ] {
        assert!(identity_side_allows(
            PolicyType::Identity,
            "Allow",
            "Resource",
            ok,
            STREAM
        ));
    }
    // Services whose resources have no type keep the glob: S3 bucket wildcards.
    let s3 = Inputs {
        identity: vec![identity(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::logs*/x"}]}"#,
        )],
        ..Inputs::default()
    };
    let r = req(
        "arn:aws:iam::111122223333:user/alice",
        "s3:GetObject",
        "arn:aws:s3:::logs-1/x",
    );
    assert_eq!(decide(&s3, &r).decision, Outcome::Allow);
}

#[test]
fn short_arn_in_a_resource_policy_matches_nothing_in_an_allow_and_applies_to_a_deny() {
    let alice = "arn:aws:iam::111122223333:user/alice";
    let r = req(alice, "kinesis:PutRecord", STREAM);
    let side = |stmt: Arc<PolicyDoc>| ResourceSide {
        arn: STREAM.into(),
        policy: Some(stmt),
        rcps: vec![],
    };
    // An Allow on `arn:aws:kinesis` grants nothing, even to a same-account caller.
    let grant = Inputs {
        resources: vec![side(one_statement(
            PolicyType::Resource,
            "Allow",
            "Resource",
            "arn:aws:kinesis",
        ))],
        ..Inputs::default()
    };
    assert_eq!(decide(&grant, &r).decision, Outcome::ImplicitDeny);
    // A Deny on it applies (completed), whatever the identity policy allows.
    let deny = Inputs {
        identity: vec![allow_all()],
        resources: vec![side(one_statement(
            PolicyType::Resource,
            "Deny",
            "Resource",
            "arn:aws:kinesis",
        ))],
        ..Inputs::default()
    };
    assert_eq!(decide(&deny, &r).decision, Outcome::ExplicitDeny);
}

#[test]
fn bare_role_caller_is_limited_by_its_boundary_like_a_session() {
    let role = "arn:aws:iam::111122223333:role/admin";
    let grant = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{role}"}},"Action":"kinesis:GetRecords","Resource":"{STREAM}"}}]}}"#
    );
    let boundary = |action: &str| {
        doc(
            PolicyType::Boundary,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
            ),
        )
    };
    let r = req(role, "kinesis:GetRecords", STREAM);
    let blocked = with_resource_policy(
        Inputs {
            boundary: Some(boundary("s3:*")),
            ..Inputs::default()
        },
        &grant,
    );
    let d = decide(&blocked, &r);
    assert_eq!(d.decision, Outcome::ImplicitDeny);
    assert_eq!(d.blocked_by, Some(Layer::Boundary));
    // The boundary allows: the resource policy alone grants (no identity policy needed).
    let allowed = with_resource_policy(
        Inputs {
            boundary: Some(boundary("kinesis:*")),
            ..Inputs::default()
        },
        &grant,
    );
    assert_eq!(decide(&allowed, &r).decision, Outcome::Allow);
}
