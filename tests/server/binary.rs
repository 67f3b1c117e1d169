//! The `iamc serve` binary: its warnings, signals and refusals, and the load run.

use super::*;

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
