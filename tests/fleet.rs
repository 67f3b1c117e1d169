//! A fleet of `iamc gateway`s on one etcd (`--state etcd://…`), with real parts: etcd (the
//! Debian package `etcd-server`, `/usr/bin/etcd`), kinesalite and boto3 (tests/gateway/setup.sh),
//! all on loopback, started here and killed when the test ends (panics included).
//!
//! One test, in order: three gateways A, B, C on one etcd; a policy put through A is enforced
//! by B and C (the lag measured over 20 changes and printed); an iterator from A reads on B and
//! C; a forged or altered iterator is refused; puts through A and B in turn converge to the last
//! acknowledged one; `kill -9` of A in the middle of 50 puts loses nothing acknowledged; a restart
//! of all three loses no policy and no iterator; etcd stopped: decisions within
//! `--max-staleness` go on, writes get a retryable 503, past the bound requests fail closed, and
//! all recovers when etcd is back.
//!
//! Nothing is skipped: without etcd or the e2e tools the test fails and says what to install
//! (`bash tests/fleet/setup.sh`).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/proc.rs"]
mod proc;

#[path = "fleet/harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::*;
use serde_json::{json, Value};

/// Short, so that the staleness part of the test is quick.
const MAX_STALENESS_SECS: u64 = 3;

fn policy(sid: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::210987654321:role/reader"},
            "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords"],
            "Resource": STREAM_ARN,
        }]
    })
    .to_string()
}

/// The Sid of the policy a gateway returns for the stream ("" for none).
fn sid_on(d: &mut Driver, gw: &Gw) -> String {
    try_sid(d, gw).unwrap_or_else(|r| panic!("GetResourcePolicy through {}: {r}", gw.name))
}

/// The Sid, or the error answer.
fn try_sid(d: &mut Driver, gw: &Gw) -> Result<String, Value> {
    let r = d.call(
        gw,
        ADMIN,
        "get_resource_policy",
        json!({"ResourceARN": STREAM_ARN}),
    );
    if r["ok"] != true {
        return Err(r);
    }
    let text = r["result"]["Policy"].as_str().unwrap_or("{}").to_string();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(v.pointer("/Statement/0/Sid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string())
}

/// Whether the cross-account reader may describe the stream through `gw`.
fn reader_allowed(d: &mut Driver, gw: &Gw) -> Result<bool, Value> {
    let r = d.call(
        gw,
        READER,
        "describe_stream_summary",
        json!({"StreamARN": STREAM_ARN}),
    );
    if r["ok"] == true {
        return Ok(true);
    }
    if r["code"] == "AccessDeniedException" {
        return Ok(false);
    }
    Err(r)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
fn fleet_of_gateways_on_one_etcd() {
    let mut f = Fleet::start();
    let mut d = Driver::start(&f);
    let (a, b, c) = (
        f.gateway("A", MAX_STALENESS_SECS),
        f.gateway("B", MAX_STALENESS_SECS),
        f.gateway("C", MAX_STALENESS_SECS),
    );

    // The stream, a record in it.
    d.ok(
        &a,
        ADMIN,
        "create_stream",
        json!({"StreamName": STREAM, "ShardCount": 1}),
    );
    d.ok(
        &a,
        ADMIN,
        "put_record",
        json!({"StreamName": STREAM, "Data": "aGVsbG8=", "PartitionKey": "k"}),
    );
    for gw in [&a, &b, &c] {
        assert_eq!(reader_allowed(&mut d, gw), Ok(false), "no policy yet");
    }

    // 1. A policy put through A is enforced by B and C: the lag over 20 changes (put, delete).
    let mut lags = Vec::new();
    let mut writes = Vec::new();
    for round in 0..20 {
        let allow = round % 2 == 0;
        let t = Instant::now();
        if allow {
            d.ok(
                &a,
                ADMIN,
                "put_resource_policy",
                json!({"ResourceARN": STREAM_ARN, "Policy": policy(&format!("r{round}"))}),
            );
        } else {
            d.ok(
                &a,
                ADMIN,
                "delete_resource_policy",
                json!({"ResourceARN": STREAM_ARN}),
            );
        }
        writes.push(t.elapsed().as_secs_f64() * 1e3);
        // Read-your-writes on A: enforced by the answer's time.
        assert_eq!(
            reader_allowed(&mut d, &a),
            Ok(allow),
            "A after its own write"
        );
        let acked = Instant::now();
        for gw in [&b, &c] {
            loop {
                if reader_allowed(&mut d, gw) == Ok(allow) {
                    lags.push(acked.elapsed().as_secs_f64() * 1e3);
                    break;
                }
                assert!(
                    acked.elapsed() < Duration::from_secs(10),
                    "gateway {} does not enforce the change of round {round} after 10 s\n{}",
                    gw.name,
                    gw.proc.log_tail()
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    lags.sort_by(f64::total_cmp);
    writes.sort_by(f64::total_cmp);
    println!(
        "MEASURED propagation (ack on A -> enforced on B/C, {} samples, includes one boto3 call): \
         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        lags[lags.len() - 1]
    );
    println!(
        "MEASURED write latency through A on etcd (boto3 call, upstream existence check included): \
         p50 {:.1} ms, p99 {:.1} ms",
        percentile(&writes, 0.5),
        percentile(&writes, 0.99)
    );

    // 2. An iterator from A reads on B, and its next one on C.
    d.ok(
        &a,
        ADMIN,
        "put_resource_policy",
        json!({"ResourceARN": STREAM_ARN, "Policy": policy("read")}),
    );
    let it = d.ok(
        &a,
        READER,
        "get_shard_iterator",
        json!({"StreamARN": STREAM_ARN, "ShardId": SHARD, "ShardIteratorType": "TRIM_HORIZON"}),
    )["result"]["ShardIterator"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(it.starts_with("i1."), "a sealed iterator: {it}");
    let r = d.ok(&b, READER, "get_records", json!({"ShardIterator": it}));
    assert_eq!(r["result"]["Records"].as_array().unwrap().len(), 1, "{r}");
    let next = r["result"]["NextShardIterator"]
        .as_str()
        .unwrap()
        .to_string();
    let r = d.ok(&c, READER, "get_records", json!({"ShardIterator": next}));
    assert_eq!(r["result"]["Records"].as_array().unwrap().len(), 0, "{r}");

    // 2b. A tag mirrored through A is seen by C's aws:ResourceTag conditions.
    let record = json!({"StreamName": STREAM, "Data": "aGk=", "PartitionKey": "k"});
    let r = d.call(&c, TAGGED, "put_record", record.clone());
    assert_eq!(r["code"], "AccessDeniedException", "untagged: {r}");
    d.ok(
        &a,
        ADMIN,
        "add_tags_to_stream",
        json!({"StreamName": STREAM, "Tags": {"env": "dev"}}),
    );
    wait_for(
        || d.call(&c, TAGGED, "put_record", record.clone())["ok"] == true,
        "the tag env=dev mirrored through A",
        &c,
    );

    // 3. Forged and altered iterators are refused.
    let (payload, mac) = it.strip_prefix("i1.").unwrap().split_once('.').unwrap();
    let mut altered = payload.as_bytes().to_vec();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    let altered = format!("i1.{}.{mac}", String::from_utf8(altered).unwrap());
    let forged = format!("i1.{payload}.{}", "A".repeat(mac.len()));
    for (what, bad) in [
        ("altered", altered),
        ("forged", forged),
        ("raw", "AAAA".into()),
    ] {
        let r = d.call(&b, READER, "get_records", json!({"ShardIterator": bad}));
        assert_eq!(
            r["code"], "InvalidArgumentException",
            "{what} iterator: {r}"
        );
    }

    // 4. Puts through A and B in turn: every gateway ends on the last acknowledged one.
    for i in 0..6 {
        let gw = if i % 2 == 0 { &a } else { &b };
        d.ok(
            gw,
            ADMIN,
            "put_resource_policy",
            json!({"ResourceARN": STREAM_ARN, "Policy": policy(&format!("turn{i}"))}),
        );
    }
    for gw in [&a, &b, &c] {
        wait_for(|| sid_on(&mut d, gw) == "turn5", "convergence to turn5", gw);
    }

    // 5. kill -9 of A in the middle of 50 puts: nothing acknowledged is lost.
    let mut other = Driver::start(&f);
    let a_url = a.url.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let putter = std::thread::spawn(move || {
        let gw_a = GwUrl(a_url);
        for i in 0..50 {
            let r = other.call_url(
                &gw_a.0,
                ADMIN,
                "put_resource_policy",
                json!({"ResourceARN": STREAM_ARN, "Policy": policy(&format!("k{i}"))}),
            );
            let _ = tx.send((i, r["ok"] == true));
        }
    });
    let mut acked = Vec::new();
    let a = a;
    while let Ok((i, ok)) = rx.recv_timeout(Duration::from_secs(30)) {
        if ok {
            acked.push(i);
        }
        if i == 20 {
            a.proc.signal("KILL");
        }
    }
    putter.join().unwrap();
    let last = *acked.last().unwrap();
    println!(
        "kill -9 of A during 50 puts: {} acknowledged, the last k{last}",
        acked.len()
    );
    assert!(acked.len() >= 20, "{acked:?}");
    wait_for(
        || {
            let s = sid_on(&mut d, &b);
            s == format!("k{last}") || s == format!("k{}", last + 1)
        },
        "B to hold the last acknowledged put (or the one in flight)",
        &b,
    );
    let kept = sid_on(&mut d, &b);
    println!("after kill -9: B holds {kept}");

    // 6. A restart of all three loses no policy and no iterator.
    drop(a);
    b.stop();
    c.stop();
    let (a, b, c) = (
        f.gateway("A2", MAX_STALENESS_SECS),
        f.gateway("B2", MAX_STALENESS_SECS),
        f.gateway("C2", MAX_STALENESS_SECS),
    );
    for gw in [&a, &b, &c] {
        assert_eq!(
            sid_on(&mut d, gw),
            kept,
            "after the restart, on {}",
            gw.name
        );
    }
    // The policy kept allows the reader; the iterator from before the restart still reads from the start.
    let r = d.ok(&c, READER, "get_records", json!({"ShardIterator": it}));
    assert!(
        !r["result"]["Records"].as_array().unwrap().is_empty(),
        "{r}"
    );

    // 6b. A gateway that was away while etcd compacted its history reloads a snapshot.
    c.proc.signal("STOP");
    // A new etcd process: C's watch connection is gone (events written from now on cannot
    // wait in C's socket), and when C runs again it resumes from its old revision.
    f.etcd.kill();
    f.etcd.restart();
    // Two writes: C's next revision to watch from is then older than the compacted one.
    for sid in ["before-compaction", "compacted"] {
        d.ok(
            &a,
            ADMIN,
            "put_resource_policy",
            json!({"ResourceARN": STREAM_ARN, "Policy": policy(sid)}),
        );
    }
    let revision = a.status()["state"]["applied_revision"].as_u64().unwrap();
    f.etcd.compact(revision);
    c.proc.signal("CONT");
    wait_for(
        || try_sid(&mut d, &c).is_ok_and(|s| s == "compacted"),
        "C to catch up after the compaction",
        &c,
    );
    let log = std::fs::read_to_string(&c.proc.log).unwrap();
    assert!(
        log.contains("reloaded a snapshot"),
        "C did not reload\n{}",
        c.proc.log_tail()
    );
    assert_eq!(sid_on(&mut d, &b), "compacted");

    // 7. etcd stopped.
    f.etcd.kill();
    let stopped = Instant::now();
    assert_eq!(
        reader_allowed(&mut d, &b),
        Ok(true),
        "a decision within the staleness bound"
    );
    let r = d.call(
        &a,
        ADMIN,
        "put_resource_policy",
        json!({"ResourceARN": STREAM_ARN, "Policy": policy("down")}),
    );
    assert_eq!(r["status"], 503, "a write without etcd: {r}");
    assert_eq!(r["code"], "ServiceUnavailable", "{r}");
    println!(
        "write without etcd: {} ({:.1} s after the stop)",
        r["message"],
        stopped.elapsed().as_secs_f64()
    );
    std::thread::sleep(
        Duration::from_secs(MAX_STALENESS_SECS + 1).saturating_sub(stopped.elapsed()),
    );
    let r = reader_allowed(&mut d, &b).unwrap_err();
    assert_eq!(r["status"], 503, "fail closed past the bound: {r}");
    assert!(
        r["message"].as_str().unwrap().contains("max-staleness"),
        "{r}"
    );
    let status = b.status();
    assert_eq!(status["state"]["fresh"], false, "{status}");
    println!("past the bound: {}", r["message"]);

    // Back: decisions and writes recover by themselves.
    f.etcd.restart();
    let back = Instant::now();
    wait_for(
        || reader_allowed(&mut d, &b) == Ok(true),
        "decisions after etcd is back",
        &b,
    );
    let decisions_back = back.elapsed().as_secs_f64();
    let r = d.ok(
        &a,
        ADMIN,
        "put_resource_policy",
        json!({"ResourceARN": STREAM_ARN, "Policy": policy("back")}),
    );
    assert_eq!(r["ok"], true);
    for gw in [&a, &b, &c] {
        wait_for(
            || sid_on(&mut d, gw) == "back",
            "the write after etcd is back",
            gw,
        );
    }
    let status = c.status();
    assert_eq!(status["state"]["fresh"], true, "{status}");
    assert!(
        status["state"]["applied_revision"].as_u64().unwrap() > 0,
        "{status}"
    );
    println!(
        "etcd back: decisions again after {decisions_back:.1} s, writes too; status {}",
        status["state"]
    );

    // 8. A policy written into etcd by hand that fails the Kinesis checks is not skipped (that
    // could drop a Deny): decisions fail closed until etcd holds a good one.
    let key = format!("/{}/policy/{STREAM_ARN}", f.key_prefix);
    let bad = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/gateway/policies/invalid-principal-star.json"),
    )
    .unwrap();
    f.etcd.put(&key, &bad);
    wait_for(
        || reader_allowed(&mut d, &b).is_err_and(|r| r["status"] == 503),
        "decisions refused after a bad policy in etcd",
        &b,
    );
    let r = reader_allowed(&mut d, &c).unwrap_err();
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("could not be applied"),
        "{r}"
    );
    f.etcd.put(&key, &policy("fixed"));
    for gw in [&a, &b, &c] {
        wait_for(
            || try_sid(&mut d, gw).is_ok_and(|s| s == "fixed"),
            "recovery after the bad policy was fixed",
            gw,
        );
    }
    assert_eq!(reader_allowed(&mut d, &b), Ok(true));

    // The same writes on one gateway with SQLite, to compare.
    let s = f.sqlite_gateway("S");
    let mut writes = Vec::new();
    for round in 0..20 {
        let t = Instant::now();
        d.ok(
            &s,
            ADMIN,
            "put_resource_policy",
            json!({"ResourceARN": STREAM_ARN, "Policy": policy(&format!("s{round}"))}),
        );
        writes.push(t.elapsed().as_secs_f64() * 1e3);
    }
    writes.sort_by(f64::total_cmp);
    println!(
        "MEASURED write latency through one gateway on SQLite (same call): p50 {:.1} ms, p99 {:.1} ms",
        percentile(&writes, 0.5),
        percentile(&writes, 0.99)
    );
    assert_eq!(sid_on(&mut d, &s), "s19");
    // Its iterators are sealed with its own --iterator-key: they read there, and the fleet's
    // are refused there.
    let own = d.ok(
        &s,
        READER,
        "get_shard_iterator",
        json!({"StreamARN": STREAM_ARN, "ShardId": SHARD, "ShardIteratorType": "TRIM_HORIZON"}),
    )["result"]["ShardIterator"]
        .as_str()
        .unwrap()
        .to_string();
    d.ok(&s, READER, "get_records", json!({"ShardIterator": own}));
    let r = d.call(&s, READER, "get_records", json!({"ShardIterator": it}));
    assert_eq!(
        r["code"], "InvalidArgumentException",
        "the fleet's iterator on S: {r}"
    );
    assert_eq!(s.status()["state"]["backend"], "sqlite");
}
