//! The decision API: single and batch decisions, explanations, bounds, malformed and
//! unknown input with stable error codes, health and metrics, the clock, the batch memory
//! budget, and the whole conformance corpus over HTTP.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_answers_what_the_cli_answers() {
    let server = start(config(example_store())).await;
    let addr = server.local_addr();
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_iamc"))
        .args(["authorize", "--format", "json", "--store"])
        .arg(example_store())
        .arg("--requests")
        .arg(manifest().join("examples/kinesis/requests.jsonl"))
        .output()
        .unwrap();
    let expected: Vec<Value> = String::from_utf8(cli.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let requests = example_requests();
    assert_eq!(expected.len(), requests.len());
    for (r, want) in requests.iter().zip(&expected) {
        let resp = post(addr, "/v1/authorize", r).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        assert_eq!(resp.json(), *want);
        assert_eq!(resp.version(), 1);
        assert_eq!(
            resp.headers.get("content-type").unwrap(),
            "application/json"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_adds_the_explanation() {
    let server = start(config(fixture("store"))).await;
    let addr = server.local_addr();
    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    let plain = post(addr, "/v1/authorize", &r).await.json();
    assert!(plain.get("explain").is_none());
    let v = post(addr, "/v1/authorize?explain=true", &r).await.json();
    assert_eq!(v["decision"], "Allow");
    let trace = v["explain"].as_array().unwrap();
    assert!(trace.iter().any(|t| t["matched"] == true
        && t["policy_id"] == "policy/OrdersAccess"
        && t["sid"] == "ReadAndWriteOrders"));
    let bad = post(addr, "/v1/authorize?explain=maybe", &r).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_request");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_decides_in_order_and_isolates_bad_items() {
    let server = start(config(example_store())).await;
    let addr = server.local_addr();
    let mut items = example_requests();
    items.insert(
        1,
        json!({"id": "no-action", "principal": ALICE, "resource": "*"}),
    );
    items.insert(3, json!({"id": "bad-principal", "principal": "bob", "action": "kinesis:ListStreams", "resource": "*"}));
    items.push(json!("not an object"));
    items.push(json!({"id": 7, "principal": ALICE, "action": "kinesis:ListStreams", "resource": "*", "context": {"k": {"nested": 1}}}));
    let resp = post(addr, "/v1/authorize/batch", &json!({ "requests": items })).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.version(), 1);
    let out = resp.json()["decisions"].as_array().unwrap().clone();
    assert_eq!(out.len(), items.len());
    for (i, (item, d)) in items.iter().zip(&out).enumerate() {
        assert_eq!(item.get("id"), d.get("id"), "item {i}: {d}");
        let bad = [1, 3, items.len() - 2, items.len() - 1].contains(&i);
        if bad {
            assert_eq!(d["index"], i, "{d}");
            assert_eq!(d["error"]["code"], "invalid_request", "{d}");
        } else {
            assert!(d["decision"].is_string(), "item {i}: {d}");
        }
    }
    // The same answers as one at a time.
    for (item, d) in items.iter().zip(&out) {
        if d.get("decision").is_some() {
            assert_eq!(post(addr, "/v1/authorize", item).await.json(), *d);
        }
    }
    // A bare array is a batch too; an empty batch is fine.
    let arr = post(
        addr,
        "/v1/authorize/batch",
        &json!([request(ALICE, "kinesis:ListStreams", "*")]),
    )
    .await;
    assert_eq!(arr.json()["decisions"].as_array().unwrap().len(), 1);
    let empty = post(addr, "/v1/authorize/batch", &json!({"requests": []})).await;
    assert_eq!(empty.json(), json!({"decisions": []}));
    // Large batches are decided across cores, still in order.
    let many: Vec<Value> = (0..500)
        .map(|i| {
            let mut r = request(
                if i % 2 == 0 { ALICE } else { BOB },
                "kinesis:GetRecords",
                "arn:aws:kinesis:us-east-1:111122223333:stream/stream1",
            );
            r["id"] = json!(i);
            r
        })
        .collect();
    let resp = post(
        addr,
        "/v1/authorize/batch?explain=false",
        &json!({ "requests": many }),
    )
    .await;
    let out = resp.json()["decisions"].as_array().unwrap().clone();
    assert_eq!(out.len(), 500);
    for (i, d) in out.iter().enumerate() {
        assert_eq!(d["id"], i);
        let want = if i % 2 == 0 { "Allow" } else { "ImplicitDeny" };
        assert_eq!(d["decision"], want, "{d}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_and_batches_are_bounded() {
    let mut c = config(fixture("store"));
    c.limits.max_body_bytes = 2048;
    c.limits.max_batch = 5;
    let server = start(c).await;
    let addr = server.local_addr();
    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    let six = json!({"requests": vec![r.clone(); 6]});
    let resp = post(addr, "/v1/authorize/batch", &six).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.code(), "batch_too_large");
    let five = json!({"requests": vec![r.clone(); 5]});
    assert_eq!(
        post(addr, "/v1/authorize/batch", &five).await.status,
        StatusCode::OK
    );

    // Declared too large.
    let mut big = r.clone();
    big["context"] = json!({"pad": "x".repeat(4096)});
    let resp = post(addr, "/v1/authorize", &big).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.code(), "body_too_large");

    // Chunked, with no length given: cut off at the bound. (One write that the server reads
    // whole, so that it closes the connection cleanly after answering.)
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut raw =
        b"POST /v1/authorize HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nc00\r\n"
            .to_vec();
    raw.extend(vec![b' '; 0xc00]);
    raw.extend(b"\r\n");
    s.write_all(&raw).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let answer = String::from_utf8_lossy(&buf);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"body_too_large\""), "{answer}");
    assert_eq!(get(addr, "/v1/health").await.status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_json_errors_with_stable_codes() {
    let server = start(open_writes(config(fixture("store")))).await;
    let addr = server.local_addr();
    let cases: Vec<(&str, &str, &str, StatusCode, &str)> = vec![
        (
            "POST",
            "/v1/authorize",
            "",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "POST",
            "/v1/authorize",
            "{",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "POST",
            "/v1/authorize",
            "{\"principal\": \"x\",}",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "POST",
            "/v1/authorize",
            "\u{0}\u{1}\u{2}",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "POST",
            "/v1/authorize",
            "[]",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize",
            "42",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize",
            "{}",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize",
            r#"{"principal": 1, "action": "a", "resource": "*"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize",
            r#"{"principal": "alice", "action": "kinesis:GetRecords", "resource": "*"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize",
            r#"{"principal": "anonymous", "action": " ", "resource": "*"}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize",
            r#"{"principal": "anonymous", "action": "a:b", "resource": "*", "context": {"k": null}}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize",
            r#"{"principal": "anonymous", "action": "a:b", "resource": "*", "context": {"K": "1", "k": "2"}}"#,
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize/batch",
            "{\"requests\": 3}",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/authorize/batch",
            "nope",
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "GET",
            "/v1/authorize",
            "",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "DELETE",
            "/v1/store",
            "",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "POST",
            "/v1/health",
            "",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "GET",
            "/v2/authorize",
            "",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("GET", "/", "", StatusCode::NOT_FOUND, "not_found"),
        (
            "GET",
            "/v1/envoy/ext_authz/streams/x",
            "",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "PUT",
            "/v1/store",
            "\u{ff}",
            StatusCode::UNPROCESSABLE_ENTITY,
            "store_invalid",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let resp = call(addr, method, path, body.to_string(), &[]).await;
        assert_eq!(
            resp.status,
            status,
            "{method} {path} {body:?}: {}",
            resp.text()
        );
        assert_eq!(resp.code(), code, "{method} {path} {body:?}");
        assert!(resp.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let resp = call(addr, "GET", "/v1/authorize", Bytes::new(), &[]).await;
    assert_eq!(resp.headers.get("allow").unwrap(), "POST");
    // Nesting deeper than the JSON reader's bound is an error, not a stack overflow.
    let deep = "[".repeat(100_000);
    let resp = call(addr, "POST", "/v1/authorize/batch", deep, &[]).await;
    assert_eq!(resp.code(), "invalid_json");
    let metrics = get(addr, "/metrics").await.text();
    assert!(metric(&metrics, "iamc_errors_total{code=\"invalid_json\"}") >= 5.0);
    assert!(metric(&metrics, "iamc_errors_total{code=\"not_found\"}") >= 3.0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_store_and_metrics_report_the_live_store() {
    let server = start(config(fixture("store"))).await;
    let addr = server.local_addr();
    let h = get(addr, "/v1/health").await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ready");
    assert_eq!(h.json()["store_version"], 1);
    let s = get(addr, "/v1/store").await.json();
    assert_eq!(s["version"], 1);
    assert_eq!(s["trigger"], "startup");
    assert_eq!(s["source"], "file");
    assert!(s["digest"].as_str().unwrap().starts_with("fnv1a64:"));
    assert!(s["loaded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(s["store"]["users"], 2);
    assert_eq!(s["store"]["policies"], 1);

    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    for _ in 0..3 {
        post(addr, "/v1/authorize", &r).await;
    }
    post(
        addr,
        "/v1/authorize",
        &request(BOB, "kinesis:GetRecords", ORDERS),
    )
    .await;
    post(
        addr,
        "/v1/authorize/batch",
        &json!({"requests": [r.clone(), r.clone()]}),
    )
    .await;
    let m = get(addr, "/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let t = m.text();
    assert_eq!(metric(&t, "iamc_decisions_total{outcome=\"Allow\"}"), 5.0);
    assert_eq!(
        metric(&t, "iamc_decisions_total{outcome=\"ImplicitDeny\"}"),
        1.0
    );
    assert_eq!(
        metric(&t, "iamc_decisions_total{outcome=\"ExplicitDeny\"}"),
        0.0
    );
    assert_eq!(
        metric(
            &t,
            "iamc_request_duration_seconds_count{route=\"authorize\"}"
        ),
        4.0
    );
    assert_eq!(
        metric(
            &t,
            "iamc_request_duration_seconds_bucket{route=\"authorize\",le=\"+Inf\"}"
        ),
        4.0
    );
    assert_eq!(metric(&t, "iamc_batch_size_count"), 1.0);
    assert_eq!(metric(&t, "iamc_batch_size_bucket{le=\"1\"}"), 0.0);
    assert_eq!(metric(&t, "iamc_batch_size_bucket{le=\"10\"}"), 1.0);
    assert_eq!(
        metric(&t, "iamc_reloads_total{trigger=\"startup\",result=\"ok\"}"),
        1.0
    );
    assert_eq!(metric(&t, "iamc_ready"), 1.0);
    assert_eq!(metric(&t, "iamc_store_version"), 1.0);
    assert_eq!(
        metric(
            &t,
            "iamc_http_requests_total{route=\"authorize\",status=\"2xx\"}"
        ),
        4.0
    );
    // Every line is a comment or `series value`.
    for line in t.lines().filter(|l| !l.starts_with('#')) {
        let (_, v) = line.rsplit_once(' ').unwrap();
        assert!(v.parse::<f64>().is_ok(), "{line}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_with_unknown_fields_are_refused_with_a_suggestion() {
    let store = guarded_store(
        "unknown-fields",
        json!([allow_orders(), {"Sid": "DenyPlainHttp", "Effect": "Deny", "Action": "*",
            "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
    );
    let server = start(config(store.clone())).await;
    let addr = server.local_addr();
    let mut typo = request(ALICE, "kinesis:GetRecords", ORDERS);
    typo["Context"] = json!({"aws:SecureTransport": false});
    let resp = post(addr, "/v1/authorize", &typo).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{}", resp.text());
    assert_eq!(resp.code(), "invalid_request");
    let m = resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains("`Context`") && m.contains("did you mean `context`"),
        "{m}"
    );

    let mut right = request(ALICE, "kinesis:GetRecords", ORDERS);
    right["context"] = json!({"aws:SecureTransport": false});
    let mut typo2 = request(ALICE, "kinesis:GetRecords", ORDERS);
    typo2["id"] = json!("t2");
    typo2["extra_resource"] = json!([ORDERS]);
    let batch = json!({"requests": [typo, right, typo2]});
    let resp = post(addr, "/v1/authorize/batch", &batch).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    let d = resp.json()["decisions"].as_array().unwrap().clone();
    assert_eq!(d[0]["error"]["code"], "invalid_request", "{d:?}");
    assert!(d[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `context`"));
    assert_eq!(d[1]["decision"], "ExplicitDeny", "{d:?}");
    assert_eq!(d[2]["id"], "t2");
    assert!(d[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `extra_resources`"));
    // An unknown field in the batch wrapper itself.
    let resp = post(addr, "/v1/authorize/batch", &json!({"request": []})).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{}", resp.text());
    assert!(
        resp.text().contains("did you mean `requests`"),
        "{}",
        resp.text()
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(store.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_sets_the_time_keys_unless_the_request_gives_them() {
    let store = guarded_store(
        "clock",
        json!([allow_orders(), {"Sid": "Expired", "Effect": "Deny", "Action": "*",
            "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}]),
    );
    let server = start(config(store.clone())).await;
    let addr = server.local_addr();
    let clock = request(ALICE, "kinesis:GetRecords", ORDERS);
    let d = post(addr, "/v1/authorize", &clock).await.json();
    assert_eq!(d["decision"], "ExplicitDeny", "{d}");
    assert_eq!(d["determining"][0]["sid"], "Expired", "{d}");
    let mut given = clock.clone();
    given["context"] = json!({"aws:CurrentTime": "2019-06-01T00:00:00Z"});
    let d = post(addr, "/v1/authorize", &given).await.json();
    assert_eq!(d["decision"], "Allow", "{d}");
    let b = post(
        addr,
        "/v1/authorize/batch",
        &json!({"requests": [clock, given]}),
    )
    .await
    .json();
    assert_eq!(b["decisions"][0]["decision"], "ExplicitDeny", "{b}");
    assert_eq!(b["decisions"][1]["decision"], "Allow", "{b}");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(store.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_beyond_the_memory_budget_wait_with_503_and_retry_after() {
    // A budget smaller than any batch: one batch at a time.
    let mut c = config(fixture("store"));
    c.limits.max_batch_memory = 1;
    let server = start(c).await;
    let addr = server.local_addr();
    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    let body = json!({"requests": vec![r.clone(); 100]}).to_string();
    let (head, tail) = body.split_at(body.len() / 2);
    // A first batch whose body is still coming: it holds its share of the budget.
    let mut first = TcpStream::connect(addr).await.unwrap();
    first
        .write_all(
            format!(
                "POST /v1/authorize/batch HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{head}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    eventually("the first batch to be charged", || async {
        metric(
            &get(addr, "/metrics").await.text(),
            "iamc_batch_memory_bytes",
        ) > 0.0
    })
    .await;
    // A second one does not fit: 503, and when to try again.
    let second = post(
        addr,
        "/v1/authorize/batch",
        &json!({"requests": [r.clone()]}),
    )
    .await;
    assert_eq!(
        second.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        second.text()
    );
    assert_eq!(second.code(), "overloaded");
    assert!(second.headers.get("retry-after").is_some());
    // The first finishes; its share is given back, and a batch fits again.
    first.write_all(tail.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(LIMIT, first.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    eventually("the first batch's charge to be given back", || async {
        metric(
            &get(addr, "/metrics").await.text(),
            "iamc_batch_memory_bytes",
        ) == 0.0
    })
    .await;
    let again = post(addr, "/v1/authorize/batch", &json!({"requests": [r]})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    server.shutdown().await;
}

/// Every conformance case whose caller a store can describe, through the HTTP server: the
/// case's store uploaded with `PUT /v1/store`, its request posted to `/v1/authorize` with the
/// case's context (the server adds the clock's time keys only where a case gives none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_conformance_case_through_the_http_server() {
    let server = start(open_writes(config(fixture("store")))).await;
    let addr = server.local_addr();
    let mut failures = Vec::new();
    let mut decided = 0;
    for c in common::all_decision_cases() {
        let Some(store) = common::case_store(&c) else {
            continue;
        };
        let put = call(addr, "PUT", "/v1/store", store.to_string(), &[]).await;
        assert_eq!(
            put.status,
            StatusCode::OK,
            "{} {}: {}",
            c.file,
            c.id,
            put.text()
        );
        let r = &c.raw["request"];
        let mut body = json!({
            "principal": r["principal"], "action": r["action"], "resource": r["resource"],
            "context": r.get("context").cloned().unwrap_or(json!({})),
        });
        if let Some(extra) = r.get("extra_resources") {
            body["extra_resources"] = extra.clone();
        }
        let d = post(addr, "/v1/authorize", &body).await;
        let got = d.json()["decision"].as_str().unwrap_or("").to_string();
        if got != c.expect.to_string() {
            failures.push(format!(
                "{} {}: expected {}, got {got} ({})",
                c.file, c.id, c.expect, c.note
            ));
        }
        decided += 1;
    }
    assert!(
        decided >= 250,
        "only {decided} cases went through the server"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
