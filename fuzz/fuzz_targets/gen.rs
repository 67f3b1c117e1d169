//! A copy of tests/common/gen.rs (keep the two in step) driven by the fuzzer's bytes: policy sets and requests for the differential target: every
//! element, operator, qualifier, variable and principal form, same- and cross-account callers,
//! boundaries, session policies, SCPs and RCPs. Deterministic for an input.
#![allow(dead_code)]

use std::sync::Arc;

use arbitrary::Unstructured;
use iamc::ast::{Inputs, PolicyDoc, PolicyType, ResourceSide};
use iamc::parse::{parse_policy, Limits};
use iamc::request::{Caller, ContextValue, Request, Scalar};
use serde_json::{json, Value};

/// The generator's choices, read from the fuzzer's bytes (`arbitrary::Unstructured`): the
/// same shapes as tests/common/gen.rs, each choice steered by the fuzzer instead of a seed.
/// Out of bytes, every choice is the first one.
pub struct Rng<'a>(pub Unstructured<'a>);

impl<'a> Rng<'a> {
    pub fn new(data: &'a [u8]) -> Rng<'a> {
        Rng(Unstructured::new(data))
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0.choose_index(n).unwrap_or(0)
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
    pub fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.below(items.len())]
    }
}

pub const ACCOUNTS: &[&str] = &["111122223333", "444455556666"];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];
const STREAMS: &[&str] = &["orders", "orders-archive", "clicks", "alice"];
const ACTIONS: &[&str] = &[
    "kinesis:PutRecord",
    "kinesis:PutRecords",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:DescribeStreamSummary",
    "kinesis:SubscribeToShard",
    "kinesis:ListStreams",
    "kinesis:UpdateShardCount",
    "kinesis:TagResource",
    "kinesis:StartStreamEncryption",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "s3:GetObject",
];
const ACTION_PATTERNS: &[&str] = &[
    "*",
    "kinesis:*",
    "kinesis:Get*",
    "kinesis:Put*",
    "kinesis:Put?ecord",
    "kinesis:*Stream*",
    "KINESIS:putrecord",
    "dynamodb:*",
    "dynamodb:Get*",
    "s3:Get*Object",
    "kinesis:PutRecordz",
];
const KEYS: &[&str] = &[
    "aws:PrincipalTag/team",
    "aws:ResourceTag/env",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:SecureTransport",
    "aws:MultiFactorAuthAge",
    "aws:TagKeys",
    "aws:PrincipalArn",
    "aws:username",
    "aws:RequestedRegion",
    "aws:SourceArn",
    "aws:RequestTag/payload",
];

fn stream_arn(rng: &mut Rng<'_>) -> String {
    format!(
        "arn:aws:kinesis:{}:{}:stream/{}",
        rng.pick(REGIONS),
        rng.pick(ACCOUNTS),
        rng.pick(STREAMS)
    )
}

fn resource_value(rng: &mut Rng<'_>) -> String {
    match rng.below(10) {
        0 => format!("{}/consumer/c1:1674696300", stream_arn(rng)),
        1 => format!("arn:aws:dynamodb:us-east-1:{}:table/t1", rng.pick(ACCOUNTS)),
        2 => "arn:aws:s3:::bucket/key".into(),
        3 => "arn:aws:kms:us-east-1:111122223333:key/k1".into(),
        _ => stream_arn(rng),
    }
}

fn resource_pattern(rng: &mut Rng<'_>) -> String {
    let acct = *rng.pick(ACCOUNTS);
    let region = *rng.pick(REGIONS);
    match rng.below(18) {
        0 => "*".into(),
        1 => format!("arn:aws:kinesis:{region}:{acct}:stream/*"),
        2 => format!("arn:aws:kinesis:*:{acct}:stream/orders*"),
        3 => format!("arn:aws:kinesis:{region}:{acct}:stream/or?ers"),
        4 => format!("arn:aws:kinesis:{region}:{acct}:stream/${{aws:username}}"),
        5 => format!("arn:aws:kinesis:{region}:{acct}:stream/${{aws:PrincipalTag/team, 'clicks'}}"),
        6 => format!("arn:aws:kinesis:{region}:{acct}:stream/*/consumer/*"),
        7 => format!("arn:aws:dynamodb:*:{acct}:table/*"),
        8 => "arn:aws:s3:::bucket/*".into(),
        9 => format!("arn:aws:kinesis:{region}:*:stream/orders"),
        10 => "arn:aws:kms:*:*:key/*".into(),
        // Short ARNs (spec §2.2 rule 4): completed in identity-side policies.
        11 => "arn:aws:kinesis".into(),
        12 => format!("arn:aws:kinesis:{region}"),
        // A short ARN whose wildcard may span colons, and a wildcard in the resource type
        // (spec §1.8): the safe split.
        13 => "arn:aws:kinesis:*:stream/orders".into(),
        14 => format!("arn:aws:kinesis:{region}:{acct}:*/orders"),
        _ => stream_arn(rng),
    }
}

fn condition(rng: &mut Rng<'_>) -> Value {
    let qual = match rng.below(8) {
        0 => "ForAllValues:",
        1 => "ForAnyValue:",
        _ => "",
    };
    let ifx = if rng.chance(15) { "IfExists" } else { "" };
    let (op, key, values): (&str, &str, Vec<Value>) = match rng.below(16) {
        0 => (
            "StringEquals",
            "aws:PrincipalTag/team",
            vec![json!("blue"), json!("red")],
        ),
        1 => (
            "StringNotEquals",
            "aws:PrincipalTag/team",
            vec![json!("blue")],
        ),
        2 => (
            "StringLike",
            "aws:ResourceTag/env",
            vec![json!("pro*"), json!("d?v")],
        ),
        3 => ("StringNotLike", "aws:username", vec![json!("a*")]),
        4 => (
            "StringEqualsIgnoreCase",
            "aws:PrincipalTag/team",
            vec![json!("BLUE")],
        ),
        5 => (
            "IpAddress",
            "aws:SourceIp",
            vec![json!("203.0.113.0/24"), json!("2001:db8::/32")],
        ),
        6 => ("NotIpAddress", "aws:SourceIp", vec![json!("10.0.0.0/8")]),
        7 => (
            "DateLessThan",
            "aws:CurrentTime",
            vec![json!("2026-06-01T00:00:00Z")],
        ),
        8 => (
            "DateGreaterThanEquals",
            "aws:CurrentTime",
            vec![json!("1704067200")],
        ),
        9 => ("Bool", "aws:SecureTransport", vec![json!(rng.chance(50))]),
        10 => (
            "NumericLessThanEquals",
            "aws:MultiFactorAuthAge",
            vec![json!(3600)],
        ),
        11 => (
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            vec![json!("team"), json!("env")],
        ),
        12 => (
            "ArnLike",
            "aws:PrincipalArn",
            vec![json!("arn:aws:iam::*:role/ap*")],
        ),
        13 => (
            "ArnNotEquals",
            "aws:SourceArn",
            vec![json!("arn:aws:s3:::bucket")],
        ),
        14 => (
            "StringEquals",
            "aws:ResourceTag/env",
            vec![json!("${aws:PrincipalTag/team}")],
        ),
        _ => {
            let null_value = if rng.chance(50) { "true" } else { "false" };
            let key = *rng.pick(KEYS);
            let mut m = serde_json::Map::new();
            m.insert(key.to_string(), json!(null_value));
            return json!({ "Null": m });
        }
    };
    let name = if op.contains(':') {
        op.to_string()
    } else {
        format!("{qual}{op}{ifx}")
    };
    let vals = if values.len() == 1 || rng.chance(50) {
        values[0].clone()
    } else {
        Value::Array(values)
    };
    json!({ name: { key: vals } })
}

fn principal(rng: &mut Rng<'_>) -> Value {
    let acct = *rng.pick(ACCOUNTS);
    let v = match rng.below(8) {
        0 => return json!("*"),
        1 => json!(acct),
        2 => json!(format!("arn:aws:iam::{acct}:root")),
        3 => json!(format!("arn:aws:iam::{acct}:user/alice")),
        4 => json!(format!("arn:aws:iam::{acct}:role/teams/app")),
        5 => json!(format!("arn:aws:sts::{acct}:assumed-role/app/s1")),
        6 => json!([format!("arn:aws:iam::{acct}:user/bob"), "*"]),
        _ => json!([acct, format!("arn:aws:iam::{acct}:role/app")]),
    };
    json!({ "AWS": v })
}

fn statement(rng: &mut Rng<'_>, with_principal: bool, effect: Option<&str>) -> Value {
    let mut s = serde_json::Map::new();
    if rng.chance(30) {
        s.insert("Sid".into(), json!(format!("S{}", rng.below(1_000_000))));
    }
    let effect = effect.unwrap_or(if rng.chance(25) { "Deny" } else { "Allow" });
    s.insert("Effect".into(), json!(effect));
    if with_principal {
        let key = if rng.chance(10) {
            "NotPrincipal"
        } else {
            "Principal"
        };
        s.insert(key.into(), principal(rng));
    }
    let n = 1 + rng.below(3);
    let actions: Vec<Value> = (0..n)
        .map(|_| {
            if rng.chance(50) {
                json!(*rng.pick(ACTIONS))
            } else {
                json!(*rng.pick(ACTION_PATTERNS))
            }
        })
        .collect();
    let key = if rng.chance(10) {
        "NotAction"
    } else {
        "Action"
    };
    s.insert(key.into(), Value::Array(actions));
    let n = 1 + rng.below(2);
    let resources: Vec<Value> = (0..n).map(|_| json!(resource_pattern(rng))).collect();
    let key = if rng.chance(8) {
        "NotResource"
    } else {
        "Resource"
    };
    s.insert(key.into(), Value::Array(resources));
    if rng.chance(35) {
        let mut c = serde_json::Map::new();
        for _ in 0..1 + rng.below(2) {
            if let Value::Object(m) = condition(rng) {
                for (k, v) in m {
                    c.entry(k).or_insert(v);
                }
            }
        }
        s.insert("Condition".into(), Value::Object(c));
    }
    Value::Object(s)
}

fn policy(rng: &mut Rng<'_>, with_principal: bool, n: usize, effect: Option<&str>) -> Value {
    let version = if rng.chance(10) {
        "2008-10-17"
    } else {
        "2012-10-17"
    };
    let stmts: Vec<Value> = (0..n)
        .map(|_| statement(rng, with_principal, effect))
        .collect();
    json!({"Version": version, "Statement": stmts})
}

fn doc(id: String, ty: PolicyType, v: &Value) -> Option<Arc<PolicyDoc>> {
    let p = parse_policy(&v.to_string(), &Limits::default()).ok()?;
    Some(PolicyDoc::new(id, ty, p))
}

fn caller(rng: &mut Rng<'_>) -> String {
    let acct = *rng.pick(ACCOUNTS);
    match rng.below(9) {
        0 => "anonymous".into(),
        1 => format!("arn:aws:iam::{acct}:root"),
        2 => format!("arn:aws:iam::{acct}:user/bob"),
        3 => format!("arn:aws:sts::{acct}:assumed-role/app/s1"),
        4 => format!("arn:aws:sts::{acct}:assumed-role/App/s2"),
        5 => format!("arn:aws:sts::{acct}:federated-user/fed"),
        6 => format!("arn:aws:iam::{acct}:role/teams/app"),
        _ => format!("arn:aws:iam::{acct}:user/alice"),
    }
}

/// A random request.
pub fn request(rng: &mut Rng<'_>) -> Request {
    let action = if rng.chance(10) {
        rng.pick(ACTIONS).to_uppercase()
    } else if rng.chance(5) {
        "kinesis:Unknownaction".into()
    } else {
        rng.pick(ACTIONS).to_string()
    };
    let resource = if rng.chance(15) {
        "*".into()
    } else {
        resource_value(rng)
    };
    let mut r = Request::new(Caller::parse(&caller(rng)).unwrap(), action, resource);
    if r.action
        .eq_ignore_ascii_case("kinesis:StartStreamEncryption")
        && rng.chance(60)
    {
        r.extra_resources
            .push("arn:aws:kms:us-east-1:111122223333:key/k1".into());
    }
    fn s(v: &str) -> ContextValue {
        ContextValue::One(Scalar::string(v))
    }
    for key in KEYS {
        if !rng.chance(45) {
            continue;
        }
        let v = match *key {
            "aws:PrincipalTag/team" => s(rng.pick_str(&["blue", "red", "BLUE", "*", "clicks"])),
            "aws:ResourceTag/env" => s(rng.pick_str(&["prod", "dev", "blue"])),
            "aws:SourceIp" => s(rng.pick_str(&["203.0.113.9", "10.1.2.3", "2001:db8::1", "bad"])),
            "aws:CurrentTime" => {
                s(rng.pick_str(&["2026-01-01T00:00:00Z", "2026-11-26T10:00:00Z", "1700000000"]))
            }
            "aws:SecureTransport" => ContextValue::One(Scalar::bool(rng.chance(50))),
            "aws:MultiFactorAuthAge" => s(rng.pick_str(&["10", "7200", "3600", "x"])),
            "aws:TagKeys" => ContextValue::Many(
                (0..rng.below(3))
                    .map(|_| Scalar::string(*rng.pick(&["team", "env", "secret"])))
                    .collect(),
            ),
            "aws:PrincipalArn" => s(rng.pick_str(&[
                "arn:aws:iam::111122223333:role/app",
                "arn:aws:iam::111122223333:user/alice",
                "boop",
            ])),
            "aws:username" => s(rng.pick_str(&["alice", "bob"])),
            "aws:RequestedRegion" => s(rng.pick_str(REGIONS)),
            "aws:SourceArn" => s(rng.pick_str(&["arn:aws:s3:::bucket", "arn:aws:s3:::other"])),
            _ => s(rng.pick_str(&["aGVsbG8=", "eA=="])),
        };
        r.context.insert(key, v);
    }
    r.derive_keys();
    r
}

/// Random inputs: policies of every layer.
pub fn inputs(rng: &mut Rng<'_>, resource_arns: &[String]) -> Inputs {
    let mut i = Inputs::default();
    for k in 0..rng.below(4) {
        let n = 1 + rng.below(6);
        let p = policy(rng, false, n, None);
        i.identity
            .extend(doc(format!("id{k}"), PolicyType::Identity, &p));
    }
    if rng.chance(30) {
        let n = 1 + rng.below(3);
        let p = policy(rng, false, n, None);
        i.boundary = doc("pb".into(), PolicyType::Boundary, &p);
    }
    if rng.chance(30) {
        let n = 1 + rng.below(3);
        let p = policy(rng, false, n, None);
        i.session = doc("sp".into(), PolicyType::Session, &p);
    }
    for l in 0..rng.below(3) {
        let mut level = Vec::new();
        let n = 1 + rng.below(3);
        let p = policy(rng, false, n, None);
        level.extend(doc(format!("scp{l}"), PolicyType::Scp, &p));
        if !level.is_empty() {
            i.scps.push(level);
        }
    }
    for arn in resource_arns {
        let mut side = ResourceSide {
            arn: arn.clone(),
            ..ResourceSide::default()
        };
        if rng.chance(60) {
            let n = 1 + rng.below(5);
            let p = policy(rng, true, n, None);
            side.policy = doc(format!("rp:{arn}"), PolicyType::Resource, &p);
        }
        if rng.chance(15) {
            let rcp = json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
                statement(rng, true, Some("Deny"))]});
            side.rcps
                .extend(doc("rcp".into(), PolicyType::Rcp, &rcp).map(|d| vec![d]));
        }
        i.resources.push(side);
    }
    i
}

/// A case: inputs and up to 8 requests against them, from the fuzzer's bytes.
pub fn case(data: &[u8]) -> (Inputs, Vec<Request>) {
    let mut rng = Rng::new(data);
    let n = 1 + rng.below(8);
    let reqs: Vec<Request> = (0..n).map(|_| request(&mut rng)).collect();
    let mut arns: Vec<String> = reqs
        .iter()
        .flat_map(|r| r.resources().map(str::to_string).collect::<Vec<_>>())
        .collect();
    arns.sort();
    arns.dedup();
    (inputs(&mut rng, &arns), reqs)
}
