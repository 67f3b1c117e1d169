//! What the server writes and answers besides decisions: the decision log and its rotation,
//! and Envoy's `ext_authz`.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_log_records_every_decision_and_rotates() {
    let dir = std::env::temp_dir().join(format!("iamc-server-{}-log", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("decisions.jsonl");
    let mut c = config(fixture("store"));
    c.decision_log = Some(LogConfig {
        max_bytes: 4096,
        keep: 2,
        ..LogConfig::new(&path)
    });
    let server = start(c).await;
    let addr = server.local_addr();
    const N: usize = 40;
    for i in 0..N {
        let mut r = request(
            if i % 2 == 0 { ALICE } else { BOB },
            "kinesis:GetRecords",
            ORDERS,
        );
        r["id"] = json!(format!("r{i}"));
        post(addr, "/v1/authorize", &r).await;
    }
    post(
        addr,
        "/v1/authorize/batch",
        &json!([request(ALICE, "kinesis:PutRecord", ORDERS), {"bad": 1}]),
    )
    .await;
    eventually("the log writer to catch up", || async {
        let t = get(addr, "/metrics").await.text();
        metric(&t, "iamc_decision_log_records_total") == (N + 1) as f64
    })
    .await;
    let t = get(addr, "/metrics").await.text();
    assert!(metric(&t, "iamc_decision_log_rotations_total") >= 2.0);
    assert_eq!(metric(&t, "iamc_decision_log_dropped_total"), 0.0);
    server.shutdown().await;
    let read = |p: &Path| -> Vec<Value> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let rotated = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    assert!(rotated(1).exists() && rotated(2).exists());
    assert!(!rotated(3).exists());
    let mut all = Vec::new();
    for p in [rotated(2), rotated(1), path.clone()] {
        assert!(
            std::fs::metadata(&p).unwrap().len() <= 4096,
            "{}",
            p.display()
        );
        all.extend(read(&p));
    }
    // The newest records, in order, each complete.
    let last = all.last().unwrap();
    assert_eq!(last["route"], "batch");
    assert_eq!(last["request"]["action"], "kinesis:PutRecord");
    for rec in &all {
        assert_eq!(rec["store_version"], 1);
        assert!(rec["latency_us"].as_f64().unwrap() >= 0.0);
        assert!(rec["time"].as_str().unwrap().ends_with('Z'));
        assert!(rec["decision"]["decision"].is_string());
        assert!(rec["decision"]["determining"].is_array());
    }
    let alice = all
        .iter()
        .find(|r| r["request"]["principal"] == ALICE && r["route"] == "authorize")
        .unwrap();
    assert_eq!(alice["decision"]["decision"], "Allow");
    assert_eq!(
        alice["decision"]["determining"][0]["policy_id"],
        "policy/OrdersAccess"
    );
    let ids: Vec<&str> = all
        .iter()
        .filter_map(|r| r["request"]["id"].as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|s| s[1..].parse::<usize>().unwrap());
    assert_eq!(ids, sorted);
    assert_eq!(*ids.last().unwrap(), format!("r{}", N - 1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_ext_authz_answers_200_or_403() {
    let mut c = config(fixture("store"));
    c.envoy = Some(Mapping::load(&fixture("envoy-mapping.json")).unwrap());
    let server = start(c).await;
    let addr = server.local_addr();
    let base = "/v1/envoy/ext_authz";
    let check = |method: &'static str, path: &'static str, who: Option<&'static str>| async move {
        let mut headers = vec![
            ("x-forwarded-for", "203.0.113.7"),
            ("x-request-id", "req-1"),
        ];
        if let Some(w) = who {
            headers.push(("x-iamc-principal", w));
        }
        call(
            addr,
            method,
            &format!("{base}{path}"),
            Bytes::new(),
            &headers,
        )
        .await
    };
    let ok = check("GET", "/streams/orders/records", Some(ALICE)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.headers.get("x-iamc-decision").unwrap(), "Allow");
    assert_eq!(ok.version(), 1);
    let ok = check("POST", "/streams/orders/records?x=1", Some(ALICE)).await;
    assert_eq!(ok.status, StatusCode::OK);
    // Another stream, another user, no principal (anonymous): denied.
    for (path, who) in [
        ("/streams/payments/records", Some(ALICE)),
        ("/streams/orders/records", Some(BOB)),
        ("/streams/orders/records", None),
    ] {
        let no = check("GET", path, who).await;
        assert_eq!(no.status, StatusCode::FORBIDDEN, "{path} {who:?}");
        assert_eq!(no.headers.get("x-iamc-decision").unwrap(), "ImplicitDeny");
        assert_eq!(no.json(), json!({"decision": "ImplicitDeny"}));
    }
    // No route, or a principal that is not an ARN: unmappable, which is a 403 too.
    for (method, path, who) in [
        ("DELETE", "/streams/orders/records", Some(ALICE)),
        ("GET", "/other", Some(ALICE)),
        ("GET", "", Some(ALICE)),
        ("GET", "/streams/orders/records", Some("alice")),
    ] {
        let no = check(method, path, who).await;
        assert_eq!(no.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(no.code(), "unmappable");
    }
    // The path after the prefix must start a new segment.
    assert_eq!(
        call(addr, "GET", "/v1/envoy/ext_authzX", Bytes::new(), &[])
            .await
            .code(),
        "not_found"
    );
    let t = get(addr, "/metrics").await.text();
    assert_eq!(
        metric(
            &t,
            "iamc_http_requests_total{route=\"envoy\",status=\"2xx\"}"
        ),
        2.0
    );
    assert_eq!(metric(&t, "iamc_errors_total{code=\"unmappable\"}"), 4.0);
    server.shutdown().await;
}
