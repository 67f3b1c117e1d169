//! The gateway through its library API, over real loopback HTTP, for what needs no upstream:
//! requests the gateway refuses itself (protocol errors, signatures, bounds, slow bodies), its
//! status route, a refused start, and a reload; and the `iamc gateway` binary's report of its
//! files' warnings. The upstream is a closed port, so a request that got as far as forwarding
//! would answer `ServiceUnavailable`, which the tests rule out. The whole path to kinesalite
//! with boto3 is `tests/gateway_e2e.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use iamc::gateway::{Config, Gateway};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway")
}

/// A folder of its own under target/tmp with a copy of the fixtures.
fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gateway-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for f in ["store.json", "credentials.json"] {
        std::fs::copy(fixtures().join(f), d.join(f)).unwrap();
    }
    d
}

/// A port nothing listens on: the upstream of these tests.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn config(d: &Path) -> Config {
    let upstream = format!("http://127.0.0.1:{}", closed_port())
        .parse()
        .unwrap();
    let mut c = Config::new(
        d.join("store.json"),
        d.join("credentials.json"),
        d.join("gateway.db"),
        upstream,
        "111122223333",
    );
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.upstream_timeout = Duration::from_secs(2);
    c
}

struct Answer {
    status: u16,
    json: Value,
}

impl Answer {
    fn error_type(&self) -> &str {
        self.json["__type"].as_str().unwrap_or_default()
    }
}

async fn send(addr: SocketAddr, req: Request<Full<Bytes>>) -> Answer {
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
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    let req = Request::get(path)
        .header("host", "x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    send(addr, req).await
}

/// The body of GET `path` as text (the status must be 200).
async fn get_text(addr: SocketAddr, path: &str) -> String {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::get(path)
        .header("host", "x")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

fn kinesis(target: &str, content_type: &str, body: &str) -> Request<Full<Bytes>> {
    Request::post("/")
        .header("host", "127.0.0.1")
        .header("content-type", content_type)
        .header("x-amz-target", target)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

const JSON: &str = "application/x-amz-json-1.1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_what_it_cannot_serve_and_never_forwards_it() {
    let d = dir("refusals");
    let mut c = config(&d);
    c.max_body_bytes = 4096;
    c.body_timeout = Duration::from_millis(300);
    let gw = Gateway::start(c).await.unwrap();
    let addr = gw.local_addr();

    // The status route.
    let st = get(addr, "/-/status").await;
    assert_eq!(st.status, 200);
    assert_eq!(st.json["store_version"], 1);
    assert_eq!(st.json["revision"], 0);
    assert_eq!(st.json["credentials"], 5);

    // Anonymous (no signature): decided, and denied, before anything is forwarded.
    let a = send(
        addr,
        kinesis(
            "Kinesis_20131202.PutRecord",
            JSON,
            r#"{"StreamName": "orders", "Data": "aGk=", "PartitionKey": "k"}"#,
        ),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.error_type(), "AccessDeniedException", "{:?}", a.json);
    let msg = a.json["message"].as_str().unwrap();
    assert!(
        msg.starts_with("User: anonymous is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:us-east-1:111122223333:stream/orders"),
        "{msg}"
    );

    // Protocol errors.
    let cases = [
        (
            "Kinesis_20131202.PutRecord",
            // CBOR is spoken now (tests/gateway/cbor_client.py, in tests/gateway_tls.rs);
            // another protocol is refused.
            "application/x-amz-ion-1.0",
            "{}",
            "SerializationException",
        ),
        (
            "DynamoDB_20120810.GetItem",
            JSON,
            "{}",
            "UnknownOperationException",
        ),
        (
            "Kinesis_20131202.FlyToTheMoon",
            JSON,
            "{}",
            "UnknownOperationException",
        ),
        (
            "Kinesis_20131202.PutRecord",
            JSON,
            "{not json",
            "SerializationException",
        ),
        (
            "Kinesis_20131202.PutRecord",
            JSON,
            r#"{"StreamName": 7}"#,
            "SerializationException",
        ),
        (
            "Kinesis_20131202.PutRecord",
            JSON,
            r#"{"StreamName": "bad name"}"#,
            "InvalidArgumentException",
        ),
        (
            "Kinesis_20131202.GetRecords",
            JSON,
            // Not an iterator the gateway sealed (src/gateway/iterator.rs): refused as Kinesis
            // refuses a malformed one.
            r#"{"ShardIterator": "never-seen"}"#,
            "InvalidArgumentException",
        ),
    ];
    for (target, ct, body, want) in cases {
        let a = send(addr, kinesis(target, ct, body)).await;
        assert_eq!(a.status, 400, "{target} {ct} {body}: {:?}", a.json);
        assert_eq!(a.error_type(), want, "{target} {ct} {body}: {:?}", a.json);
    }

    // A bad signature, and a malformed one.
    let mut r = kinesis("Kinesis_20131202.ListStreams", JSON, "{}");
    r.headers_mut()
        .insert("x-amz-date", "20261126T120000Z".parse().unwrap());
    r.headers_mut().insert(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKIANOSUCHKEY0000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00"
            .parse()
            .unwrap(),
    );
    assert_eq!(
        send(addr, r).await.error_type(),
        "UnrecognizedClientException"
    );
    let mut r = kinesis("Kinesis_20131202.ListStreams", JSON, "{}");
    r.headers_mut().insert(
        "authorization",
        "AWS4-HMAC-SHA256 nonsense".parse().unwrap(),
    );
    assert_eq!(
        send(addr, r).await.error_type(),
        "IncompleteSignatureException"
    );

    // Bounds: an oversized body, and a body that never finishes arriving.
    let big = format!(
        r#"{{"StreamName": "orders", "Data": "{}"}}"#,
        "A".repeat(8192)
    );
    let a = send(addr, kinesis("Kinesis_20131202.PutRecord", JSON, &big)).await;
    assert_eq!(a.status, 413, "{:?}", a.json);
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-amz-json-1.1\r\n\
          x-amz-target: Kinesis_20131202.PutRecord\r\ncontent-length: 100\r\n\r\n{\"Str",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("the gateway answered a slow body")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");

    // Other routes.
    let a = get(addr, "/nope").await;
    assert_eq!(a.status, 404);

    // Nothing reached the (closed) upstream.
    let st = get(addr, "/-/status").await;
    assert_eq!(st.json["forwarded"], 0, "{:?}", st.json);
    assert_eq!(st.json["upstream_errors"], 0, "{:?}", st.json);
    let denied = st.json["denied"].as_u64().unwrap();
    assert!(
        denied >= 1,
        "the anonymous PutRecord was denied: {:?}",
        st.json
    );

    // The same counters in Prometheus form, under the names `iamc serve` uses.
    let text = get_text(addr, "/-/metrics").await;
    let sample = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
    };
    assert_eq!(
        sample("iamc_decisions_total{outcome=\"ExplicitDeny\"}")
            + sample("iamc_decisions_total{outcome=\"ImplicitDeny\"}"),
        denied
    );
    assert_eq!(sample("iamc_decisions_total{outcome=\"Allow\"}"), 0);
    assert_eq!(
        sample("iamc_http_requests_total{route=\"other\",status=\"4xx\"}"),
        1,
        "GET /nope"
    );
    assert_eq!(
        sample("iamc_http_requests_total{route=\"status\",status=\"2xx\"}"),
        2
    );
    assert_eq!(sample("iamc_gateway_forwarded_total"), 0);
    assert_eq!(sample("iamc_store_version"), 1);
    assert_eq!(sample("iamc_gateway_credentials"), 5);
    assert!(text.contains("# TYPE iamc_request_duration_seconds histogram"));
    assert!(text.contains("iamc_request_duration_seconds_bucket{route=\"kinesis\",le=\"+Inf\"}"));
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_stops_the_start_and_a_bad_reload_keeps_the_old_store() {
    let d = dir("start");
    // Credentials naming a service principal: refused, with the code and place.
    std::fs::write(
        d.join("bad-credentials.json"),
        r#"{"version": 1, "keys": {"AKIASERVICE000000001": {"secret": "s", "principal": "kinesis.amazonaws.com"}}}"#,
    )
    .unwrap();
    let mut c = config(&d);
    c.credentials = d.join("bad-credentials.json");
    let e = Gateway::start(c).await.unwrap_err().to_string();
    assert!(
        e.contains("IAM404") && e.contains("/keys/AKIASERVICE000000001/principal"),
        "{e}"
    );

    // A database file that is not SQLite is refused, and left as it was.
    std::fs::write(d.join("not.db"), b"this is not a database, keep it").unwrap();
    let mut c = config(&d);
    c.db = d.join("not.db");
    let e = Gateway::start(c).await.unwrap_err().to_string();
    assert!(e.contains("not.db"), "{e}");
    assert_eq!(
        std::fs::read(d.join("not.db")).unwrap(),
        b"this is not a database, keep it"
    );

    // A reload with a broken store is refused; the version stays.
    let gw = Gateway::start(config(&d)).await.unwrap();
    assert_eq!(gw.store_version(), 1);
    std::fs::write(d.join("store.json"), "{ broken").unwrap();
    assert!(gw.reload().await.is_err());
    assert_eq!(gw.store_version(), 1);
    std::fs::copy(fixtures().join("store.json"), d.join("store.json")).unwrap();
    assert_eq!(gw.reload().await.unwrap(), 2);
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&d);
}

/// Every line `iamc gateway` writes on standard error until one contains `until` (bounded).
fn stderr_until(rx: &std::sync::mpsc::Receiver<String>, until: &str) -> Vec<String> {
    let start = std::time::Instant::now();
    let mut said = Vec::new();
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let done = line.contains(until);
            said.push(line);
            if done {
                return said;
            }
        }
    }
    panic!("iamc gateway did not say {until:?}: {said:?}");
}

/// `iamc gateway` prints the warnings of its store and of its credentials file (here a
/// session policy's unknown action) when they go live: at the start and at each reload.
#[test]
fn the_gateway_binary_prints_the_files_warnings_at_start_and_reload() {
    use std::io::BufRead;
    let d = dir("warnings");
    let creds = std::fs::read_to_string(d.join("credentials.json")).unwrap();
    let typo = r#""Action": ["kinesis:DescribeStreamSummary", "kinesis:DescribeStreamSumary"]"#;
    let creds = creds.replace(r#""Action": "kinesis:DescribeStreamSummary""#, typo);
    assert!(creds.contains("DescribeStreamSumary"));
    std::fs::write(d.join("credentials.json"), creds).unwrap();
    /// The gateway process, killed on drop (a failed assertion included).
    struct Child(std::process::Child);
    impl Drop for Child {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_iamc"))
        .arg("gateway")
        .args(["--store", d.join("store.json").to_str().unwrap()])
        .args([
            "--credentials",
            d.join("credentials.json").to_str().unwrap(),
        ])
        .args(["--db", d.join("gateway.db").to_str().unwrap()])
        .args(["--upstream", &format!("http://127.0.0.1:{}", closed_port())])
        .args(["--account", "111122223333", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Child(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let check = |said: &[String]| {
        let at = |head: &str| {
            said.iter()
                .position(|l| l.starts_with("iamc gateway: the ") && l.contains(head))
                .unwrap_or_else(|| panic!("no {head:?} line: {said:#?}"))
        };
        let creds = at("credentials.json: 1 warning");
        let finding = said.get(creds + 1).map(String::as_str).unwrap_or_default();
        assert!(
            finding.starts_with("  warning[IAM150]")
                && finding.contains("kinesis:DescribeStreamSumary")
                && finding.contains("/keys/ASIAREADERLIMITED001/session_policy/"),
            "{said:#?}"
        );
        // The store's own warnings (two IAM153 in the fixture) come first.
        let store = at("store.json: 2 warnings");
        assert!(store < creds, "{said:#?}");
        assert!(
            said.get(store + 1)
                .is_some_and(|l| l.starts_with("  warning[IAM153]")),
            "{said:#?}"
        );
    };
    let said = stderr_until(&rx, "store version 1 live");
    check(&said);
    #[cfg(unix)]
    {
        let ok = std::process::Command::new("kill")
            .args(["-HUP", &child.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let said = stderr_until(&rx, "store version 2 live (sighup)");
        check(&said);
    }
    drop(child);
    let _ = std::fs::remove_dir_all(&d);
}
