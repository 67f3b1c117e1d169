//! Two engines, one truth: over generated policy sets and requests, the compiled engine, its
//! batch path and the reference evaluator give the same decision, the same determining
//! statements, missing keys, blocking layer and errors; the outcome-only fast paths (compiled,
//! batched, reference) give the same outcome.
//!
//! `cargo test` runs 20,000 requests (2,000 random policy sets x 10 requests). Set
//! `IAMC_AGREEMENT_CASES=10000000` for a long run; `IAMC_AGREEMENT_SEED` starts elsewhere.

#![allow(clippy::unwrap_used)]

mod common;

use common::gen;
use iamc::compile::Engine;
use iamc::eval::reference;
use iamc::semantics::Semantics;
use std::sync::Arc;

#[test]
fn compiled_batch_and_reference_agree() {
    let total: u64 = std::env::var("IAMC_AGREEMENT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let first: u64 = std::env::var("IAMC_AGREEMENT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let per_set = 10u64;
    let sem = Semantics::default();
    let mut outcomes = std::collections::BTreeMap::new();
    for seed in first..first + total.div_ceil(per_set) {
        let (inputs, reqs) = gen::case(seed, per_set as usize);
        let engine = Engine::from_inputs(&inputs, sem.clone()).unwrap();
        let batch = engine.authorize_batch(&reqs);
        let mut fast = vec![iamc::Outcome::ImplicitDeny; reqs.len()];
        engine.decide_batch(&reqs, &mut fast);
        let mut scratch = iamc::compile::Scratch::default();
        for (i, r) in reqs.iter().enumerate() {
            let want = reference::evaluate(&inputs, r, &sem);
            let got = engine.authorize(r);
            assert_eq!(
                got, want,
                "compiled != reference for seed {seed}, request {i}: {r:?}"
            );
            assert_eq!(
                batch.get(i),
                Some(&want),
                "batch != reference for seed {seed}, request {i}"
            );
            assert_eq!(
                engine.decide_with(&mut scratch, r),
                want.decision,
                "compiled outcome != reference for seed {seed}, request {i}: {r:?}"
            );
            assert_eq!(
                reference::outcome(&inputs, r, &sem),
                want.decision,
                "reference outcome != reference for seed {seed}, request {i}: {r:?}"
            );
            assert_eq!(
                fast[i], want.decision,
                "outcome batch != reference for seed {seed}, request {i}"
            );
            *outcomes.entry(want.decision).or_insert(0u64) += 1;
        }
    }
    // The generator must exercise every outcome, or the test proves little.
    assert!(outcomes.len() == 3, "outcomes seen: {outcomes:?}");
    eprintln!("agreement: {outcomes:?}");
}

#[test]
fn store_engine_agrees_with_the_reference_on_the_example_store() {
    use iamc::request::{Caller, Request};
    use std::sync::Arc;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kinesis");
    let store = Arc::new(iamc::store::Store::load(&dir.join("store.json")).unwrap());
    let engine = iamc::Authorizer::new(Arc::clone(&store), Semantics::default()).unwrap();
    let text = std::fs::read_to_string(dir.join("requests.jsonl")).unwrap();
    let mut reqs: Vec<Request> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<iamc::request::RequestJson>(l)
                .unwrap()
                .to_request()
                .unwrap()
        })
        .collect();
    // Every example caller against every example action and resource.
    let callers: Vec<Caller> = reqs.iter().map(|r| r.caller.clone()).collect();
    let pairs: Vec<(String, String)> = reqs
        .iter()
        .map(|r| (r.action.clone(), r.resource.clone()))
        .collect();
    for c in &callers {
        for (a, res) in &pairs {
            reqs.push(Request::new(c.clone(), a.clone(), res.clone()));
        }
    }
    let n = reqs.len();
    assert!(n > 400);
    check_store(&store, &engine, reqs);
}

/// Through the front door, one at a time and batched, and prepared by hand first (preparing
/// twice changes nothing), against the reference over the store's inputs.
fn check_store(
    store: &iamc::store::Store,
    auth: &iamc::Authorizer,
    reqs: Vec<iamc::request::Request>,
) {
    let mut all = Vec::new();
    for r in reqs {
        let mut p = r.clone();
        store.prepare(&mut p);
        all.push(p);
        all.push(r);
    }
    let batch = auth.authorize_batch(&all);
    let mut fast = vec![iamc::Outcome::ImplicitDeny; all.len()];
    auth.decide_batch(&all, &mut fast);
    for (i, r) in all.iter().enumerate() {
        let mut p = r.clone();
        store.prepare(&mut p);
        let want = reference::evaluate(&store.inputs_for(&p), &p, &Semantics::default());
        assert_eq!(auth.authorize(r), want, "request {i}: {r:?}");
        assert_eq!(batch[i], want, "batch, request {i}");
        assert_eq!(auth.decide(r), want.decision, "outcome, request {i}: {r:?}");
        assert_eq!(fast[i], want.decision, "outcome batch, request {i}");
    }
}

/// The gateway's fixture store: two accounts, a role in another account with sessions, tags;
/// and requests from callers the store names (in any case), and callers it does not.
fn gateway_store_requests() -> (
    std::sync::Arc<iamc::store::Store>,
    Vec<iamc::request::Request>,
) {
    use iamc::request::{Caller, Request};
    use std::sync::Arc;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/store.json");
    let store = Arc::new(iamc::store::Store::load(&path).unwrap());
    let callers = [
        "arn:aws:iam::111122223333:user/admin",
        "arn:aws:iam::111122223333:user/producer",
        "arn:aws:iam::111122223333:user/PRODUCER",
        "arn:aws:iam::111122223333:user/tagged",
        "arn:aws:iam::111122223333:root",
        "arn:aws:sts::210987654321:assumed-role/reader/app",
        "arn:aws:sts::210987654321:assumed-role/READER/app",
        "arn:aws:sts::210987654321:assumed-role/reader/limited",
        "arn:aws:iam::210987654321:role/reader",
        "arn:aws:iam::999999999999:user/stranger",
        "anonymous",
    ];
    let actions = [
        "kinesis:PutRecord",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStreamSummary",
        "kinesis:PutResourcePolicy",
        "kinesis:ListStreams",
        "kinesis:SubscribeToShard",
    ];
    let resources = [
        "arn:aws:kinesis:us-east-1:111122223333:stream/orders",
        "arn:aws:kinesis:us-east-1:111122223333:stream/legacy",
        "arn:aws:kinesis:us-east-1:111122223333:stream/orders/consumer/fanout:1700000000",
        "arn:aws:kinesis:us-east-1:210987654321:stream/orders",
        "*",
    ];
    let mut reqs = Vec::new();
    for c in callers {
        for a in actions {
            for r in resources {
                reqs.push(Request::new(Caller::parse(c).unwrap(), a, r));
            }
        }
    }
    (store, reqs)
}

#[test]
fn store_engine_agrees_with_the_reference_on_the_gateway_store() {
    let (store, reqs) = gateway_store_requests();
    let engine = iamc::Authorizer::new(Arc::clone(&store), Semantics::default()).unwrap();
    check_store(&store, &engine, reqs);
}

/// An incremental update (the gateway's PutResourcePolicy / DeleteResourcePolicy) decides as
/// an authorizer built from scratch over the updated store, and as the reference.
#[test]
fn incremental_resource_policy_updates_agree_with_a_full_build() {
    use iamc::ast::{PolicyDoc, PolicyType};
    use iamc::parse::{parse_policy, Limits};
    use iamc::Authorizer;
    use std::sync::Arc;
    let (store, reqs) = gateway_store_requests();
    let sem = Semantics::default();
    let orders = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
    let policy = |json: &str| {
        Some(PolicyDoc::new(
            format!("resource/{orders}"),
            PolicyType::Resource,
            parse_policy(json, &Limits::default()).unwrap(),
        ))
    };
    let updates = [
        policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::210987654321:role/reader"}},"Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"{orders}"}}]}}"#
        )),
        policy(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"kinesis:PutRecord","Resource":"{orders}"}}]}}"#
        )),
        None,
    ];
    let mut auth = Authorizer::new(Arc::clone(&store), sem.clone()).unwrap();
    for (u, doc) in updates.into_iter().enumerate() {
        auth = auth
            .with_resource_policy(orders, PolicyType::Resource, doc)
            .unwrap();
        let full = Authorizer::new(Arc::clone(auth.store()), sem.clone()).unwrap();
        for (i, r) in reqs.iter().enumerate() {
            let got = auth.authorize(r);
            assert_eq!(got, full.authorize(r), "update {u}, request {i}: {r:?}");
            let mut p = r.clone();
            auth.store().prepare(&mut p);
            let want = reference::evaluate(&auth.store().inputs_for(&p), &p, &sem);
            assert_eq!(got, want, "update {u}, request {i} against the reference");
        }
    }
}

/// RCP levels (and the management account, which they skip), SCP levels, resources with and
/// without policies, and an ARN without an account (its account is the caller's).
#[test]
fn store_engine_agrees_with_the_reference_on_rcps() {
    use iamc::request::{Caller, Request};
    use std::sync::Arc;
    let text = r#"{
      "version": 1,
      "policies": {
        "Read": { "type": "identity", "document": { "Version": "2012-10-17", "Statement": [
          { "Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:DeleteStream"], "Resource": "*" }] } },
        "FullAWSAccess": { "type": "scp", "document": { "Version": "2012-10-17", "Statement": [
          { "Effect": "Allow", "Action": "*", "Resource": "*" }] } },
        "RCPFullAWSAccess": { "type": "rcp", "document": { "Version": "2012-10-17", "Statement": [
          { "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*" }] } },
        "DenyOutsiders": { "type": "rcp", "document": { "Version": "2012-10-17", "Statement": [
          { "Effect": "Deny", "Principal": "*", "Action": "kinesis:GetRecords", "Resource": "*",
            "Condition": { "StringNotEquals": { "aws:PrincipalAccount": "111122223333" } } }] } }
      },
      "organization": {
        "management_account": "999999999999",
        "accounts": {
          "111122223333": { "scps": [["FullAWSAccess"]], "rcps": [["RCPFullAWSAccess"], ["DenyOutsiders"]] },
          "210987654321": { "scps": [["FullAWSAccess"]], "rcps": [["RCPFullAWSAccess"]] },
          "999999999999": { "scps": [["FullAWSAccess"]], "rcps": [["RCPFullAWSAccess"], ["DenyOutsiders"]] }
        }
      },
      "accounts": {
        "111122223333": { "users": { "alice": { "policies": ["Read"] } } },
        "210987654321": { "users": { "bob": { "policies": ["Read"] } } },
        "999999999999": { "users": { "mgmt": { "policies": ["Read"] } } }
      },
      "resources": {
        "arn:aws:kinesis:us-east-1:111122223333:stream/shared": { "policy": {
          "Version": "2012-10-17", "Statement": [{ "Effect": "Allow",
            "Principal": { "AWS": "arn:aws:iam::210987654321:root" },
            "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:us-east-1:111122223333:stream/shared" }] } }
      }
    }"#;
    let store = Arc::new(iamc::store::Store::from_str(text, None).unwrap());
    let engine = iamc::Authorizer::new(Arc::clone(&store), Semantics::default()).unwrap();
    let callers = [
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::210987654321:user/bob",
        "arn:aws:iam::999999999999:user/mgmt",
        "arn:aws:iam::888888888888:user/nobody",
    ];
    let resources = [
        "arn:aws:kinesis:us-east-1:111122223333:stream/shared",
        "arn:aws:kinesis:us-east-1:111122223333:stream/private",
        "arn:aws:kinesis:us-east-1:210987654321:stream/theirs",
        "arn:aws:kinesis:us-east-1:999999999999:stream/mgmt",
        "arn:aws:kinesis:us-east-1::stream/no-account",
        "*",
    ];
    let mut reqs = Vec::new();
    let mut outcomes = std::collections::BTreeSet::new();
    for c in callers {
        for a in ["kinesis:GetRecords", "kinesis:DeleteStream"] {
            for r in resources {
                let req = Request::new(Caller::parse(c).unwrap(), a, r);
                outcomes.insert(format!("{:?}", engine.authorize(&req).decision));
                reqs.push(req);
            }
        }
    }
    assert_eq!(
        outcomes.len(),
        3,
        "the cases reach every outcome: {outcomes:?}"
    );
    check_store(&store, &engine, reqs);
}

/// A rebuild over a changed copy of the store (tags mirrored, a session set, a policy
/// replaced), reusing the compiled sets the copy still shares, decides as a build from scratch.
#[test]
fn a_rebuild_reusing_compiled_sets_agrees_with_a_full_build() {
    use iamc::ast::PolicyType;
    use iamc::Authorizer;
    let (store, reqs) = gateway_store_requests();
    let sem = Semantics::default();
    let before = Authorizer::new(Arc::clone(&store), sem.clone()).unwrap();
    let mut changed = (*store).clone();
    let orders = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
    let mut tags = iamc::store::Tags::new();
    tags.insert("env".into(), "prod".into());
    changed.merge_resource_tags(orders, &tags);
    changed
        .set_session(
            "arn:aws:sts::210987654321:assumed-role/reader/app",
            None,
            &tags,
        )
        .unwrap();
    changed.set_resource_policy(orders, PolicyType::KinesisResource, None);
    let changed = Arc::new(changed);
    let rebuilt = before.rebuilt(Arc::clone(&changed)).unwrap();
    let full = Authorizer::new(changed, sem).unwrap();
    assert_eq!(rebuilt.dump(), full.dump());
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(
            rebuilt.authorize(r),
            full.authorize(r),
            "request {i}: {r:?}"
        );
    }
}

/// A store loaded again with one policy changed (a `PUT /v1/store`, a reload of the files),
/// compiled reusing the live engine's sets for every policy equal to one it had, decides as a
/// build from scratch; and an unchanged reload shares every set.
#[test]
fn a_reload_reusing_equal_policies_agrees_with_a_full_build() {
    use iamc::{Authorizer, EngineBuilder};
    let (_, reqs) = gateway_store_requests();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/store.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let base = path.parent().unwrap();
    let load = |t: &str| Arc::new(iamc::store::Store::from_str(t, Some(base)).unwrap());
    let sem = Semantics::default();
    let before = Authorizer::new(load(&text), sem.clone()).unwrap();
    let same = before.rebuilt(load(&text)).unwrap();
    assert_eq!(same.dump(), before.dump());
    let changed = text.replacen(r#""Action": "kinesis:*""#, r#""Action": "kinesis:Get*""#, 1);
    assert_ne!(changed, text, "the store has the policy this test changes");
    let builder = EngineBuilder::new().semantics(sem.clone());
    let rebuilt = builder.rebuild(&before, load(&changed)).unwrap();
    let full = Authorizer::new(load(&changed), sem).unwrap();
    assert_eq!(rebuilt.dump(), full.dump());
    let mut differ = 0;
    for (i, r) in reqs.iter().enumerate() {
        let got = rebuilt.authorize(r);
        assert_eq!(got, full.authorize(r), "request {i}: {r:?}");
        differ += usize::from(got.decision != before.authorize(r).decision);
    }
    assert!(differ > 0, "the changed policy changes some decision");
}
