//! Connections: cleartext HTTP/2, hostile input that must never panic the server, slow
//! requests, idle and silent connections.

use super::*;

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
