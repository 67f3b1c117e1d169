//! End-to-end tests of `iamc gateway` with real parts: kinesalite (the npm Kinesis emulator) as
//! the upstream and real boto3 clients (PyPI), both installed, pinned, by
//! `tests/gateway/setup.sh` into `target/e2e/`.
//!
//! One test, `gateway_end_to_end`, starts kinesalite on a free loopback port and the `iamc`
//! binary's `gateway` on fresh copies of `tests/gateway/store.json` and
//! `tests/gateway/credentials.json`, then drives the scenarios of `tests/gateway/scenarios.py`
//! in order: (a) the account's own producer, (b) cross-account reads through a stream policy,
//! (c) an enhanced fan-out consumer policy, (d) signatures, tags, a policy for a stream that
//! does not exist (refused; kinesalite has no enhanced fan-out, so for a consumer only its
//! stream's existence can be checked), (e) SIGHUP reloads good and
//! bad, (f) a restart on the same database, (g) `kill -9` while resource policies are being
//! written, and last the upstream's own errors. Every child process is killed when the test
//! ends, panics included.
//!
//! `IAMC_SKIP_E2E=1` skips it (offline development only; CI does not set it).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
/// Added to the credentials file by the reload scenario; scenarios.py knows it as `LATE`.
const LATE_KEY: &str = "AKIALATE000000000001";
/// The number of keys in tests/gateway/credentials.json.
const FIXTURE_KEYS: u64 = 5;
/// No single wait lasts longer than this.
const WAIT: Duration = Duration::from_secs(30);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/gateway")
}

/// `target/e2e`: where setup.sh installs kinesalite and the venv.
fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR has a parent")
        .join("e2e")
}

fn python() -> PathBuf {
    e2e_dir().join("venv/bin/python")
}

// The child-process guard and the plain HTTP GET, shared with tests/fleet.rs.
#[path = "common/proc.rs"]
mod proc;
use proc::{http_get, Proc};

struct Status {
    store_version: u64,
    revision: u64,
    policies: u64,
    credentials: u64,
}

struct Gateway {
    proc: Proc,
    addr: String,
}

impl Gateway {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn status(&self) -> Status {
        let (code, body) = http_get(&self.addr, "/-/status")
            .unwrap_or_else(|e| panic!("GET /-/status: {e}\n{}", self.proc.log_tail()));
        assert_eq!(code, 200, "GET /-/status answered {code}: {body}");
        let v: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET /-/status: not JSON ({e}): {body}"));
        let num = |k: &str| {
            v[k].as_u64()
                .unwrap_or_else(|| panic!("GET /-/status: no number {k:?} in {body}"))
        };
        Status {
            store_version: num("store_version"),
            revision: num("revision"),
            policies: num("policies"),
            credentials: num("credentials"),
        }
    }

    /// Polls `/-/status` until `store_version` is `want`.
    fn wait_version(&self, want: u64) -> Status {
        let end = Instant::now() + WAIT;
        loop {
            let s = self.status();
            if s.store_version == want {
                return s;
            }
            assert!(
                Instant::now() < end,
                "store_version is still {} after {WAIT:?}, expected {want}\n{}",
                s.store_version,
                self.proc.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM or SIGINT: the gateway must exit 0 soon.
    fn stop(mut self, sig: &str) {
        self.proc.signal(sig);
        let status = self.proc.wait_exit(Duration::from_secs(15));
        let tail = self.proc.log_tail();
        let status = status
            .unwrap_or_else(|| panic!("the gateway did not exit within 15 s of SIG{sig}\n{tail}"));
        assert_eq!(
            status.code(),
            Some(0),
            "the gateway exited with {status} on SIG{sig}, expected 0\n{tail}"
        );
        println!("gateway pid {} exited 0 on SIG{sig}", self.proc.pid());
    }
}

struct E2e {
    dir: PathBuf,
    upstream: String,
    starts: u32,
}

impl E2e {
    fn store(&self) -> PathBuf {
        self.dir.join("store.json")
    }

    fn credentials(&self) -> PathBuf {
        self.dir.join("credentials.json")
    }

    fn gateway_command(&self, listen: &str) -> Command {
        self.gateway_command_with(&self.store(), listen)
    }

    fn gateway_command_with(&self, store: &Path, listen: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamc"));
        cmd.arg("gateway")
            .arg("--store")
            .arg(store)
            .arg("--credentials")
            .arg(self.credentials())
            .arg("--upstream")
            .arg(&self.upstream)
            .arg("--db")
            .arg(self.dir.join("gateway.db"))
            .args(["--account", ACCOUNT, "--region", "us-east-1"])
            .args(["--upstream-account", "000000000000", "--listen", listen]);
        cmd
    }

    /// Starts the gateway on a free port and waits for `listening on 127.0.0.1:PORT`.
    fn start_gateway(&mut self) -> Gateway {
        self.starts += 1;
        let log = self.dir.join(format!("gateway-{}.log", self.starts));
        let (proc, first) = Proc::start(
            &format!("gateway #{}", self.starts),
            self.gateway_command("127.0.0.1:0"),
            &log,
        );
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "the gateway's first line is {first:?}, expected `listening on 127.0.0.1:PORT`"
                )
            })
            .trim()
            .to_string();
        assert!(
            addr.starts_with("127.0.0.1:") && addr[10..].parse::<u16>().is_ok_and(|p| p > 0),
            "the gateway listens on {addr:?}"
        );
        println!(
            "gateway #{} pid {} listening on {addr}",
            self.starts,
            proc.pid()
        );
        Gateway { proc, addr }
    }

    fn python(&self, gw: &Gateway, scenario: &str) -> Command {
        let mut cmd = Command::new(python());
        cmd.arg(fixtures().join("scenarios.py"))
            .arg(scenario)
            .arg("--gateway")
            .arg(gw.url())
            .arg("--upstream")
            .arg(&self.upstream)
            .arg("--credentials")
            .arg(self.credentials())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for var in [
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_KINESIS",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_DEFAULT_REGION",
            "AWS_REGION",
            "AWS_CA_BUNDLE",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("NO_PROXY", "*");
        cmd
    }

    /// Runs one scenario to its end; it must exit 0.
    fn scenario(&self, gw: &Gateway, scenario: &str, extra: &[&str]) {
        let t = Instant::now();
        let out = self
            .python(gw, scenario)
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        print!("{stdout}");
        if !stderr.trim().is_empty() {
            println!("(stderr of scenario {scenario})\n{stderr}");
        }
        assert!(
            out.status.success(),
            "scenario {scenario} failed ({}):\n{stdout}\n{stderr}\n{}",
            out.status,
            gw.proc.log_tail()
        );
        println!("   [{scenario}: {:.1} s]", t.elapsed().as_secs_f64());
    }
}

/// Writes `text` to `path` at once (a rename), so a reload never sees a half-written file.
fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, path).unwrap();
}

fn free_port_in_use_by(listener: &TcpListener) -> String {
    listener.local_addr().unwrap().to_string()
}

/// A fresh folder under target/tmp for one run.
fn fresh_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gateway-e2e-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_setup() {
    let t = Instant::now();
    let status = Command::new("bash")
        .arg(fixtures().join("setup.sh"))
        .arg(e2e_dir())
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run tests/gateway/setup.sh: {e}"));
    assert!(
        status.success(),
        "tests/gateway/setup.sh failed ({status}); it needs node, npm and python3 (with venv) \
         and the npm and PyPI registries. Set IAMC_SKIP_E2E=1 to skip this test offline."
    );
    println!("setup.sh: {:.1} s", t.elapsed().as_secs_f64());
}

#[test]
fn gateway_end_to_end() {
    if std::env::var("IAMC_SKIP_E2E").is_ok_and(|v| v == "1") {
        println!("!!!!!!!! IAMC_SKIP_E2E=1: the gateway end-to-end test (kinesalite + boto3) was SKIPPED !!!!!!!!");
        eprintln!("!!!!!!!! IAMC_SKIP_E2E=1: the gateway end-to-end test (kinesalite + boto3) was SKIPPED !!!!!!!!");
        return;
    }
    run_setup();
    let started = Instant::now();
    let dir = fresh_dir();
    for f in ["store.json", "credentials.json"] {
        fs::copy(fixtures().join(f), dir.join(f)).unwrap();
    }
    println!("e2e folder (logs, store, db): {}", dir.display());

    // kinesalite on a free loopback port.
    let mut node = Command::new("node");
    node.arg(fixtures().join("kinesalite.js"))
        .arg(e2e_dir().join("node"));
    let (kinesalite, first) = Proc::start("kinesalite", node, &dir.join("kinesalite.log"));
    let upstream = first
        .strip_prefix("Listening at ")
        .unwrap_or_else(|| panic!("kinesalite's first line is {first:?}"))
        .trim()
        .to_string();
    println!("kinesalite pid {} at {upstream}", kinesalite.pid());
    let mut e2e = E2e {
        dir: dir.clone(),
        upstream,
        starts: 0,
    };

    // The gateway exits 1 when it cannot start: a port in use, a store that is not there.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cmd = e2e.gateway_command(&free_port_in_use_by(&taken));
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the gateway on a port in use: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    drop(taken);
    let out = e2e
        .gateway_command_with(&dir.join("no-such-store.json"), "127.0.0.1:0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the gateway with a missing store: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    println!("ok: the gateway exits 1 on a port in use and on a missing store");

    let gw = e2e.start_gateway();
    let s0 = gw.status();
    assert_eq!(s0.store_version, 1, "store_version at start");
    assert_eq!(s0.credentials, FIXTURE_KEYS, "credentials at start");
    println!(
        "status at start: store_version 1, revision {}, policies {}, credentials {}",
        s0.revision, s0.policies, s0.credentials
    );

    // (a)-(d), tags, and a policy for a stream that does not exist (yet).
    for s in ["a", "b", "c", "d", "tags", "missing-stream"] {
        e2e.scenario(&gw, s, &[]);
    }
    let s1 = gw.status();
    assert!(
        s1.revision > s0.revision,
        "the resource policies put and deleted did not bump the revision ({} -> {})",
        s0.revision,
        s1.revision
    );
    assert_eq!(s1.store_version, 1);
    println!(
        "status after a-d: revision {} -> {}, policies {}",
        s0.revision, s1.revision, s1.policies
    );

    // (e) Reload: an explicit deny for the producer and a new key, then a broken store.
    e2e.scenario(&gw, "late-key-unknown", &[]);
    let original_store = fs::read_to_string(e2e.store()).unwrap();
    let mut store: Value = serde_json::from_str(&original_store).unwrap();
    store["accounts"][ACCOUNT]["users"]["producer"]["inline"] = json!({
        "DenyPutRecord": {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "NoMoreWrites",
                "Effect": "Deny",
                "Action": "kinesis:PutRecord",
                "Resource": "*"
            }]
        }
    });
    write_atomic(&e2e.store(), &serde_json::to_string_pretty(&store).unwrap());
    let mut creds: Value =
        serde_json::from_str(&fs::read_to_string(e2e.credentials()).unwrap()).unwrap();
    creds["keys"][LATE_KEY] = json!({
        "secret": "lateSecretKey000000000000000000000000001",
        "principal": "arn:aws:iam::111122223333:user/admin"
    });
    write_atomic(
        &e2e.credentials(),
        &serde_json::to_string_pretty(&creds).unwrap(),
    );
    gw.proc.signal("HUP");
    let s2 = gw.wait_version(2);
    assert_eq!(
        s2.credentials,
        FIXTURE_KEYS + 1,
        "credentials after the reload"
    );
    println!(
        "SIGHUP with a Deny for the producer and a new key: store_version 2, credentials {}",
        s2.credentials
    );
    e2e.scenario(&gw, "producer-denied-explicit", &[]);
    e2e.scenario(&gw, "late-key", &[]);

    write_atomic(
        &e2e.store(),
        "{\"version\": 1, \"accounts\": {\"111122223333\": [broken",
    );
    gw.proc.signal("HUP");
    std::thread::sleep(Duration::from_millis(1500));
    let s3 = gw.status();
    assert_eq!(s3.store_version, 2, "a broken store was taken on SIGHUP");
    assert_eq!(s3.credentials, FIXTURE_KEYS + 1);
    println!("SIGHUP with a broken store: store_version still 2");
    e2e.scenario(&gw, "producer-denied-explicit", &[]);

    // The original store again: the next good reload is version 3 (the broken one counted none).
    write_atomic(&e2e.store(), &original_store);
    gw.proc.signal("HUP");
    gw.wait_version(3);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(gw.status().store_version, 3);
    println!("SIGHUP with the original store: store_version 3");
    e2e.scenario(&gw, "producer-allowed", &[]);

    // (f) Restart on the same database.
    let before = gw.status();
    gw.stop("TERM");
    let gw = e2e.start_gateway();
    let after = gw.status();
    assert_eq!(after.store_version, 1, "store_version after a restart");
    assert_eq!(
        after.revision, before.revision,
        "the database revision changed across a clean restart"
    );
    println!("restarted: revision {} kept", after.revision);
    e2e.scenario(&gw, "persisted", &[]);

    // (g) kill -9 while PutResourcePolicy v1, v2, ... runs.
    let acks = dir.join("acks.txt");
    let (mut looper, ready) = Proc::start(
        "policy-loop",
        {
            let mut c = e2e.python(&gw, "policy-loop");
            c.arg("--acks").arg(&acks).args(["--max-seconds", "60"]);
            c
        },
        &dir.join("policy-loop.log"),
    );
    assert!(
        ready.starts_with("== scenario policy-loop"),
        "policy-loop said {ready:?}"
    );
    let count = |p: &Path| {
        fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .max()
            .unwrap_or(0)
    };
    let end = Instant::now() + WAIT;
    while count(&acks) < 20 {
        if let Some(status) = looper.child.try_wait().unwrap() {
            panic!(
                "policy-loop ended ({status}) after {} acks\n{}\n{}",
                count(&acks),
                looper.log_tail(),
                gw.proc.log_tail()
            );
        }
        assert!(
            Instant::now() < end,
            "fewer than 20 PutResourcePolicy acks in {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut gw = gw;
    gw.proc.child.kill().unwrap();
    let killed = gw.proc.wait_exit(Duration::from_secs(5));
    println!(
        "kill -9 the gateway after {} acknowledged policies: {killed:?}",
        count(&acks)
    );
    let loop_status = looper.wait_exit(Duration::from_secs(20));
    let loop_log = fs::read_to_string(&looper.log).unwrap_or_default();
    print!("{loop_log}");
    assert!(
        loop_status.is_some_and(|s| s.success()),
        "policy-loop did not end cleanly after the kill: {loop_status:?}\n{loop_log}"
    );
    let last = count(&acks);
    drop(gw);
    let gw = e2e.start_gateway();
    let s4 = gw.status();
    println!(
        "restarted after kill -9: revision {}, last acknowledged v{last}",
        s4.revision
    );
    assert!(
        s4.revision >= after.revision + last,
        "revision {} after kill -9: fewer than the {last} acknowledged writes since {}",
        s4.revision,
        after.revision
    );
    e2e.scenario(&gw, "policy-version", &["--min", &last.to_string()]);
    e2e.scenario(&gw, "persisted", &[]);

    // The upstream's own errors, passed on in the gateway's account's terms.
    e2e.scenario(&gw, "upstream-errors", &[]);

    // --sign-upstream: a front gateway in front of this one signs what it forwards with the
    // admin's key. Its client's key is one the inner gateway does not know, so only a valid
    // re-signature gets the request through.
    let mut creds: Value =
        serde_json::from_str(&fs::read_to_string(e2e.credentials()).unwrap()).unwrap();
    let admin = creds["keys"]["AKIAADMIN00000000001"].clone();
    let mut producer = creds["keys"]["AKIAPRODUCER00000001"].clone();
    producer["secret"] = Value::from("frontOnlySecretKey00000000000000000000001");
    creds["keys"]["AKIAFRONTONLY0000001"] = producer;
    let front_creds = dir.join("front-credentials.json");
    fs::write(&front_creds, creds.to_string()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamc"));
    cmd.arg("gateway")
        .arg("--store")
        .arg(e2e.store())
        .arg("--credentials")
        .arg(&front_creds)
        .arg("--upstream")
        .arg(gw.url())
        .arg("--db")
        .arg(dir.join("front.db"))
        .args(["--account", ACCOUNT, "--upstream-account", ACCOUNT])
        .args(["--listen", "127.0.0.1:0", "--sign-upstream"])
        .env("AWS_ACCESS_KEY_ID", "AKIAADMIN00000000001")
        .env("AWS_SECRET_ACCESS_KEY", admin["secret"].as_str().unwrap())
        .env_remove("AWS_SESSION_TOKEN");
    let (front_proc, first) = Proc::start("front gateway", cmd, &dir.join("front.log"));
    let front = Gateway {
        proc: front_proc,
        addr: first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the front gateway's first line is {first:?}"))
            .trim()
            .to_string(),
    };
    let inner_before = http_get(&gw.addr, "/-/status").unwrap().1;
    // The last --credentials wins: the front gateway's file.
    let mut py = e2e.python(&front, "signed-upstream");
    py.arg("--credentials").arg(&front_creds);
    let out = py.stdin(Stdio::null()).output().unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "scenario signed-upstream failed:\n{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        front.proc.log_tail()
    );
    let inner_after = http_get(&gw.addr, "/-/status").unwrap().1;
    let allowed = |b: &str| {
        serde_json::from_str::<Value>(b).unwrap()["allowed"]
            .as_u64()
            .unwrap()
    };
    assert!(
        allowed(&inner_after) > allowed(&inner_before),
        "the inner gateway allowed nothing: {inner_before} -> {inner_after}"
    );
    front.stop("TERM");

    gw.stop("INT");
    drop(kinesalite);
    println!(
        "gateway end-to-end: all scenarios passed in {:.1} s (after setup)",
        started.elapsed().as_secs_f64()
    );
    let _ = fs::remove_dir_all(&dir);
}
