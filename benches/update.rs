//! The cost of one resource-policy update (the gateway's `PutResourcePolicy`) on a large store:
//! 10,000 streams with resource policies and 100,000 statements in all (issue 13). An
//! incremental update ([`Authorizer::with_resource_policy`]) against a full build of the same
//! store ([`Authorizer::new`]), and a mirrored tag change rebuilt reusing the compiled sets
//! ([`Authorizer::rebuilt`]).
//!
//! `cargo bench --bench update`.

// A generated store that does not load is a bug of this benchmark: stop loudly.
#![allow(clippy::panic, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use iamc::ast::{PolicyDoc, PolicyType};
use iamc::parse::{parse_policy, Limits};
use iamc::{Authorizer, Semantics, Store};
use serde_json::{json, Value};

const STREAMS: usize = 10_000;
const ACCOUNTS: usize = 10;

fn stream(i: usize) -> String {
    format!(
        "arn:aws:kinesis:us-east-1:{:012}:stream/s{i}",
        100_000_000_000 + i % ACCOUNTS
    )
}

/// A resource policy of `n` statements sharing the stream with other accounts.
fn stream_policy(arn: &str, n: usize, salt: usize) -> Value {
    let statements: Vec<Value> = (0..n)
        .map(|k| {
            json!({
                "Sid": format!("s{k}x{salt}"),
                "Effect": if k % 5 == 4 { "Deny" } else { "Allow" },
                "Principal": {"AWS": format!("arn:aws:iam::{:012}:root", 200_000_000_000usize + (salt + k) % 50)},
                "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"],
                "Resource": arn
            })
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// 10 accounts of 100 users with 10-statement identity policies (10,000 statements) and 10,000
/// streams with 9-statement policies (90,000).
fn generated_store() -> Store {
    let mut accounts = serde_json::Map::new();
    for a in 0..ACCOUNTS {
        let mut users = serde_json::Map::new();
        for u in 0..100 {
            let statements: Vec<Value> = (0..10)
                .map(|k| {
                    json!({"Effect": "Allow", "Action": "kinesis:Get*",
                           "Resource": stream(a + ACCOUNTS * (u * 10 + k))})
                })
                .collect();
            users.insert(
                format!("u{u}"),
                json!({"inline": {"p": {"Version": "2012-10-17", "Statement": statements}}}),
            );
        }
        accounts.insert(
            format!("{:012}", 100_000_000_000usize + a),
            json!({"users": users}),
        );
    }
    let resources: serde_json::Map<String, Value> = (0..STREAMS)
        .map(|i| {
            let arn = stream(i);
            let policy = stream_policy(&arn, 9, i);
            (arn, json!({"type": "resource", "policy": policy}))
        })
        .collect();
    let text = json!({"version": 1, "accounts": accounts, "resources": resources}).to_string();
    match Store::from_str(&text, None) {
        Ok(s) => s,
        Err(e) => panic!(
            "the generated store does not load: {:?}",
            &e[..e.len().min(3)]
        ),
    }
}

fn update(c: &mut Criterion) {
    let store = Arc::new(generated_store());
    assert_eq!(store.stats().statements, 100_000);
    let sem = Semantics::default();
    let auth = Authorizer::new(Arc::clone(&store), sem.clone()).unwrap();
    let target = stream(4_242);
    let doc = PolicyDoc::new(
        format!("resource/{target}"),
        PolicyType::Resource,
        match parse_policy(
            &stream_policy(&target, 9, 7).to_string(),
            &Limits::default(),
        ) {
            Ok(p) => p,
            Err(e) => panic!("{e:?}"),
        },
    );
    let mut g = c.benchmark_group("update");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("put one policy, incremental", |b| {
        b.iter(|| {
            black_box(auth.with_resource_policy(
                &target,
                PolicyType::Resource,
                Some(Arc::clone(&doc)),
            ))
        })
    });
    // The gateway's mirrored tag change: a changed copy of the store, rebuilt reusing every
    // compiled set it still shares.
    let mut tags = iamc::store::Tags::new();
    tags.insert("env".into(), "prod".into());
    g.bench_function("mirror one tag change, rebuild reusing sets", |b| {
        b.iter(|| {
            let mut changed = (**auth.store()).clone();
            changed.merge_resource_tags(&target, &tags);
            black_box(auth.rebuilt(Arc::new(changed)).unwrap())
        })
    });
    // `PUT /v1/store` or a reload of the files with nothing changed: new documents equal to
    // the live ones, so every compiled set is reused after a comparison.
    let reloaded = Arc::new(generated_store());
    g.bench_function("reloaded store, rebuild reusing equal sets", |b| {
        b.iter(|| black_box(auth.rebuilt(Arc::clone(&reloaded)).unwrap()))
    });
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("full build of the store", |b| {
        b.iter(|| black_box(Authorizer::new(Arc::clone(&store), sem.clone()).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, update);
criterion_main!(benches);
