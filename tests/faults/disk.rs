//! The gateway's database runs out of room during PutResourcePolicy.
//!
//! What is simulated and how: the `iamc gateway` binary runs with its database on a file system
//! of 192 KiB that the test makes (a tmpfs mounted in a private mount namespace with
//! `unshare --map-root-user --mount`, so it needs no privilege beyond user namespaces); the
//! write that does not fit fails in the kernel with ENOSPC, exactly as on a full disk. Where
//! user namespaces are not allowed, the same run uses a 192 KiB file-size limit instead
//! (`ulimit -f`, with SIGXFSZ ignored), where the write fails with EFBIG: an injected write
//! error. No part of the gateway is mocked.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::*;

const SMALL_DISK_KIB: u32 = 192;

/// The gateway process, killed and reaped on drop (a failed assertion included).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `iamc gateway` with `mount` (an empty folder) made into a small file system, or failing
/// that with a file-size limit; and which of the two.
fn small_disk_gateway(mount: &Path, args: &[String]) -> (Command, &'static str) {
    let iamc = env!("CARGO_BIN_EXE_iamc");
    let userns = Command::new("unshare")
        .args(["--map-root-user", "--mount", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut cmd;
    let how = if userns {
        cmd = Command::new("unshare");
        cmd.args(["--map-root-user", "--mount", "sh", "-c"])
            .arg(format!(
                "mount -t tmpfs -o size={SMALL_DISK_KIB}k iamc-faults \"$0\" && exec \"$@\""
            ))
            .arg(mount);
        "a 192 KiB tmpfs (ENOSPC)"
    } else {
        cmd = Command::new("sh");
        // dash and bash count `ulimit -f` in blocks of 512 and 1024 bytes: at most 192 KiB.
        cmd.arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {SMALL_DISK_KIB} && exec \"$@\""
            ))
            .arg("sh");
        "a 192 KiB file-size limit (EFBIG)"
    };
    cmd.arg(iamc).args(args);
    (cmd, how)
}

fn stream_arn(i: usize) -> String {
    format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/s{i}")
}

/// A policy letting the reader role's account read stream `i`, padded to about 6 KB (the
/// gateway stores the text exactly as given).
fn policy(i: usize) -> String {
    let p = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "CrossAccountRead",
            "Effect": "Allow",
            "Principal": {"AWS": "210987654321"},
            "Action": ["kinesis:DescribeStreamSummary", "kinesis:GetRecords"],
            "Resource": stream_arn(i),
        }]
    })
    .to_string();
    format!("{}{}}}", &p[..p.len() - 1], " ".repeat(6000))
}

fn admin() -> Option<(&'static str, &'static str, Option<&'static str>)> {
    Some((ADMIN.0, ADMIN.1, None))
}

fn reader() -> Option<(&'static str, &'static str, Option<&'static str>)> {
    Some((READER.0, READER.1, Some(READER.2)))
}

async fn put(addr: std::net::SocketAddr, i: usize) -> Answer {
    let body = json!({"ResourceARN": stream_arn(i), "Policy": policy(i)});
    send(addr, kinesis(addr, admin(), "PutResourcePolicy", &body)).await
}

async fn get_policy(addr: std::net::SocketAddr, i: usize) -> String {
    let body = json!({"ResourceARN": stream_arn(i)});
    let a = send(addr, kinesis(addr, admin(), "GetResourcePolicy", &body)).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    a.json["Policy"].as_str().unwrap().to_string()
}

/// The reader's DescribeStreamSummary of stream `i`: allowed only through its policy.
async fn reader_describes(addr: std::net::SocketAddr, i: usize) -> Answer {
    let body = json!({"StreamARN": stream_arn(i)});
    send(
        addr,
        kinesis(addr, reader(), "DescribeStreamSummary", &body),
    )
    .await
}

async fn status(addr: std::net::SocketAddr) -> Value {
    let req = hyper::Request::get("/-/status")
        .header("host", "x")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    send(addr, req).await.json
}

/// Policies are put until the disk is full. The put that does not fit is answered 500
/// `InternalFailure` saying it was not stored; the live decisions stay those of the last
/// acknowledged write (the refused policy grants nothing, the acknowledged ones still do); and
/// a gateway started on a copy of the database has every acknowledged policy, exactly, and not
/// the refused one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_the_policy_and_loses_nothing_acknowledged() {
    let up = FakeUpstream::start(Misbehaviour::None, 0).await;
    let d = dir("full-disk");
    let small = d.join("small");
    std::fs::create_dir_all(&small).unwrap();
    let arg = |p: &Path| p.to_str().unwrap().to_string();
    let args: Vec<String> = vec![
        "gateway".into(),
        "--store".into(),
        arg(&d.join("store.json")),
        "--credentials".into(),
        arg(&d.join("credentials.json")),
        "--db".into(),
        arg(&small.join("gateway.db")),
        "--upstream".into(),
        format!("http://{}", up.addr),
        "--account".into(),
        ACCOUNT.into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    let (mut cmd, how) = small_disk_gateway(&small, &args);
    eprintln!("the small disk: {how}");
    // Its standard error (the store's warnings, any error) goes to a log beside the files.
    let log = std::fs::File::create(d.join("gateway.log")).unwrap();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Child(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(ANSWERS_OTHERS)
        .expect("the gateway says where it listens");
    let addr: std::net::SocketAddr = line.strip_prefix("listening on ").unwrap().parse().unwrap();

    // Fill the disk.
    let mut acked = 0;
    let refused = loop {
        assert!(acked < 200, "{how}: the disk never filled up");
        let a = put(addr, acked).await;
        if a.status == 200 {
            acked += 1;
            continue;
        }
        break a;
    };
    let full = acked;
    assert!(full > 0, "{how}: not even one policy fitted");
    assert_eq!(refused.status, 500, "{how}: {:?}", refused.json);
    assert_eq!(
        refused.error_type(),
        "InternalFailure",
        "{:?}",
        refused.json
    );
    let message = refused.json["message"].as_str().unwrap();
    assert!(
        message.starts_with("the policy was not stored: policy database"),
        "{message}"
    );
    eprintln!("{how}: {full} policies acknowledged, then: {message}");

    // The live decisions are the last acknowledged ones.
    assert_eq!(get_policy(addr, full).await, "{}");
    let a = reader_describes(addr, full).await;
    assert_eq!(a.error_type(), "AccessDeniedException", "{:?}", a.json);
    for i in [0, full - 1] {
        assert_eq!(get_policy(addr, i).await, policy(i));
        let a = reader_describes(addr, i).await;
        assert_eq!(a.status, 200, "stream {i}: {:?}", a.json);
    }
    let st = status(addr).await;
    assert_eq!(st["policies"], full, "{st}");
    assert_eq!(st["revision"], full, "{st}");
    // Trying again on the full disk fails the same way, and the gateway keeps deciding.
    let again = put(addr, full).await;
    assert_eq!(again.status, 500, "{:?}", again.json);
    gateway_decides(addr).await;

    // What is on the (full) disk: a copy of the database and its log, read through the
    // gateway's own view of the file system (its mount namespace), opened by a new gateway.
    let view = Path::new("/proc")
        .join(child.0.id().to_string())
        .join("root")
        .join(small.strip_prefix("/").unwrap());
    let copy = d.join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["gateway.db", "gateway.db-wal"] {
        std::fs::copy(view.join(f), copy.join(f)).unwrap();
    }
    drop(child);
    let mut c = gw_config(&d, up.addr);
    c.db = copy.join("gateway.db");
    let gw = start_gateway(c).await;
    let addr = gw.local_addr();
    let st = status(addr).await;
    assert_eq!(st["policies"], full, "{st}");
    assert_eq!(st["revision"], full, "{st}");
    for i in 0..full {
        assert_eq!(get_policy(addr, i).await, policy(i), "stream {i}");
    }
    assert_eq!(get_policy(addr, full).await, "{}");
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(&d);
}
