//! The decision server over real sockets on 127.0.0.1: every route, reloads good and bad,
//! clients during reloads, malformed and oversized input, HTTP/2 cleartext, the decision log,
//! Envoy ext_authz, and the `iamc serve` binary (SIGHUP, SIGTERM, an invalid store).
//!
//! Every test is bounded in time and in requests. `IAMC_LOAD=1` turns on the load run
//! (`load_run`), which prints p50/p99 latency and throughput; see BENCHMARKS.md.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use iamc::server::{Config, LogConfig, Mapping, Server, Writes};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const ORDERS: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
/// No test waits longer than this for anything.
const LIMIT: Duration = Duration::from_secs(60);

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(p: &str) -> PathBuf {
    manifest().join("tests/server").join(p)
}

fn example_store() -> PathBuf {
    manifest().join("examples/kinesis/store.json")
}

/// A fresh copy of `tests/server/store/` for a test that changes files.
fn store_copy(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamc-server-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    for f in ["store.json", "policies/orders-access.json"] {
        std::fs::copy(fixture("store").join(f), dir.join(f)).unwrap();
    }
    dir
}

/// Replaces `dst` with a copy of `src` at once (a rename), so that a poll never sees a file
/// half written.
fn replace(src: &Path, dst: &Path) {
    let tmp = dst.with_extension("tmp");
    std::fs::copy(src, &tmp).unwrap();
    std::fs::rename(&tmp, dst).unwrap();
}

fn config(store: impl Into<PathBuf>) -> Config {
    let mut c = Config::new(store);
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.watch_interval = None;
    c
}

/// `c`, taking store writes from anyone (as `--allow-unauthenticated-writes`).
fn open_writes(mut c: Config) -> Config {
    c.writes = Writes::Unauthenticated;
    c
}

async fn start(config: Config) -> Server {
    let server = Server::start(config).await.unwrap();
    tokio::time::timeout(LIMIT, server.ready())
        .await
        .expect("the store compiles in time")
        .expect("the store is valid");
    server
}

fn request(principal: &str, action: &str, resource: &str) -> Value {
    json!({"principal": principal, "action": action, "resource": resource})
}

#[derive(Debug)]
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {:?} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn version(&self) -> u64 {
        self.headers
            .get("iamc-store-version")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn build(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Bytes,
    headers: &[(&str, &str)],
) -> Request<Full<Bytes>> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(body)).unwrap()
}

async fn into_resp(resp: hyper::Response<hyper::body::Incoming>) -> Resp {
    let (parts, body) = resp.into_parts();
    let body = tokio::time::timeout(LIMIT, body.collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes()
        .to_vec();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// One request on a new HTTP/1.1 connection.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: impl Into<Bytes>,
    headers: &[(&str, &str)],
) -> Resp {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = build(addr, method, path, body.into(), headers);
    let resp = tokio::time::timeout(LIMIT, send.send_request(req))
        .await
        .unwrap()
        .unwrap();
    into_resp(resp).await
}

async fn post(addr: SocketAddr, path: &str, body: &Value) -> Resp {
    call(addr, "POST", path, body.to_string(), &[]).await
}

async fn get(addr: SocketAddr, path: &str) -> Resp {
    call(addr, "GET", path, Bytes::new(), &[]).await
}

/// A keep-alive connection, HTTP/1.1 or HTTP/2 (prior knowledge).
enum Conn {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

impl Conn {
    async fn h1(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        Conn::H1(send)
    }

    async fn h2(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        Conn::H2(send)
    }

    async fn send(&mut self, addr: SocketAddr, method: &str, path: &str, body: Bytes) -> Resp {
        let req = build(addr, method, path, body, &[]);
        let resp = match self {
            Conn::H1(s) => {
                s.ready().await.unwrap();
                tokio::time::timeout(LIMIT, s.send_request(req)).await
            }
            Conn::H2(s) => {
                s.ready().await.unwrap();
                tokio::time::timeout(LIMIT, s.send_request(req)).await
            }
        };
        into_resp(resp.unwrap().unwrap()).await
    }
}

/// Polls `check` every 50 ms until it holds, for at most `LIMIT`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    while t.elapsed() < LIMIT {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

fn example_requests() -> Vec<Value> {
    std::fs::read_to_string(manifest().join("examples/kinesis/requests.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

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
async fn http2_cleartext_with_prior_knowledge() {
    let server = start(config(fixture("store"))).await;
    let addr = server.local_addr();
    let mut conn = Conn::h2(addr).await;
    let body = Bytes::from(request(ALICE, "kinesis:PutRecord", ORDERS).to_string());
    // Several streams at once on one connection.
    let mut set = Vec::new();
    for _ in 0..8 {
        let Conn::H2(send) = &conn else {
            unreachable!()
        };
        let mut send = send.clone();
        let body = body.clone();
        set.push(tokio::spawn(async move {
            let req = build(addr, "POST", "/v1/authorize", body, &[]);
            let resp = send.send_request(req).await.unwrap();
            assert_eq!(resp.version(), hyper::Version::HTTP_2);
            into_resp(resp).await
        }));
    }
    for t in set {
        let resp = tokio::time::timeout(LIMIT, t).await.unwrap().unwrap();
        assert_eq!(resp.json()["decision"], "Allow");
    }
    let h = conn.send(addr, "GET", "/v1/health", Bytes::new()).await;
    assert_eq!(h.status, StatusCode::OK);
    server.shutdown().await;
}

/// xorshift64*: deterministic inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_never_panics_on_input() {
    let mut c = open_writes(config(fixture("store")));
    c.envoy = Some(Mapping::load(&fixture("envoy-mapping.json")).unwrap());
    let server = start(c).await;
    let addr = server.local_addr();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let valid = request(ALICE, "kinesis:GetRecords", ORDERS).to_string();
    let routes = [
        ("POST", "/v1/authorize"),
        ("POST", "/v1/authorize?explain=true"),
        ("POST", "/v1/authorize/batch"),
        ("PUT", "/v1/store"),
        ("GET", "/v1/envoy/ext_authz/streams/orders/records"),
    ];
    for i in 0..300 {
        let body: Vec<u8> = match i % 3 {
            // Random bytes.
            0 => (0..rng.below(512)).map(|_| rng.next() as u8).collect(),
            // A valid request with a few bytes changed.
            1 => {
                let mut b = valid.clone().into_bytes();
                let noise = b" {}[]:,\"\\0a-*\x00\xff";
                for _ in 0..=rng.below(4) {
                    let at = rng.below(b.len());
                    b[at] = noise[rng.below(noise.len())];
                }
                b
            }
            // A valid request with a value replaced by another JSON type.
            _ => {
                let mut v: Value = serde_json::from_str(&valid).unwrap();
                let key = [
                    "principal",
                    "action",
                    "resource",
                    "context",
                    "extra_resources",
                    "id",
                ][rng.below(6)];
                v[key] = [
                    json!(null),
                    json!(1e308),
                    json!([1, [2]]),
                    json!({"a": {"b": []}}),
                    json!("\u{0}☃"),
                    json!(true),
                ][rng.below(6)]
                .clone();
                v.to_string().into_bytes()
            }
        };
        let (method, path) = routes[rng.below(routes.len())];
        let resp = call(addr, method, path, body, &[]).await;
        assert!(
            resp.status.is_success() || resp.status.is_client_error(),
            "{method} {path}: {:?} {}",
            resp.status,
            resp.text()
        );
        let _ = resp.json();
    }
    // Raw bytes that are not HTTP, and a request line cut short: the connection is answered or
    // closed, and the server carries on.
    for garbage in [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(),
        b"GARBAGE / HTTP/9.9\r\n\r\n".to_vec(),
        b"POST /v1/authorize HTTP/1.1\r\nContent-Length: -1\r\n\r\n".to_vec(),
        b"POST /v1/authorize HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
            .to_vec(),
        (0..2048).map(|_| rng.next() as u8).collect(),
    ] {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let _ = s.write_all(&garbage).await;
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        if !buf.is_empty() {
            let head = String::from_utf8_lossy(&buf);
            assert!(!head.starts_with("HTTP/1.1 5"), "{head}");
        }
    }
    let t = get(addr, "/metrics").await.text();
    assert_eq!(metric(&t, "iamc_errors_total{code=\"internal\"}"), 0.0);
    assert_eq!(get(addr, "/v1/health").await.status, StatusCode::OK);
    assert_eq!(get(addr, "/v1/store").await.json()["version"], 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_are_cut_off() {
    let mut c = config(fixture("store"));
    c.limits.request_timeout = Duration::from_millis(300);
    let server = start(c).await;
    let addr = server.local_addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /v1/authorize HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pri")
        .await
        .unwrap();
    let t = Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.contains("\"timeout\""), "{head}");
    assert!(t.elapsed() < Duration::from_secs(5));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_silent_connections_are_closed() {
    let mut c = config(fixture("store"));
    c.limits.header_timeout = Duration::from_millis(300);
    let server = start(c).await;
    let addr = server.local_addr();
    // A keep-alive connection that goes quiet after one request.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("the idle connection is closed")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
    assert!(t.elapsed() < Duration::from_secs(5));
    // A client that starts its headers and stops.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /v1/health HTTP/1.1\r\nHo").await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("the silent connection is closed")
        .unwrap();
    server.shutdown().await;
}

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

/// The `iamc serve` binary, stopped on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Child {
    fn spawn(args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_iamc"))
            .arg("serve")
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx2.send(line);
            }
        });
        (Child(child), rx)
    }

    /// Waits (bounded) for the process to exit.
    fn wait(&mut self) -> Option<i32> {
        let t = Instant::now();
        while t.elapsed() < LIMIT {
            if let Ok(Some(status)) = self.0.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    #[cfg(unix)]
    fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
}

/// Where the server listens, and every line it wrote until it said so.
fn listening_said(rx: &std::sync::mpsc::Receiver<String>) -> (SocketAddr, Vec<String>) {
    let t = Instant::now();
    let mut said = Vec::new();
    while t.elapsed() < LIMIT {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            if let Some(a) = line.strip_prefix("listening on ") {
                return (a.parse().unwrap(), said);
            }
            said.push(line);
        }
    }
    panic!("iamc serve did not say where it listens: {said:?}");
}

/// `iamc serve` prints the findings that are not errors of a store it makes live, as `iamc
/// check` and `iamc gateway` do (the gateway's fixture store has two IAM153 warnings).
#[test]
fn serve_binary_prints_the_warnings_of_the_store_it_makes_live() {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/store.json");
    let (_child, rx) = Child::spawn(&[
        "--store",
        store.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    // Standard output ("listening on") and standard error are read on two threads: the
    // warnings may come after the address.
    let (_, mut said) = listening_said(&rx);
    let t = Instant::now();
    while said
        .iter()
        .filter(|l| l.starts_with("  warning[IAM153]"))
        .count()
        < 2
        && t.elapsed() < LIMIT
    {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            said.push(line);
        }
    }
    let head = said
        .iter()
        .position(|l| l == "iamc serve: the live store has 2 warning(s):")
        .unwrap_or_else(|| panic!("{said:#?}"));
    assert!(
        head > 0 && said[head - 1].starts_with("iamc serve: store version 1 live (startup;"),
        "{said:#?}"
    );
    assert!(said[head + 1].starts_with("  warning[IAM153]"), "{said:#?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_binary_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = store_copy("sighup");
    let store = dir.join("store.json");
    let (mut child, rx) = Child::spawn(&[
        "--store",
        store.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--watch-interval",
        "0",
    ]);
    let (addr, mut said_at_start) = listening_said(&rx);
    eventually("the server to be ready", || async {
        get(addr, "/v1/health").await.status == StatusCode::OK
    })
    .await;
    let r = request(ALICE, "kinesis:GetRecords", ORDERS);
    assert_eq!(
        post(addr, "/v1/authorize", &r).await.json()["decision"],
        "Allow"
    );
    // Polling is off: a changed file waits for SIGHUP.
    replace(
        &fixture("orders-access-deny.json"),
        &dir.join("policies/orders-access.json"),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get(addr, "/v1/store").await.json()["version"], 1);
    child.signal("-HUP");
    eventually("SIGHUP to reload the store", || async {
        get(addr, "/v1/store").await.json()["version"] == 2
    })
    .await;
    assert_eq!(get(addr, "/v1/store").await.json()["trigger"], "sighup");
    assert_eq!(
        post(addr, "/v1/authorize", &r).await.json()["decision"],
        "ExplicitDeny"
    );
    // A bad file and SIGHUP: refused, still serving.
    replace(
        &fixture("orders-access-invalid.json"),
        &dir.join("policies/orders-access.json"),
    );
    child.signal("-HUP");
    eventually("SIGHUP to refuse the invalid store", || async {
        let t = get(addr, "/metrics").await.text();
        metric(
            &t,
            "iamc_reloads_total{trigger=\"sighup\",result=\"refused\"}",
        ) == 1.0
    })
    .await;
    assert_eq!(
        post(addr, "/v1/authorize", &r).await.json()["decision"],
        "ExplicitDeny"
    );
    child.signal("-TERM");
    assert_eq!(child.wait(), Some(0));
    said_at_start.extend(drain(&rx));
    let said = said_at_start;
    assert!(
        said.iter().any(|l| l.contains("store refused (sighup)")),
        "{said:?}"
    );
    // The start-up log says which write mode is in force.
    assert!(
        said.iter()
            .any(|l| l.contains("store writes (PUT /v1/store) are disabled")),
        "{said:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_binary_refuses_to_start_on_an_invalid_store_or_mapping() {
    let dir = store_copy("invalid-start");
    replace(
        &fixture("orders-access-invalid.json"),
        &dir.join("policies/orders-access.json"),
    );
    let store = dir.join("store.json");
    let (mut child, rx) = Child::spawn(&[
        "--store",
        store.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(child.wait(), Some(1));
    let said = drain(&rx);
    assert!(said.iter().any(|l| l.contains("IAM")), "{said:?}");
    // It never said it was listening: a supervisor sees a failed start, not a server.
    assert!(
        !said.iter().any(|l| l.starts_with("listening on")),
        "{said:?}"
    );

    let bad_mapping = dir.join("mapping.json");
    std::fs::write(&bad_mapping, r#"{"version": 1, "routes": []}"#).unwrap();
    let (mut child, rx) = Child::spawn(&[
        "--store",
        fixture("store").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--envoy-mapping",
        bad_mapping.to_str().unwrap(),
    ]);
    assert_eq!(child.wait(), Some(1));
    let said = drain(&rx);
    assert!(said.iter().any(|l| l.contains("routes")), "{said:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every line the child wrote: after it has exited, its output threads send what is left and
/// then hang up (bounded, in case a grandchild keeps a pipe open).
fn drain(rx: &std::sync::mpsc::Receiver<String>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        out.push(line);
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// The load run: `IAMC_LOAD=1 cargo test --release --test server load_run -- --nocapture`.
/// Bounded in requests (and stops early after 120 s); prints p50/p99 latency and throughput for
/// single and batch calls, over HTTP/1.1 keep-alive connections on loopback.
#[tokio::test(flavor = "multi_thread")]
async fn load_run() {
    if std::env::var("IAMC_LOAD").ok().as_deref() != Some("1") {
        eprintln!("load_run: set IAMC_LOAD=1 to run it");
        return;
    }
    let server = start(config(example_store())).await;
    let addr = server.local_addr();
    let requests: Vec<Bytes> = example_requests()
        .iter()
        .map(|r| Bytes::from(r.to_string()))
        .collect();
    let examples = example_requests();
    let batch_of = |n: usize| -> Bytes {
        let items: Vec<Value> = (0..n)
            .map(|i| examples[i % examples.len()].clone())
            .collect();
        Bytes::from(json!({ "requests": items }).to_string())
    };
    let cap = Duration::from_secs(120);
    let runs: [(&str, &str, usize, usize, usize, bool); 5] = [
        // name, path, batch size, connections, calls per connection, HTTP/2
        ("single, 1 connection", "/v1/authorize", 1, 1, 20_000, false),
        ("single, 8 connections", "/v1/authorize", 1, 8, 5_000, false),
        (
            "single, 8 streams on 1 h2c connection",
            "/v1/authorize",
            1,
            8,
            5_000,
            true,
        ),
        (
            "batch of 100, 4 connections",
            "/v1/authorize/batch",
            100,
            4,
            500,
            false,
        ),
        (
            "batch of 1000, 2 connections",
            "/v1/authorize/batch",
            1000,
            2,
            50,
            false,
        ),
    ];
    println!("| run | calls | decisions | p50 | p99 | calls/s | decisions/s |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, path, n, conns, calls, h2) in runs {
        let body = if n == 1 { None } else { Some(batch_of(n)) };
        let started = Instant::now();
        let shared_h2 = if h2 { Some(Conn::h2(addr).await) } else { None };
        let mut tasks = Vec::new();
        for c in 0..conns {
            let requests = requests.clone();
            let body = body.clone();
            let mut conn = match &shared_h2 {
                Some(Conn::H2(s)) => Conn::H2(s.clone()),
                _ => Conn::h1(addr).await,
            };
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::with_capacity(calls);
                for i in 0..calls {
                    if started.elapsed() > cap {
                        break;
                    }
                    let b = body
                        .clone()
                        .unwrap_or_else(|| requests[(i + c) % requests.len()].clone());
                    let t = Instant::now();
                    let resp = conn.send(addr, "POST", path, b).await;
                    lat.push(t.elapsed());
                    assert_eq!(resp.status, StatusCode::OK);
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        let wall = started.elapsed();
        lat.sort();
        let calls_done = lat.len();
        let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
        println!(
            "| {name} | {calls_done} | {} | {} | {} | {:.0} | {:.0} |",
            calls_done * n,
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            calls_done as f64 / wall.as_secs_f64(),
            (calls_done * n) as f64 / wall.as_secs_f64()
        );
    }
    let t = get(addr, "/metrics").await.text();
    assert_eq!(metric(&t, "iamc_errors_total{code=\"internal\"}"), 0.0);
    server.shutdown().await;
}

/// A store folder `iamc-server-PID-NAME/store` holding `store.json` (alice has one identity
/// policy with `statements`), and next to the folder a file `secret.txt`, outside it.
fn guarded_store(name: &str, statements: Value) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamc-server-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.join("store");
    std::fs::create_dir_all(store.join("policies")).unwrap();
    std::fs::write(
        dir.join("secret.txt"),
        "TOPSECRET-TOKEN: a file outside the store folder\n",
    )
    .unwrap();
    let text = json!({
        "version": 1,
        "policies": {"Guarded": {"type": "identity", "document": {
            "Version": "2012-10-17", "Statement": statements}}},
        "accounts": {"111122223333": {"users": {"alice": {"policies": ["Guarded"]}}}}
    });
    std::fs::write(store.join("store.json"), text.to_string()).unwrap();
    std::fs::copy(
        fixture("store/policies/orders-access.json"),
        store.join("policies/orders-access.json"),
    )
    .unwrap();
    store
}

fn allow_orders() -> Value {
    json!({"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": ORDERS})
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
