//! Access analysis (`iamc::analysis`): the seed's scenario, and brute-force cross-checks over
//! small generated universes (every request of a finite universe decided by the engine and
//! compared with the analysis' answer).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

use common::gen::Rng;
use iamc::analysis::diff::{diff, Verdict};
use iamc::analysis::{who_can::who_can, Analyzer, PrincipalGraph};
use iamc::ast::{PolicyDoc, PolicyType};
use iamc::eval::reference;
use iamc::request::{Caller, Context, ContextValue, Request, Scalar};
use iamc::{Authorizer, Outcome, Semantics, Store};
use serde_json::{json, Value};

const STREAM: &str = "arn:aws:kinesis:us-east-2:123456789012:stream/datastreamABC";
const CONSUMER: &str =
    "arn:aws:kinesis:us-east-2:123456789012:stream/datastreamABC/consumer/consumerDEF:1674696300";

fn example() -> Authorizer {
    let store = Store::load(Path::new("examples/kinesis/store.json")).expect("example store");
    Authorizer::new(Arc::new(store), Semantics::default()).expect("engine")
}

fn allowed(auth: &Authorizer, action: &str, resource: &str) -> Vec<(String, usize)> {
    let an = Analyzer::new(auth, Context::new());
    let g = PrincipalGraph::build(&an);
    let w = who_can(&an, &g, action, resource);
    w.allowed
        .into_iter()
        .map(|a| (a.principal, a.via.len()))
        .collect()
}

#[test]
fn who_can_read_the_shared_stream() {
    let auth = example();
    let got = allowed(&auth, "kinesis:GetRecords", STREAM);
    assert_eq!(
        got,
        vec![
            ("arn:aws:iam::210987654321:root".to_string(), 0),
            ("arn:aws:iam::210987654321:user/analyst".to_string(), 0),
        ]
    );
    // The producer writes and describes, but does not read.
    let got = allowed(&auth, "kinesis:PutRecord", STREAM);
    assert!(got.contains(&("arn:aws:iam::210987654321:user/producer".to_string(), 0)));
    assert!(!got.iter().any(|(p, _)| p.ends_with("user/analyst")));
}

#[test]
fn the_efo_role_through_both_policies_and_the_analyst_through_the_role() {
    let auth = example();
    let got = allowed(&auth, "kinesis:SubscribeToShard", CONSUMER);
    assert_eq!(
        got,
        vec![
            ("arn:aws:iam::210987654321:role/role-name".to_string(), 0),
            ("arn:aws:iam::210987654321:user/analyst".to_string(), 1),
        ]
    );
}

#[test]
fn assume_role_needs_the_trust_policy_and_cross_account_the_identity_policy() {
    let auth = example();
    // Both engines: the compiled one through the store, and the reference evaluator over the
    // policies the store gathers for the request.
    let decide = |p: &str, r: &str| {
        let mut req = Request::new(Caller::parse(p).unwrap(), "sts:AssumeRole", r);
        auth.store().prepare(&mut req);
        let compiled = auth.authorize(&req);
        let inputs = auth.store().inputs_for(&req);
        let reference = reference::evaluate(&inputs, &req, &Semantics::default());
        assert_eq!(compiled.decision, reference.decision, "{p} on {r}");
        assert_eq!(compiled.determining, reference.determining, "{p} on {r}");
        compiled.decision
    };
    let role = "arn:aws:iam::210987654321:role/role-name";
    // Same account, named by ARN in the trust policy: no identity Allow needed.
    assert_eq!(
        decide("arn:aws:iam::210987654321:user/analyst", role),
        Outcome::Allow
    );
    // Same account, not named: the producer's identity policy does not help, nor would one.
    assert_eq!(
        decide("arn:aws:iam::210987654321:user/producer", role),
        Outcome::ImplicitDeny
    );
    // The root user of the account is not named either: the trust policy must grant.
    assert_eq!(
        decide("arn:aws:iam::210987654321:root", role),
        Outcome::ImplicitDeny
    );
    // The trust policy is not a resource policy for other actions on the role.
    let got = auth.authorize(&Request::new(
        Caller::parse("arn:aws:iam::210987654321:user/analyst").unwrap(),
        "iam:GetRole",
        role,
    ));
    assert_eq!(got.decision, Outcome::ImplicitDeny);
}

fn policy(v: Value, ty: PolicyType) -> Arc<PolicyDoc> {
    let p = iamc::parse::parse_policy(&v.to_string(), &Default::default()).expect("policy");
    PolicyDoc::new("p", ty, p)
}

#[test]
fn a_diff_that_shares_get_records_with_another_account_is_caught() {
    let old = policy(
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "210987654321"},
            "Action": ["kinesis:PutRecord", "kinesis:ListShards"], "Resource": STREAM}]}),
        PolicyType::KinesisResource,
    );
    let new = policy(
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "210987654321"},
            "Action": ["kinesis:PutRecord", "kinesis:ListShards"], "Resource": STREAM}, {
            "Effect": "Allow", "Principal": {"AWS": "444455556666"},
            "Action": "kinesis:GetRecords", "Resource": STREAM}]}),
        PolicyType::KinesisResource,
    );
    let d = diff(
        &old,
        &new,
        PolicyType::KinesisResource,
        &Semantics::default(),
    );
    assert_eq!(d.verdict, Verdict::NewAccess);
    let w = &d.witnesses[0];
    assert_eq!(w.action, "kinesis:GetRecords");
    assert!(w.principal.contains("444455556666"), "{w:?}");
    // Narrowing passes, proved.
    let d = diff(
        &new,
        &old,
        PolicyType::KinesisResource,
        &Semantics::default(),
    );
    assert_eq!(d.verdict, Verdict::NoNewAccess, "{d:?}");
}

// ---- brute force over small universes ----

const ACTIONS: &[&str] = &[
    "kinesis:GetRecords",
    "kinesis:PutRecord",
    "kinesis:ListShards",
];
const ACTION_PATTERNS: &[&str] = &[
    "kinesis:GetRecords",
    "kinesis:PutRecord",
    "kinesis:Get*",
    "kinesis:*",
    "kinesis:List*",
    "*",
];
const STREAMS: &[&str] = &["a", "ab", "b", "c"];
const RESOURCE_PATTERNS: &[&str] = &[
    "stream/a",
    "stream/a*",
    "stream/*",
    "stream/b",
    "*",
    "stream/?",
];
const TEAMS: &[&str] = &["red", "blue"];

fn arn(name_pattern: &str) -> String {
    if name_pattern == "*" {
        "*".into()
    } else {
        format!("arn:aws:kinesis:us-east-1:111122223333:{name_pattern}")
    }
}

fn statement(rng: &mut Rng, effect: &str) -> Value {
    let mut s = json!({
        "Effect": effect,
        "Action": (0..1 + rng.below(2)).map(|_| rng.pick_str(ACTION_PATTERNS)).collect::<Vec<_>>(),
        "Resource": (0..1 + rng.below(2)).map(|_| arn(rng.pick_str(RESOURCE_PATTERNS))).collect::<Vec<_>>(),
    });
    if rng.chance(30) {
        s["Condition"] = json!({"StringEquals": {"aws:RequestTag/team": rng.pick_str(TEAMS)}});
    }
    s
}

fn identity_policy(rng: &mut Rng) -> Value {
    let n = 1 + rng.below(3);
    let stmts: Vec<Value> = (0..n)
        .map(|_| {
            let effect = if rng.chance(25) { "Deny" } else { "Allow" };
            statement(rng, effect)
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": stmts})
}

/// OLD's policy for a seed (the same JSON each time it is drawn from a fresh generator).
fn old_statements(rng: &mut Rng) -> Value {
    identity_policy(rng)
}

fn universe() -> Vec<(String, String, Option<&'static str>)> {
    let mut out = Vec::new();
    for a in ACTIONS {
        for s in STREAMS {
            for team in [None, Some("red"), Some("blue")] {
                out.push((a.to_string(), arn(&format!("stream/{s}")), team));
            }
        }
    }
    out
}

fn decide_alone(doc: &Arc<PolicyDoc>, action: &str, resource: &str, team: Option<&str>) -> Outcome {
    let mut req = Request::new(
        Caller::parse(iamc::analysis::diff::DIFF_CALLER).unwrap(),
        action,
        resource,
    );
    if let Some(t) = team {
        req.context
            .insert("aws:RequestTag/team", ContextValue::One(Scalar::string(t)));
    }
    let req = req.with_derived_keys();
    let inputs = iamc::ast::Inputs {
        identity: vec![Arc::clone(doc)],
        ..Default::default()
    };
    reference::evaluate(&inputs, &req, &Semantics::default()).decision
}

#[test]
fn diff_never_claims_no_new_access_when_brute_force_finds_some() {
    let sem = Semantics::default();
    let (mut new_access, mut proved, mut unknown) = (0, 0, 0);
    for seed in 0..300u64 {
        let mut rng = Rng::new(seed);
        let old = policy(old_statements(&mut rng), PolicyType::Identity);
        // A third each: an unrelated policy; OLD plus a Deny (never new access); OLD plus an
        // Allow (new access or not).
        let old_json = old_statements(&mut Rng::new(seed));
        let new = match rng.below(3) {
            0 => policy(identity_policy(&mut rng), PolicyType::Identity),
            k => {
                let mut v = old_json.clone();
                let effect = if k == 1 { "Deny" } else { "Allow" };
                v["Statement"]
                    .as_array_mut()
                    .unwrap()
                    .push(statement(&mut rng, effect));
                policy(v, PolicyType::Identity)
            }
        };
        let brute: Vec<_> = universe()
            .into_iter()
            .filter(|(a, r, t)| {
                decide_alone(&new, a, r, *t) == Outcome::Allow
                    && decide_alone(&old, a, r, *t) != Outcome::Allow
            })
            .collect();
        let d = diff(&old, &new, PolicyType::Identity, &sem);
        if !brute.is_empty() {
            assert_ne!(
                d.verdict,
                Verdict::NoNewAccess,
                "seed {seed}: brute force found {brute:?}"
            );
        }
        for w in &d.witnesses {
            let team = w
                .context
                .get("aws:RequestTag/team")
                .and_then(|v| v.as_str());
            assert_eq!(
                decide_alone(&new, &w.action, &w.resource, team),
                Outcome::Allow,
                "seed {seed}"
            );
            assert_ne!(
                decide_alone(&old, &w.action, &w.resource, team),
                Outcome::Allow,
                "seed {seed}"
            );
        }
        match d.verdict {
            Verdict::NewAccess => new_access += 1,
            Verdict::NoNewAccess => proved += 1,
            Verdict::Unknown => unknown += 1,
        }
    }
    eprintln!("diff over 300 generated pairs: {new_access} new access, {proved} proved none, {unknown} unknown");
    // The generator must exercise every verdict that can be right, or the test checks little.
    assert!(
        new_access > 0 && proved > 0,
        "{new_access} {proved} {unknown}"
    );
}

/// A small store: two accounts, users and roles with generated identity policies and trust
/// policies naming users, roles or accounts.
fn generated_store(rng: &mut Rng) -> Value {
    let accounts = ["111122223333", "210987654321"];
    let mut accts = serde_json::Map::new();
    for (ai, acct) in accounts.iter().enumerate() {
        let mut users = serde_json::Map::new();
        for u in 0..2 {
            let mut p = identity_policy(rng);
            if rng.chance(40) {
                p["Statement"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}));
            }
            users.insert(format!("u{u}"), json!({"inline": {"p": p}}));
        }
        let mut roles = serde_json::Map::new();
        for r in 0..3 {
            let mut p = identity_policy(rng);
            if rng.chance(40) {
                p["Statement"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}));
            }
            let who = |rng: &mut Rng| -> String {
                let a = accounts[rng.below(2)];
                match rng.below(4) {
                    0 => a.to_string(),
                    1 => format!("arn:aws:iam::{a}:user/u{}", rng.below(2)),
                    _ => format!("arn:aws:iam::{a}:role/r{}", rng.below(3)),
                }
            };
            let principals: Vec<String> = (0..1 + rng.below(2)).map(|_| who(rng)).collect();
            let trust = json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}]});
            let mut role = json!({"inline": {"p": p}});
            if rng.chance(85) {
                role["trust"] = trust;
            }
            roles.insert(format!("r{r}"), role);
        }
        let _ = ai;
        accts.insert(acct.to_string(), json!({"users": users, "roles": roles}));
    }
    json!({"version": 1, "accounts": accts})
}

#[test]
fn who_can_equals_the_closure_brute_force_computes() {
    for seed in 0..60u64 {
        let mut rng = Rng::new(1000 + seed);
        let text = generated_store(&mut rng).to_string();
        let store = match Store::from_str(&text, None) {
            Ok(s) => s,
            Err(e) => panic!("seed {seed}: {e:?}"),
        };
        let auth = Authorizer::new(Arc::new(store), Semantics::default()).unwrap();
        let an = Analyzer::new(&auth, Context::new());
        let graph = PrincipalGraph::build(&an);
        let principals: Vec<String> = an.principals().iter().map(|p| p.arn.clone()).collect();
        let decide = |p: &str, a: &str, r: &str| {
            auth.authorize(&Request::new(Caller::parse(p).unwrap(), a, r))
                .decision
                == Outcome::Allow
        };
        // Every pair asks sts:AssumeRole (no pre-filter), then the closure by iteration.
        let roles: Vec<&String> = principals.iter().filter(|p| p.contains(":role/")).collect();
        let edges: HashSet<(String, String)> = principals
            .iter()
            .flat_map(|p| roles.iter().map(move |r| (p.clone(), (*r).clone())))
            .filter(|(p, r)| decide(p, "sts:AssumeRole", r))
            .collect();
        for (action, stream) in [("kinesis:GetRecords", "a"), ("kinesis:PutRecord", "ab")] {
            let resource = arn(&format!("stream/{stream}"));
            let mut can: BTreeSet<String> = principals
                .iter()
                .filter(|p| decide(p, action, &resource))
                .cloned()
                .collect();
            loop {
                let more: Vec<String> = edges
                    .iter()
                    .filter(|(p, r)| can.contains(r) && !can.contains(p))
                    .map(|(p, _)| p.clone())
                    .collect();
                if more.is_empty() {
                    break;
                }
                can.extend(more);
            }
            let w = who_can(&an, &graph, action, &resource);
            let got: BTreeSet<String> = w.allowed.iter().map(|a| a.principal.clone()).collect();
            assert_eq!(got, can, "seed {seed}, {action} on {resource}");
            // Every chain is made of real edges and ends at a principal allowed itself.
            for a in &w.allowed {
                for h in &a.via {
                    assert!(
                        edges.contains(&(h.from.clone(), h.to.clone())),
                        "seed {seed}: {h:?}"
                    );
                }
                if let Some(last) = a.via.last() {
                    assert!(decide(&last.to, action, &resource), "seed {seed}");
                }
            }
        }
    }
}
