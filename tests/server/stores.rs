//! Stores: `PUT /v1/store` and its guards, reloads of changed files, readiness, clients
//! during reloads, and uploaded stores that must not read outside their folder.

use super::*;

fn store_text(policy: &str) -> String {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(policy)).unwrap()).unwrap();
    json!({
        "version": 1,
        "policies": {"OrdersAccess": {"type": "identity", "document": doc}},
        "accounts": {"111122223333": {"users": {"alice": {"policies": ["OrdersAccess"]}, "bob": {}}}}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_store_swaps_a_valid_store_and_refuses_an_invalid_one() {
    let mut c = open_writes(config(fixture("store")));
    c.upload_file_refs = true;
    let server = start(c).await;
    let addr = server.local_addr();
    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    assert_eq!(
        post(addr, "/v1/authorize", &r).await.json()["decision"],
        "Allow"
    );

    let resp = call(
        addr,
        "PUT",
        "/v1/store",
        store_text("orders-access-deny.json"),
        &[],
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["version"], 2);
    assert_eq!(resp.json()["source"], "api");
    assert_eq!(resp.json()["trigger"], "api");
    let d = post(addr, "/v1/authorize", &r).await;
    assert_eq!(d.version(), 2);
    assert_eq!(d.json()["decision"], "ExplicitDeny");
    assert_eq!(d.json()["determining"][0]["sid"], "FreezeReads");

    let bad = call(
        addr,
        "PUT",
        "/v1/store",
        store_text("orders-access-invalid.json"),
        &[],
    )
    .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert_eq!(bad.code(), "store_invalid");
    let findings = bad.json()["error"]["findings"].as_array().unwrap().clone();
    assert!(!findings.is_empty());
    assert!(findings
        .iter()
        .all(|f| f["code"].as_str().unwrap().starts_with("IAM")));
    assert!(
        findings
            .iter()
            .any(|f| f["pointer"].as_str().unwrap().contains("/Effect")),
        "{findings:?}"
    );
    assert!(bad.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("version 2 keeps serving"));
    // Not JSON at all, and a file reference that does not exist: refused too.
    let bad = call(addr, "PUT", "/v1/store", "{", &[]).await;
    assert_eq!(bad.code(), "store_invalid");
    let missing =
        r#"{"version": 1, "policies": {"P": {"type": "identity", "file": "policies/nope.json"}}}"#;
    let bad = call(addr, "PUT", "/v1/store", missing, &[]).await;
    assert_eq!(bad.code(), "store_invalid");
    // `file` references are read relative to the original store's folder.
    let by_file = r#"{"version": 1, "policies": {"P": {"type": "identity", "file": "policies/orders-access.json"}},
        "accounts": {"111122223333": {"users": {"alice": {"policies": ["P"]}}}}}"#;
    let ok = call(addr, "PUT", "/v1/store", by_file, &[]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["version"], 3);

    let d = post(addr, "/v1/authorize", &r).await;
    assert_eq!(d.version(), 3);
    assert_eq!(d.json()["decision"], "Allow");
    let t = get(addr, "/metrics").await.text();
    assert_eq!(
        metric(&t, "iamc_reloads_total{trigger=\"api\",result=\"ok\"}"),
        2.0
    );
    assert_eq!(
        metric(&t, "iamc_reloads_total{trigger=\"api\",result=\"refused\"}"),
        3.0
    );
    assert_eq!(metric(&t, "iamc_errors_total{code=\"store_invalid\"}"), 3.0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_token_guards_put() {
    let mut c = config(fixture("store"));
    c.writes = Writes::Token("s3cret".into());
    let server = start(c).await;
    let addr = server.local_addr();
    let text = store_text("orders-access-deny.json");
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer s3cre"),
        Some("s3cret"),
    ] {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", *a)).collect();
        let resp = call(addr, "PUT", "/v1/store", text.clone(), &headers).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(resp.code(), "unauthorized");
    }
    let resp = call(
        addr,
        "PUT",
        "/v1/store",
        text,
        &[("authorization", "Bearer s3cret")],
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(get(addr, "/v1/store").await.json()["version"], 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_files_reload_and_invalid_files_are_refused() {
    let dir = store_copy("watch");
    let mut c = config(dir.clone());
    c.watch_interval = Some(Duration::from_millis(100));
    let server = start(c).await;
    let addr = server.local_addr();
    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    assert_eq!(
        post(addr, "/v1/authorize", &r).await.json()["decision"],
        "Allow"
    );
    let policy = dir.join("policies/orders-access.json");

    replace(&fixture("orders-access-deny.json"), &policy);
    eventually("the changed policy file to load", || async {
        get(addr, "/v1/store").await.json()["version"] == 2
    })
    .await;
    let s = get(addr, "/v1/store").await.json();
    assert_eq!(s["trigger"], "file-change");
    let d = post(addr, "/v1/authorize", &r).await;
    assert_eq!(
        (d.version(), d.json()["decision"].clone()),
        (2, json!("ExplicitDeny"))
    );

    replace(&fixture("orders-access-invalid.json"), &policy);
    eventually("the invalid policy file to be refused", || async {
        let t = get(addr, "/metrics").await.text();
        metric(
            &t,
            "iamc_reloads_total{trigger=\"file-change\",result=\"refused\"}",
        ) == 1.0
    })
    .await;
    // The old store keeps serving, and the refused files are not retried until they change.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = get(addr, "/metrics").await.text();
    assert_eq!(
        metric(
            &t,
            "iamc_reloads_total{trigger=\"file-change\",result=\"refused\"}"
        ),
        1.0
    );
    let d = post(addr, "/v1/authorize", &r).await;
    assert_eq!(
        (d.version(), d.json()["decision"].clone()),
        (2, json!("ExplicitDeny"))
    );
    assert_eq!(get(addr, "/v1/health").await.status, StatusCode::OK);

    // A change to the store file itself; and a reload as SIGHUP does it.
    replace(&fixture("store/policies/orders-access.json"), &policy);
    eventually("the fixed policy file to load", || async {
        get(addr, "/v1/store").await.json()["version"] == 3
    })
    .await;
    assert_eq!(
        post(addr, "/v1/authorize", &r).await.json()["decision"],
        "Allow"
    );
    let live = server.reload().await.unwrap();
    assert_eq!(live.version, 4);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_until_a_store_compiles() {
    let dir = store_copy("not-ready");
    replace(
        &fixture("orders-access-invalid.json"),
        &dir.join("policies/orders-access.json"),
    );
    let server = Server::start(open_writes(config(dir.clone())))
        .await
        .unwrap();
    let addr = server.local_addr();
    assert!(tokio::time::timeout(LIMIT, server.ready())
        .await
        .unwrap()
        .is_err());
    let h = get(addr, "/v1/health").await;
    assert_eq!(h.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(h.json()["status"], "failed");
    assert_eq!(h.code(), "not_ready");
    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    for path in ["/v1/authorize", "/v1/authorize/batch"] {
        let resp = post(addr, path, &r).await;
        assert_eq!(resp.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.code(), "not_ready");
    }
    assert_eq!(get(addr, "/v1/store").await.code(), "not_ready");
    assert_eq!(
        metric(&get(addr, "/metrics").await.text(), "iamc_ready"),
        0.0
    );
    // A valid store sent over HTTP makes it ready.
    let resp = call(
        addr,
        "PUT",
        "/v1/store",
        store_text("orders-access-deny.json"),
        &[],
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    assert_eq!(resp.json()["version"], 1);
    assert_eq!(get(addr, "/v1/health").await.status, StatusCode::OK);
    assert_eq!(
        post(addr, "/v1/authorize", &r).await.json()["decision"],
        "ExplicitDeny"
    );
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_during_reloads_lose_no_request_and_see_whole_engines() {
    // Odd versions allow alice's read, even versions deny it: every answer must agree with the
    // version that gave it.
    let server = start(open_writes(config(fixture("store")))).await;
    let addr = server.local_addr();
    let allow = store_text("store/policies/orders-access.json");
    let deny = store_text("orders-access-deny.json");
    const CLIENTS: usize = 4;
    // Each client makes at least MIN_PER_CLIENT calls, and goes on until the reloads are done
    // (at most MAX_PER_CLIENT calls).
    const MIN_PER_CLIENT: usize = 250;
    const MAX_PER_CLIENT: usize = 20_000;
    const RELOADS: usize = 20;
    let reloads_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let body = Bytes::from(request(ALICE, "kinesis:GetRecords", ORDERS).to_string());
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let body = body.clone();
        let done = std::sync::Arc::clone(&reloads_done);
        clients.push(tokio::spawn(async move {
            let mut conn = if c == 0 {
                Conn::h2(addr).await
            } else {
                Conn::h1(addr).await
            };
            let mut versions = std::collections::BTreeSet::new();
            let mut decided = 0usize;
            for i in 0..MAX_PER_CLIENT {
                if i >= MIN_PER_CLIENT && done.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                // Every fourth request is a batch of three.
                let (path, b) = if i % 4 == 3 {
                    let s = String::from_utf8(body.to_vec()).unwrap();
                    ("/v1/authorize/batch", Bytes::from(format!("[{s},{s},{s}]")))
                } else {
                    ("/v1/authorize", body.clone())
                };
                let resp = conn.send(addr, "POST", path, b).await;
                assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
                let v = resp.version();
                let want = if v % 2 == 1 { "Allow" } else { "ExplicitDeny" };
                let json = resp.json();
                let decisions: Vec<Value> = match json.get("decisions") {
                    Some(Value::Array(a)) => a.clone(),
                    _ => vec![json],
                };
                for d in decisions {
                    assert_eq!(d["decision"], want, "version {v}: {d}");
                    decided += 1;
                }
                versions.insert(v);
            }
            (versions, decided)
        }));
    }
    let reloader = tokio::spawn(async move {
        for i in 0..RELOADS {
            let text = if i % 2 == 0 {
                deny.clone()
            } else {
                allow.clone()
            };
            let resp = call(addr, "PUT", "/v1/store", text, &[]).await;
            assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        reloads_done.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let mut seen = std::collections::BTreeSet::new();
    let mut answered = 0usize;
    for c in clients {
        let (versions, decided) = tokio::time::timeout(LIMIT, c).await.unwrap().unwrap();
        seen.extend(versions);
        answered += decided;
    }
    tokio::time::timeout(LIMIT, reloader)
        .await
        .unwrap()
        .unwrap();
    assert!(seen.len() >= 2, "the clients saw versions {seen:?}");
    let t = get(addr, "/metrics").await.text();
    let decided = metric(&t, "iamc_decisions_total{outcome=\"Allow\"}")
        + metric(&t, "iamc_decisions_total{outcome=\"ExplicitDeny\"}");
    // Every request the clients sent was answered and counted.
    assert_eq!(decided as usize, answered);
    assert!(answered >= CLIENTS * MIN_PER_CLIENT);
    assert_eq!(
        metric(&t, "iamc_reloads_total{trigger=\"api\",result=\"ok\"}"),
        RELOADS as f64
    );
    assert_eq!(
        metric(
            &t,
            "iamc_http_requests_total{route=\"authorize\",status=\"5xx\"}"
        ),
        0.0
    );
    assert_eq!(
        get(addr, "/v1/store").await.json()["version"],
        RELOADS as u64 + 1
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_writes_need_a_token_or_an_explicit_allowance() {
    // Neither a token nor the allowance: writes are refused, and the error says how to enable
    // them.
    let server = start(config(fixture("store"))).await;
    let addr = server.local_addr();
    let resp = call(
        addr,
        "PUT",
        "/v1/store",
        store_text("orders-access-deny.json"),
        &[],
    )
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "{}", resp.text());
    assert_eq!(resp.code(), "writes_disabled");
    let m = resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains("--admin-token-file") && m.contains("--allow-unauthenticated-writes"),
        "{m}"
    );
    assert_eq!(get(addr, "/v1/store").await.json()["version"], 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_stores_read_no_file_unless_allowed_and_never_outside_the_folder() {
    let store = guarded_store("upload-files", json!([allow_orders()]));
    let escape =
        r#"{"version": 1, "policies": {"P": {"type": "identity", "file": "../secret.txt"}}}"#;
    let inside = r#"{"version": 1, "policies": {"P": {"type": "identity", "file": "policies/orders-access.json"}},
        "accounts": {"111122223333": {"users": {"alice": {"policies": ["P"]}}}}}"#;

    // Default: an uploaded store carries inline documents only.
    let server = start(open_writes(config(store.clone()))).await;
    let addr = server.local_addr();
    for text in [escape, inside] {
        let resp = call(addr, "PUT", "/v1/store", text, &[]).await;
        assert_eq!(resp.code(), "store_invalid", "{}", resp.text());
        assert!(!resp.text().contains("TOPSECRET"), "{}", resp.text());
        assert!(
            resp.text().contains("--allow-store-file-refs"),
            "{}",
            resp.text()
        );
    }
    server.shutdown().await;

    // Allowed: files inside the store folder only, and never quoted from outside.
    let mut c = open_writes(config(store.clone()));
    c.upload_file_refs = true;
    let server = start(c).await;
    let addr = server.local_addr();
    let resp = call(addr, "PUT", "/v1/store", escape, &[]).await;
    assert_eq!(resp.code(), "store_invalid", "{}", resp.text());
    assert!(!resp.text().contains("TOPSECRET"), "{}", resp.text());
    assert!(
        resp.text().contains("inside the store's folder"),
        "{}",
        resp.text()
    );
    let resp = call(addr, "PUT", "/v1/store", inside, &[]).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(store.parent().unwrap());
}
