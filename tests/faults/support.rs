//! What the fault tests share: starting `iamc serve` and the gateway in-process, signed Kinesis
//! requests, raw loopback sockets, and a fake upstream that misbehaves on purpose.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request};
use hyper_util::rt::TokioIo;
use iamc::gateway::{Config as GwConfig, Gateway, UpstreamSigner};
use iamc::server::{Config as SrvConfig, Server};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// "Keeps answering others" means: a normal request is answered within this.
pub const ANSWERS_OTHERS: Duration = Duration::from_secs(10);

pub const ACCOUNT: &str = "111122223333";
pub const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
pub const BOB: &str = "arn:aws:iam::111122223333:user/bob";
pub const ORDERS: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";
pub const JSON_11: &str = "application/x-amz-json-1.1";

/// Keys of `tests/gateway/credentials.json`.
pub const ADMIN: (&str, &str) = (
    "AKIAADMIN00000000001",
    "adminSecretKey0000000000000000000000000001",
);
pub const PRODUCER: (&str, &str) = (
    "AKIAPRODUCER00000001",
    "producerSecretKey000000000000000000000001",
);
pub const READER: (&str, &str, &str) = (
    "ASIAREADER0000000001",
    "readerSecretKey00000000000000000000000001",
    "FwoGZXIvYXdzEXAMPLEreaderSessionToken0001",
);

pub fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder of its own under target/tmp, with the gateway's fixtures copied in.
pub fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for f in ["store.json", "credentials.json"] {
        std::fs::copy(manifest().join("tests/gateway").join(f), d.join(f)).unwrap();
    }
    d
}

/// The gateway's configuration in `d`, listening on a free loopback port.
pub fn gw_config(d: &Path, upstream: SocketAddr) -> GwConfig {
    let mut c = GwConfig::new(
        d.join("store.json"),
        d.join("credentials.json"),
        d.join("gateway.db"),
        format!("http://{upstream}").parse().unwrap(),
        ACCOUNT,
    );
    c.listen = "127.0.0.1:0".parse().unwrap();
    c
}

pub async fn start_gateway(c: GwConfig) -> Gateway {
    tokio::time::timeout(ANSWERS_OTHERS, Gateway::start(c))
        .await
        .expect("the gateway starts in time")
        .unwrap()
}

/// `iamc serve` on `tests/server/store` (alice may GetRecords on orders, bob nothing).
pub fn srv_config() -> SrvConfig {
    let mut c = SrvConfig::new(manifest().join("tests/server/store"));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.watch_interval = None;
    c
}

pub async fn start_server(c: SrvConfig) -> Server {
    let server = Server::start(c).await.unwrap();
    tokio::time::timeout(ANSWERS_OTHERS, server.ready())
        .await
        .expect("the store compiles in time")
        .expect("the store is valid");
    server
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
}

impl Answer {
    /// The AWS error type of a gateway answer.
    pub fn error_type(&self) -> &str {
        self.json["__type"].as_str().unwrap_or_default()
    }
}

/// Sends `req` on a new HTTP/1.1 connection; the whole exchange must end within
/// [`ANSWERS_OTHERS`].
pub async fn send(addr: SocketAddr, req: Request<Full<Bytes>>) -> Answer {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Answer { status, json }
    };
    tokio::time::timeout(ANSWERS_OTHERS, exchange)
        .await
        .expect("answered within the liveness bound")
}

/// `POST /v1/authorize` to `iamc serve`: the decision.
pub async fn decide(addr: SocketAddr, principal: &str) -> String {
    let body = json!({"principal": principal, "action": "kinesis:GetRecords", "resource": ORDERS});
    let req = Request::post("/v1/authorize")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let a = send(addr, req).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    a.json["decision"].as_str().unwrap_or_default().to_string()
}

/// `iamc serve` still decides correctly: alice is allowed, bob is not.
pub async fn server_decides(addr: SocketAddr) {
    assert_eq!(decide(addr, ALICE).await, "Allow");
    assert_ne!(decide(addr, BOB).await, "Allow");
}

/// A Kinesis JSON request to the gateway at `addr`, signed with `key` (id, secret, session
/// token) when given, else anonymous.
pub fn kinesis(
    addr: SocketAddr,
    key: Option<(&str, &str, Option<&str>)>,
    operation: &str,
    body: &Value,
) -> Request<Full<Bytes>> {
    let body = body.to_string();
    let mut headers = HeaderMap::new();
    headers.insert("content-type", JSON_11.parse().unwrap());
    headers.insert(
        "x-amz-target",
        format!("Kinesis_20131202.{operation}").parse().unwrap(),
    );
    headers.insert("host", addr.to_string().parse().unwrap());
    if let Some((id, secret, token)) = key {
        UpstreamSigner::new(id, secret, token.map(str::to_string))
            .sign(
                &mut headers,
                &addr.to_string(),
                "/",
                body.as_bytes(),
                "us-east-1",
                "kinesis",
                SystemTime::now(),
            )
            .unwrap();
    }
    let mut b = Request::post("/");
    for (k, v) in &headers {
        b = b.header(k, v);
    }
    b.body(Full::new(Bytes::from(body))).unwrap()
}

pub fn put_record() -> Value {
    json!({"StreamName": "orders", "Data": "aGk=", "PartitionKey": "k"})
}

/// The gateway still decides correctly without its upstream: an anonymous PutRecord is
/// denied by the engine (never forwarded), and the status route answers.
pub async fn gateway_decides(addr: SocketAddr) {
    let a = send(addr, kinesis(addr, None, "PutRecord", &put_record())).await;
    assert_eq!(a.status, 400, "{:?}", a.json);
    assert_eq!(a.error_type(), "AccessDeniedException", "{:?}", a.json);
    let req = Request::get("/-/status")
        .header("host", "x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(addr, req).await.status, 200);
}

/// How the fake upstream treats one connection.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Answers 200 with a small JSON body, then closes.
    None,
    /// Sends the status line, headers promising 1,000 bytes and 10 of them, then closes.
    ClosesMidAnswer,
    /// Answers bytes that are not HTTP.
    Garbage,
    /// Reads the request and never answers (holds the connection open).
    Silent,
    /// Answers its headers at once, then one byte of the body every 200 ms, never finishing.
    TricklesBody,
    /// Answers 200 with a chunked body of this many bytes (stops when the gateway hangs up).
    Huge(usize),
    /// Answers as `None` does, after this long.
    Late(Duration),
}

/// A fake Kinesis upstream on loopback: a misbehaving upstream is the only way to get these
/// faults, so the tests write the raw bytes themselves. The first `faulty` connections get
/// `fault`; the later ones a good answer.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeUpstream {
    pub async fn start(fault: Misbehaviour, faulty: usize) -> FakeUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    return;
                };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let mode = if n < faulty {
                    fault
                } else {
                    Misbehaviour::None
                };
                tokio::spawn(misbehave(s, mode));
            }
        });
        FakeUpstream {
            addr,
            connections,
            task,
        }
    }
}

/// Reads one HTTP/1.1 request (headers and a `Content-Length` body); false if the peer hung
/// up first.
async fn read_request(s: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

async fn misbehave(mut s: TcpStream, mode: Misbehaviour) {
    if !read_request(&mut s).await {
        return;
    }
    if let Misbehaviour::Late(wait) = mode {
        tokio::time::sleep(wait).await;
    }
    match mode {
        Misbehaviour::None | Misbehaviour::Late(_) => {
            let body = r#"{"SequenceNumber": "1", "ShardId": "shardId-000000000000"}"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {JSON_11}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(body.as_bytes()).await;
            let _ = s.shutdown().await;
        }
        Misbehaviour::ClosesMidAnswer => {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"Sequence")
                .await;
            let _ = s.shutdown().await;
        }
        Misbehaviour::Garbage => {
            let _ = s
                .write_all(b"\x00\x01 this is not HTTP at all\r\n\r\n")
                .await;
            let _ = s.shutdown().await;
        }
        Misbehaviour::Silent => {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        Misbehaviour::TricklesBody => {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n{")
                .await;
            for _ in 0..600 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if s.write_all(b" ").await.is_err() {
                    return;
                }
            }
        }
        Misbehaviour::Huge(total) => {
            if s.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await
                .is_err()
            {
                return;
            }
            let chunk = vec![b'A'; 1 << 20];
            let mut sent = 0;
            while sent < total {
                let n = chunk.len().min(total - sent);
                let frame = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                if s.write_all(&frame).await.is_err() {
                    return;
                }
                sent += n;
            }
            let _ = s.write_all(b"0\r\n\r\n").await;
        }
    }
}

/// Reads what the peer sends until it closes or `limit` passes: the bytes, and whether it
/// closed.
pub async fn read_until_close(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(limit, read).await.is_ok();
    (out, closed)
}
