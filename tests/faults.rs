//! Fault injection (issue 19, item 5), bounded and on loopback only: what `iamc serve` and
//! `iamc gateway` do when the things around them misbehave, and that they keep answering
//! others within their bounds afterwards (and meanwhile).
//!
//! - The gateway's upstream (a fake Kinesis on loopback, written here byte by byte, since a
//!   misbehaving upstream is the only way to get these faults): closing mid-answer, answering
//!   garbage, never answering, trickling its body, answering 64 MiB.
//! - Clients of both servers (raw sockets): headers sent byte by byte, a connection that sends
//!   nothing, a body that never finishes, a half-close after the request, 5,000 connections
//!   at once.
//! - The gateway's database during PutResourcePolicy: a full disk (`disk.rs`).
//!
//! "Keeps answering others" is checked with a normal request that must get the right
//! decision within 10 s ([`support::ANSWERS_OTHERS`]); no test asserts a tighter time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "faults/disk.rs"]
mod disk;
#[path = "faults/support.rs"]
mod support;

use std::time::{Duration, Instant};

use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

// ---------------------------------------------------------------------------------------------
// The gateway's upstream misbehaves.

/// A signed PutRecord (allowed for the producer) meets `fault` upstream: the client gets a 503
/// `ServiceUnavailable` saying why (`why` is part of its message), within the liveness bound;
/// then the gateway still decides, and the next PutRecord, to an upstream that behaves again,
/// goes through.
async fn upstream_fault(
    name: &str,
    fault: Misbehaviour,
    max_upstream_bytes: Option<usize>,
    why: &str,
) {
    let up = FakeUpstream::start(fault, 1).await;
    let d = dir(name);
    let mut c = gw_config(&d, up.addr);
    c.upstream_timeout = Duration::from_secs(1);
    if let Some(max) = max_upstream_bytes {
        c.max_upstream_bytes = max;
    }
    let gw = start_gateway(c).await;
    let addr = gw.local_addr();
    let (id, secret) = PRODUCER;
    let key = Some((id, secret, None));

    let a = send(addr, kinesis(addr, key, "PutRecord", &put_record())).await;
    assert_eq!(a.status, 503, "{fault:?}: {:?}", a.json);
    assert_eq!(
        a.error_type(),
        "ServiceUnavailable",
        "{fault:?}: {:?}",
        a.json
    );
    let message = a.json["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains(why), "{fault:?}: {message}");

    gateway_decides(addr).await;
    let a = send(addr, kinesis(addr, key, "PutRecord", &put_record())).await;
    assert_eq!(a.status, 200, "{fault:?}: after the fault: {:?}", a.json);
    assert_eq!(a.json["ShardId"], "shardId-000000000000");
    // Both PutRecords reached the upstream, on a connection each.
    assert_eq!(up.connections.load(std::sync::atomic::Ordering::SeqCst), 2);
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_closing_mid_answer_is_a_503() {
    upstream_fault(
        "mid-answer",
        Misbehaviour::ClosesMidAnswer,
        None,
        "cannot read the upstream's answer",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_answering_garbage_is_a_503() {
    upstream_fault("garbage", Misbehaviour::Garbage, None, "failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_never_answering_is_a_503_after_the_upstream_timeout() {
    upstream_fault(
        "silent",
        Misbehaviour::Silent,
        None,
        "did not answer within 1s",
    )
    .await;
}

/// Headers at once, then a body that trickles and never ends: the upstream timeout covers the
/// whole answer, not only its headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_trickling_its_body_is_a_503_after_the_upstream_timeout() {
    upstream_fault(
        "trickle",
        Misbehaviour::TricklesBody,
        None,
        "did not answer within 1s",
    )
    .await;
}

/// 64 MiB from the upstream with a 1 MiB bound: the gateway stops reading at the bound and
/// answers 503; it does not buffer the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_answering_64_mib_over_the_bound_is_a_503() {
    upstream_fault(
        "huge",
        Misbehaviour::Huge(64 << 20),
        Some(1 << 20),
        "length limit exceeded",
    )
    .await;
}

/// The default bound is 64 MiB: one byte more is refused the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_answering_past_the_default_64_mib_bound_is_a_503() {
    upstream_fault(
        "huge-default",
        Misbehaviour::Huge((64 << 20) + 1),
        None,
        "length limit exceeded",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Clients misbehave, against both servers.

/// Which server a client fault is tried on.
#[derive(Clone, Copy, Debug)]
enum Front {
    Serve,
    Gateway,
}

/// A running front end, its normal request, and the request line a raw client sends it.
struct Target {
    addr: std::net::SocketAddr,
    front: Front,
    _server: Option<iamc::server::Server>,
    _gateway: Option<iamc::gateway::Gateway>,
    _upstream: Option<FakeUpstream>,
    dir: Option<std::path::PathBuf>,
}

impl Target {
    /// Starts `front` with a header timeout and a body (request) timeout of `timeout`.
    async fn start(front: Front, name: &str, timeout: Duration) -> Target {
        match front {
            Front::Serve => {
                let mut c = srv_config();
                c.limits.header_timeout = timeout;
                c.limits.request_timeout = timeout;
                let s = start_server(c).await;
                Target {
                    addr: s.local_addr(),
                    front,
                    _server: Some(s),
                    _gateway: None,
                    _upstream: None,
                    dir: None,
                }
            }
            Front::Gateway => {
                let up = FakeUpstream::start(Misbehaviour::None, 0).await;
                let d = dir(name);
                let mut c = gw_config(&d, up.addr);
                c.header_timeout = timeout;
                c.body_timeout = timeout;
                let g = start_gateway(c).await;
                Target {
                    addr: g.local_addr(),
                    front,
                    _server: None,
                    _gateway: Some(g),
                    _upstream: Some(up),
                    dir: Some(d),
                }
            }
        }
    }

    /// The front end decides a normal request correctly, within the liveness bound.
    async fn decides(&self) {
        match self.front {
            Front::Serve => server_decides(self.addr).await,
            Front::Gateway => gateway_decides(self.addr).await,
        }
    }

    /// The head of a request whose body (`len` bytes) is sent separately.
    fn head(&self, len: usize) -> String {
        match self.front {
            Front::Serve => format!(
                "POST /v1/authorize HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                 content-length: {len}\r\n\r\n"
            ),
            Front::Gateway => format!(
                "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: {JSON_11}\r\n\
                 x-amz-target: Kinesis_20131202.PutRecord\r\ncontent-length: {len}\r\n\r\n"
            ),
        }
    }

    /// A complete normal request body, and what its answer must contain.
    fn body(&self) -> (String, &'static str) {
        match self.front {
            Front::Serve => (
                serde_json::json!({"principal": ALICE, "action": "kinesis:GetRecords", "resource": ORDERS})
                    .to_string(),
                "\"decision\":\"Allow\"",
            ),
            Front::Gateway => (put_record().to_string(), "AccessDeniedException"),
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

const FRONTS: [Front; 2] = [Front::Serve, Front::Gateway];

/// Slowloris: headers one byte every 50 ms, never finished. The connection is cut at the
/// header timeout (1 s here), long before the client would be done, and others are answered
/// meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_byte_by_byte_are_cut_at_the_header_timeout() {
    for front in FRONTS {
        let t = Target::start(front, "slowloris", Duration::from_secs(1)).await;
        let mut s = TcpStream::connect(t.addr).await.unwrap();
        let head = format!("{}\r\nx-slow: {}", t.head(10).trim_end(), "a".repeat(400));
        let started = Instant::now();
        let mut cut = false;
        for (i, b) in head.bytes().enumerate() {
            if s.write_all(&[b]).await.is_err() {
                cut = true;
                break;
            }
            if i == 10 {
                // Others are answered while the slow client holds its connection.
                t.decides().await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            if started.elapsed() > ANSWERS_OTHERS {
                break;
            }
        }
        let (said, closed) = read_until_close(&mut s, ANSWERS_OTHERS).await;
        assert!(
            cut || closed,
            "{front:?}: the slow client was never cut off"
        );
        let said = String::from_utf8_lossy(&said);
        assert!(
            said.is_empty() || said.starts_with("HTTP/1.1 408"),
            "{front:?}: {said}"
        );
        t.decides().await;
    }
}

/// A connection that sends nothing at all is closed within the header timeout too; otherwise
/// enough of them would hold every connection slot for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed() {
    for front in FRONTS {
        let t = Target::start(front, "silent-client", Duration::from_secs(1)).await;
        let mut s = TcpStream::connect(t.addr).await.unwrap();
        t.decides().await;
        let (_, closed) = read_until_close(&mut s, ANSWERS_OTHERS).await;
        assert!(closed, "{front:?}: a silent connection was kept open");
        // The HTTP/2 preface, sent slowly and never finished, is no way around it.
        let mut s = TcpStream::connect(t.addr).await.unwrap();
        s.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
        let (_, closed) = read_until_close(&mut s, ANSWERS_OTHERS).await;
        assert!(
            closed,
            "{front:?}: half an HTTP/2 preface kept the connection"
        );
        t.decides().await;
    }
}

/// A body that never finishes: answered (gateway 408, serve 503 `timeout`) at the body
/// timeout, and others are answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_finishes_is_answered_at_the_body_timeout() {
    for front in FRONTS {
        let t = Target::start(front, "endless-body", Duration::from_secs(1)).await;
        let mut s = TcpStream::connect(t.addr).await.unwrap();
        s.write_all(t.head(1000).as_bytes()).await.unwrap();
        s.write_all(b"{\"Stream").await.unwrap();
        t.decides().await;
        let (said, _) = read_until_close(&mut s, ANSWERS_OTHERS).await;
        let said = String::from_utf8_lossy(&said);
        let want = match front {
            Front::Serve => "HTTP/1.1 503",
            Front::Gateway => "HTTP/1.1 408",
        };
        assert!(said.starts_with(want), "{front:?}: {said}");
        t.decides().await;
    }
}

/// A client that shuts down its write side right after its request still gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_closed_client_still_gets_its_answer() {
    for front in FRONTS {
        let t = Target::start(front, "half-close", Duration::from_secs(5)).await;
        let (body, want) = t.body();
        let mut s = TcpStream::connect(t.addr).await.unwrap();
        s.write_all(t.head(body.len()).as_bytes()).await.unwrap();
        s.write_all(body.as_bytes()).await.unwrap();
        s.shutdown().await.unwrap();
        let (said, closed) = read_until_close(&mut s, ANSWERS_OTHERS).await;
        let said = String::from_utf8_lossy(&said);
        assert!(
            closed,
            "{front:?}: the connection was not closed after the answer"
        );
        assert!(
            said.starts_with("HTTP/1.1 "),
            "{front:?}: no answer: {said:?}"
        );
        assert!(said.contains(want), "{front:?}: {said}");
        t.decides().await;
    }
}

/// 5,000 connections that send nothing, opened at once (the servers accept 4,096 and leave the
/// rest waiting): a normal client is answered once the header timeout (1 s) has closed the
/// silent ones, within the liveness bound, while the 5,000 stay open on the client side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_connections_do_not_lock_out_a_normal_client() {
    for front in FRONTS {
        let t = Target::start(front, "5000", Duration::from_secs(1)).await;
        let mut flood = Vec::with_capacity(5000);
        for _ in 0..5000 {
            flood.push(TcpStream::connect(t.addr).await.unwrap());
        }
        assert_eq!(flood.len(), 5000);
        t.decides().await;
        // And the server is not left with a backlog of dead connections: it decides again.
        t.decides().await;
        drop(flood);
        t.decides().await;
    }
}

/// An HTTP/2 connection that has sent its preface and settings and then opens no stream is
/// closed once idle for the header timeout: hyper's HTTP/2 server has no idle timeout, so
/// before the runtime had one, 4,096 of them (the connection limit) would have locked every
/// other client out, as silent connections did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_closed() {
    for front in FRONTS {
        let t = Target::start(front, "idle-h2", Duration::from_secs(1)).await;
        let stream = TcpStream::connect(t.addr).await.unwrap();
        let (_send, conn) =
            hyper::client::conn::http2::handshake::<_, _, http_body_util::Full<bytes::Bytes>>(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(stream),
            )
            .await
            .unwrap();
        t.decides().await;
        let closed = tokio::time::timeout(ANSWERS_OTHERS, conn).await.is_ok();
        assert!(closed, "{front:?}: an idle HTTP/2 connection was kept open");
    }
}

/// The idle timeout closes only idle connections: a request whose answer takes longer than it
/// (here an upstream that answers after 2.5 s, the gateway's header and idle timeout 1 s) is
/// answered on its HTTP/2 connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_outlives_the_idle_timeout() {
    let up = FakeUpstream::start(Misbehaviour::Late(Duration::from_millis(2500)), 1).await;
    let d = dir("in-flight-h2");
    let mut c = gw_config(&d, up.addr);
    c.header_timeout = Duration::from_secs(1);
    c.upstream_timeout = Duration::from_secs(10);
    let gw = start_gateway(c).await;
    let addr = gw.local_addr();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http2::handshake::<_, _, http_body_util::Full<bytes::Bytes>>(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
    tokio::spawn(conn);
    let (id, secret) = PRODUCER;
    let req = kinesis(addr, Some((id, secret, None)), "PutRecord", &put_record());
    let started = std::time::Instant::now();
    let resp = tokio::time::timeout(ANSWERS_OTHERS, send.send_request(req))
        .await
        .expect("answered within the liveness bound")
        .expect("the connection stayed open while the request was in flight");
    assert_eq!(resp.status(), 200);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "the upstream answered late"
    );
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&d);
}
