//! The decision server over real sockets on 127.0.0.1: every route, reloads good and bad,
//! clients during reloads, malformed and oversized input, HTTP/2 cleartext, the decision log,
//! Envoy ext_authz, and the `iamc serve` binary (SIGHUP, SIGTERM, an invalid store).
//!
//! Every test is bounded in time and in requests. `IAMC_LOAD=1` turns on the load run
//! (`load_run`), which prints p50/p99 latency and throughput; see BENCHMARKS.md.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "server/api.rs"]
mod api;
#[path = "server/binary.rs"]
mod binary;
#[path = "server/connections.rs"]
mod connections;
#[path = "server/outputs.rs"]
mod outputs;
#[path = "server/stores.rs"]
mod stores;

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
