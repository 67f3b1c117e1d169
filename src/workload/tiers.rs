//! The tiers S1-S5 and request mixes M1-M3 of `shared/benchmark.md`: policy sets of sizes from
//! 10 to 100,000 statements, each in identity policies that apply to every caller, and requests
//! against them.
//!
//! The policy set is Kinesis-flavoured: many accounts, regions and streams with consumers, plus
//! DynamoDB, CloudWatch and S3 so that service prefixes matter. All statements sit in identity
//! policies that apply to every caller (as a managed policy attached to everyone would); each
//! request's caller is a user of the resource's account, so decisions are same-account ones.
//! Tier S5 adds what only IAM has: `?` wildcards, variables, resource policies with principals,
//! cross-account callers, a permissions boundary and SCP levels.

use std::fmt;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::arn::ArnPattern;
use crate::ast::{Inputs, PolicyDoc, PolicyType, ResourceSide};
use crate::parse::{parse_policy, Limits};
use crate::request::{Caller, ContextValue, Request, Scalar};

use super::Rng;

/// A policy tier (`shared/benchmark.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Literal actions and ARNs; 10% Deny.
    S1,
    /// Mixed wildcards (the default).
    S2,
    /// S2 and 30% of statements with 1-2 conditions.
    S3,
    /// S2 with 10% NotAction and 5% NotResource.
    S4,
    /// Full IAM: `?`, variables, resource policies, cross-account, boundary, SCPs.
    S5,
}

impl Tier {
    /// Every tier.
    pub const ALL: [Tier; 5] = [Tier::S1, Tier::S2, Tier::S3, Tier::S4, Tier::S5];

    /// Parses `S1`..`S5` (any case).
    pub fn parse(s: &str) -> Option<Tier> {
        Some(match s.to_ascii_uppercase().as_str() {
            "S1" => Tier::S1,
            "S2" => Tier::S2,
            "S3" => Tier::S3,
            "S4" => Tier::S4,
            "S5" => Tier::S5,
            _ => return None,
        })
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// A request mix (`shared/benchmark.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mix {
    /// Half derived from a random statement, half random.
    M1,
    /// 90% derived.
    M2,
    /// No request matches any statement.
    M3,
}

impl Mix {
    /// Parses `M1`..`M3` (any case).
    pub fn parse(s: &str) -> Option<Mix> {
        Some(match s.to_ascii_uppercase().as_str() {
            "M1" => Mix::M1,
            "M2" => Mix::M2,
            "M3" => Mix::M3,
            _ => return None,
        })
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

const ACCOUNTS: usize = 50;
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-2",
];
const STREAMS: usize = 400;
const SERVICES: &[(&str, &[&str])] = &[
    (
        "kinesis",
        &[
            "PutRecord",
            "PutRecords",
            "GetRecords",
            "GetShardIterator",
            "DescribeStream",
            "DescribeStreamSummary",
            "ListShards",
            "SubscribeToShard",
            "DescribeStreamConsumer",
            "RegisterStreamConsumer",
            "DeleteStream",
            "CreateStream",
            "MergeShards",
            "SplitShard",
            "AddTagsToStream",
            "ListTagsForStream",
            "IncreaseStreamRetentionPeriod",
        ],
    ),
    (
        "dynamodb",
        &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "Query",
            "Scan",
            "DescribeTable",
            "BatchGetItem",
        ],
    ),
    (
        "cloudwatch",
        &[
            "PutMetricData",
            "GetMetricData",
            "DescribeAlarms",
            "PutMetricAlarm",
        ],
    ),
    (
        "s3",
        &[
            "GetObject",
            "PutObject",
            "DeleteObject",
            "ListBucket",
            "GetBucketPolicy",
        ],
    ),
];
/// The request keys conditions of tier S3 test.
const TEAMS: &[&str] = &["blue", "red", "green", "data", "ops"];

fn account(i: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + i as u64 * 7919)
}

/// A concrete resource of a service: (ARN, account index).
fn concrete_resource(rng: &mut Rng, service: &str) -> (String, usize) {
    let a = rng.below(ACCOUNTS);
    let acct = account(a);
    let region = rng.pick(REGIONS);
    let arn = match service {
        "kinesis" => {
            let s = rng.below(STREAMS);
            if rng.percent(20) {
                format!(
                    "arn:aws:kinesis:{region}:{acct}:stream/stream-{s}/consumer/app-{}:16746963{:02}",
                    rng.below(5),
                    rng.below(100)
                )
            } else {
                format!("arn:aws:kinesis:{region}:{acct}:stream/stream-{s}")
            }
        }
        "dynamodb" => format!(
            "arn:aws:dynamodb:{region}:{acct}:table/table-{}",
            rng.below(200)
        ),
        "cloudwatch" => format!(
            "arn:aws:cloudwatch:{region}:{acct}:alarm:alarm-{}",
            rng.below(100)
        ),
        _ => format!(
            "arn:aws:s3:::bucket-{}-{a}/key-{}",
            rng.below(50),
            rng.below(1000)
        ),
    };
    (arn, a)
}

/// A resource pattern (tiers S2-S5): 40% exact, 45% trailing `/*`, 12% a `*` inside the
/// resource part, 3% `*`.
fn resource_pattern(rng: &mut Rng, service: &str, tier: Tier) -> String {
    let (arn, _) = concrete_resource(rng, service);
    if tier == Tier::S1 {
        return arn;
    }
    let roll = rng.below(100);
    if roll < 3 {
        return "*".into();
    }
    // Cut the ARN after its resource type (`stream/`, `table/`, …) or a prefix of the name.
    let fields = ArnPattern::parse(&arn);
    let head = fields
        .fields()
        .get(..5)
        .map(|p| p.join(":"))
        .unwrap_or_default();
    let res = fields.resource().unwrap_or("");
    let (kind, name) = res.split_once('/').unwrap_or((res, ""));
    if roll < 43 {
        arn
    } else if roll < 88 {
        if tier == Tier::S5 && rng.percent(15) {
            format!("{head}:{kind}/${{aws:PrincipalTag/team}}-*")
        } else {
            format!("{head}:{kind}/*")
        }
    } else {
        let keep = name.len().min(1 + rng.below(name.len().max(1)));
        let prefix = name.get(..keep).unwrap_or("");
        if tier == Tier::S5 && rng.percent(50) {
            format!("{head}:{kind}/{prefix}?*")
        } else {
            format!("{head}:{kind}/{prefix}*-{}", rng.below(10))
        }
    }
}

fn action_pattern(rng: &mut Rng, tier: Tier) -> String {
    let (svc, verbs) = SERVICES[rng.below(SERVICES.len())];
    let verb = rng.pick(verbs);
    let roll = if tier == Tier::S1 { 0 } else { rng.below(100) };
    let pattern = if roll < 60 {
        format!("{svc}:{verb}")
    } else if roll < 90 {
        // `svc:Verb*`: the leading capitalised word of the action name.
        let cut = verb
            .char_indices()
            .skip(1)
            .find(|(_, c)| c.is_ascii_uppercase())
            .map_or(verb.len(), |(i, _)| i);
        format!("{svc}:{}*", verb.get(..cut).unwrap_or(verb))
    } else {
        format!("{svc}:*")
    };
    if tier == Tier::S5 && rng.percent(20) {
        if rng.percent(50) {
            pattern.to_uppercase()
        } else {
            // A `?` in the action name (never in the service prefix).
            let (svc, name) = pattern.split_once(':').unwrap_or(("", &pattern));
            format!("{svc}:{}", name.replacen('e', "?", 1))
        }
    } else {
        pattern
    }
}

fn condition(rng: &mut Rng) -> (String, Value) {
    match rng.below(5) {
        0 => (
            "StringEquals".into(),
            json!({"aws:PrincipalTag/team": rng.pick(TEAMS)}),
        ),
        1 => (
            "StringLike".into(),
            json!({"aws:UserAgent": format!("{}*", rng.pick(&["aws-cli", "Boto3", "aws-sdk-java"]))}),
        ),
        2 => ("Bool".into(), json!({"aws:SecureTransport": "true"})),
        3 => (
            "IpAddress".into(),
            json!({"aws:SourceIp": format!("10.{}.0.0/16", rng.below(8))}),
        ),
        _ => (
            "DateLessThan".into(),
            json!({"aws:CurrentTime": format!("2027-0{}-01T00:00:00Z", 1 + rng.below(9))}),
        ),
    }
}

/// The account-wide list action of a service (its `Resource` is `*`).
fn global_action(service: &str) -> &'static str {
    match service {
        "kinesis" => "ListStreams",
        "dynamodb" => "ListTables",
        "cloudwatch" => "DescribeAlarmHistory",
        _ => "ListAllMyBuckets",
    }
}

/// One generated statement as IAM JSON.
fn statement(rng: &mut Rng, tier: Tier, i: usize) -> Value {
    let mut s = serde_json::Map::new();
    s.insert("Sid".into(), json!(format!("S{i}")));
    let deny = rng.percent(10);
    s.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
    let n_actions = if tier == Tier::S1 {
        1
    } else {
        1 + rng.below(3)
    };
    // Deny statements are targeted, as they are in practice: literal actions and resources.
    let literal = if deny { Tier::S1 } else { tier };
    let mut actions: Vec<String> = (0..n_actions)
        .map(|_| action_pattern(rng, literal))
        .collect();
    let service = actions
        .first()
        .and_then(|a| a.split_once(':'))
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    let n_res = if tier == Tier::S1 {
        1
    } else {
        1 + rng.below(2)
    };
    let mut resources: Vec<String> = (0..n_res)
        .map(|_| resource_pattern(rng, &service, literal))
        .collect();
    if resources.iter().any(|r| r == "*") {
        // `"Resource": "*"` goes with the list and describe actions that need it, as in practice.
        resources = vec!["*".into()];
        actions = vec![format!("{service}:{}", global_action(&service))];
    }
    let not_action = tier == Tier::S4 && !deny && rng.percent(10);
    s.insert(
        (if not_action { "NotAction" } else { "Action" }).into(),
        json!(actions),
    );
    let not_resource = tier == Tier::S4 && !deny && rng.percent(5);
    s.insert(
        (if not_resource {
            "NotResource"
        } else {
            "Resource"
        })
        .into(),
        json!(resources),
    );
    if matches!(tier, Tier::S3 | Tier::S5) && rng.percent(30) {
        let mut c = serde_json::Map::new();
        for _ in 0..1 + rng.below(2) {
            let (op, kv) = condition(rng);
            c.entry(op).or_insert(kv);
        }
        s.insert("Condition".into(), Value::Object(c));
    }
    Value::Object(s)
}

/// A generated policy set and requests against it.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The tier.
    pub tier: Tier,
    /// The statements, as IAM JSON (for engines other than iamc).
    pub statements: Vec<Value>,
    /// The policies as evaluation inputs.
    pub inputs: Inputs,
    /// The requests.
    pub requests: Vec<Request>,
}

/// Statements per generated policy document.
const PER_POLICY: usize = 100;

fn doc(id: String, ty: PolicyType, v: &Value) -> Option<Arc<PolicyDoc>> {
    let limits = Limits::default();
    parse_policy(&v.to_string(), &limits)
        .ok()
        .map(|p| PolicyDoc::new(id, ty, p))
}

/// Generates the policy set of `tier` with `size` statements, deterministic for `seed`.
pub fn policies(tier: Tier, size: usize, seed: u64) -> (Vec<Value>, Inputs) {
    let mut rng = Rng::new(seed ^ 0x5EED_0000 ^ (size as u64) << 8 ^ tier as u64);
    let statements: Vec<Value> = (0..size).map(|i| statement(&mut rng, tier, i)).collect();
    let mut inputs = Inputs::default();
    for (k, chunk) in statements.chunks(PER_POLICY).enumerate() {
        let v = json!({"Version": "2012-10-17", "Statement": chunk});
        inputs
            .identity
            .extend(doc(format!("policy-{k}"), PolicyType::Identity, &v));
    }
    if tier == Tier::S5 {
        let allow_all = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let boundary = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kinesis:*", "dynamodb:*", "s3:*"], "Resource": "*"}]});
        inputs.boundary = doc("boundary".into(), PolicyType::Boundary, &boundary);
        let scp = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "kinesis:DeleteStream", "Resource": "*"}]});
        inputs.scps = vec![
            doc("scp-root".into(), PolicyType::Scp, &allow_all)
                .into_iter()
                .collect(),
            doc("scp-ou".into(), PolicyType::Scp, &scp)
                .into_iter()
                .collect(),
        ];
        // Resource policies on some streams, naming accounts, users and roles.
        for s in 0..40 {
            let a = rng.below(ACCOUNTS);
            let arn = format!(
                "arn:aws:kinesis:{}:{}:stream/stream-{s}",
                REGIONS[s % REGIONS.len()],
                account(a)
            );
            let other = account((a + 1) % ACCOUNTS);
            let principal = match s % 3 {
                0 => json!(other),
                1 => json!(format!("arn:aws:iam::{other}:user/user-1")),
                _ => json!(format!("arn:aws:iam::{other}:role/role-1")),
            };
            let v = json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "share", "Effect": "Allow", "Principal": {"AWS": principal},
                "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:PutRecord"],
                "Resource": arn}]});
            inputs.resources.push(ResourceSide {
                arn: arn.clone(),
                policy: doc(format!("stream-{s}"), PolicyType::Resource, &v),
                rcps: Vec::new(),
            });
        }
    }
    (statements, inputs)
}

/// Fills the wildcards of a pattern with text, so that the result is likely to match it.
fn fill(pattern: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(["x", "", "7", "-0"][rng.below(4)]),
            '?' => out.push('e'),
            c => out.push(c),
        }
    }
    out
}

fn context(rng: &mut Rng, req: &mut Request) {
    let one = |s: String| ContextValue::One(Scalar::string(s));
    req.context.insert(
        "aws:SecureTransport",
        ContextValue::One(Scalar::bool(rng.percent(90))),
    );
    req.context.insert(
        "aws:SourceIp",
        one(format!(
            "10.{}.{}.{}",
            rng.below(10),
            rng.below(256),
            rng.below(256)
        )),
    );
    req.context.insert(
        "aws:CurrentTime",
        one(format!("2027-0{}-15T12:00:00Z", 1 + rng.below(9))),
    );
    req.context.insert(
        "aws:UserAgent",
        one(format!(
            "{}/2.{}",
            rng.pick(&["aws-cli", "Boto3", "aws-sdk-java"]),
            rng.below(20)
        )),
    );
    req.context
        .insert("aws:PrincipalTag/team", one(rng.pick(TEAMS).to_string()));
}

fn caller_for(rng: &mut Rng, resource: &str, tier: Tier) -> Caller {
    let acct = ArnPattern::parse(resource)
        .account()
        .filter(|a| a.len() == 12)
        .map(str::to_string)
        .unwrap_or_else(|| account(rng.below(ACCOUNTS)));
    let acct = if tier == Tier::S5 && rng.percent(20) {
        account(rng.below(ACCOUNTS))
    } else {
        acct
    };
    let arn = if tier == Tier::S5 && rng.percent(40) {
        format!(
            "arn:aws:sts::{acct}:assumed-role/role-{}/session",
            rng.below(3)
        )
    } else {
        format!("arn:aws:iam::{acct}:user/user-{}", rng.below(3))
    };
    Caller::parse(&arn).unwrap_or(Caller::Anonymous)
}

/// Generates `count` distinct-ish requests of `mix` against `statements`.
pub fn requests(
    statements: &[Value],
    tier: Tier,
    mix: Mix,
    count: usize,
    seed: u64,
) -> Vec<Request> {
    let mut rng = Rng::new(seed ^ 0x00AB_CDEF ^ (count as u64) << 4);
    let derived_percent = match mix {
        Mix::M1 => 50,
        Mix::M2 => 90,
        Mix::M3 => 0,
    };
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let (action, resource) = if !statements.is_empty() && rng.percent(derived_percent) {
            let s = &statements[rng.below(statements.len())];
            let pick = |v: &Value, rng: &mut Rng| -> String {
                let list: Vec<&str> = v
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                list.get(rng.below(list.len()))
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            };
            let action_pat = pick(
                s.get("Action")
                    .or(s.get("NotAction"))
                    .unwrap_or(&Value::Null),
                &mut rng,
            );
            let (svc, verbs) = SERVICES[rng.below(SERVICES.len())];
            let action = if action_pat.ends_with(":*") || s.get("NotAction").is_some() {
                let svc = action_pat
                    .split(':')
                    .next()
                    .unwrap_or(svc)
                    .to_ascii_lowercase();
                let verbs = SERVICES
                    .iter()
                    .find(|(s, _)| *s == svc)
                    .map_or(verbs, |(_, v)| *v);
                format!("{svc}:{}", rng.pick(verbs))
            } else if action_pat.contains(['*', '?']) {
                // Complete the verb prefix with a real verb of the service when one fits.
                let (svc, name) = action_pat.split_once(':').unwrap_or((svc, ""));
                let stem = name.trim_end_matches('*').to_ascii_lowercase();
                SERVICES
                    .iter()
                    .find(|(s, _)| s.eq_ignore_ascii_case(svc))
                    .and_then(|(_, vs)| {
                        vs.iter()
                            .find(|v| v.to_ascii_lowercase().starts_with(&stem))
                    })
                    .map_or_else(|| fill(&action_pat, &mut rng), |v| format!("{svc}:{v}"))
            } else {
                action_pat
            };
            let res_pat = pick(
                s.get("Resource")
                    .or(s.get("NotResource"))
                    .unwrap_or(&Value::Null),
                &mut rng,
            );
            let resource = if res_pat == "*" || s.get("NotResource").is_some() {
                concrete_resource(&mut rng, action.split(':').next().unwrap_or("kinesis")).0
            } else {
                fill(
                    &res_pat.replace("${aws:PrincipalTag/team}", TEAMS[0]),
                    &mut rng,
                )
            };
            (action, resource)
        } else if mix == Mix::M3 {
            // A service and an account no statement names.
            (
                format!("sqs:{}", rng.pick(&["SendMessage", "ReceiveMessage"])),
                format!(
                    "arn:aws:sqs:us-east-1:999999999999:queue-{}",
                    rng.below(100)
                ),
            )
        } else {
            let (svc, verbs) = SERVICES[rng.below(SERVICES.len())];
            (
                format!("{svc}:{}", rng.pick(verbs)),
                concrete_resource(&mut rng, svc).0,
            )
        };
        let caller = caller_for(&mut rng, &resource, tier);
        let mut req = Request::new(caller, action, resource);
        context(&mut rng, &mut req);
        req.derive_keys();
        out.push(req);
    }
    out
}

/// A policy set and 10,000 requests of a mix (the benchmark's unit).
pub fn workload(tier: Tier, size: usize, mix: Mix, seed: u64) -> Workload {
    let (statements, inputs) = policies(tier, size, seed);
    let requests = requests(&statements, tier, mix, 10_000, seed);
    Workload {
        tier,
        statements,
        inputs,
        requests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{reference, Outcome};
    use crate::semantics::Semantics;

    #[test]
    fn workloads_are_deterministic_and_mixed() {
        for tier in Tier::ALL {
            let a = workload(tier, 200, Mix::M1, 7);
            let b = workload(tier, 200, Mix::M1, 7);
            assert_eq!(a.statements, b.statements);
            assert_eq!(a.requests, b.requests);
            let parsed: usize = a
                .inputs
                .identity
                .iter()
                .map(|d| d.policy.statements.len())
                .sum();
            assert_eq!(parsed, 200, "{tier}: every statement parses");
            let sem = Semantics::default();
            let mut seen = std::collections::BTreeSet::new();
            for r in a.requests.iter().take(2000) {
                seen.insert(reference::evaluate(&a.inputs, r, &sem).decision);
            }
            assert!(seen.contains(&Outcome::Allow), "{tier}: {seen:?}");
            // S4's Allow + NotResource statements grant broadly, so it may deny nothing
            // implicitly.
            if tier != Tier::S4 {
                assert!(seen.contains(&Outcome::ImplicitDeny), "{tier}: {seen:?}");
            }
        }
        let m3 = workload(Tier::S2, 200, Mix::M3, 7);
        let sem = Semantics::default();
        for r in m3.requests.iter().take(500) {
            assert_eq!(
                reference::evaluate(&m3.inputs, r, &sem).decision,
                Outcome::ImplicitDeny
            );
        }
    }
}
