//! tests/fleet.rs's parts: etcd, kinesalite, gateways on etcd, and the boto3 driver.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::proc::{http_get, Proc};

pub const ACCOUNT: &str = "111122223333";
pub const ADMIN: &str = "AKIAADMIN00000000001";
pub const READER: &str = "ASIAREADER0000000001";
pub const TAGGED: &str = "AKIATAGGED0000000001";
pub const STREAM: &str = "fleet";
pub const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/fleet";
pub const SHARD: &str = "shardId-000000000000";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("e2e")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 15 s) until `cond` holds.
pub fn wait_for(mut cond: impl FnMut() -> bool, what: &str, gw: &Gw) {
    let end = Instant::now() + Duration::from_secs(15);
    while !cond() {
        assert!(
            Instant::now() < end,
            "waited 15 s for {what} on {}\n{}",
            gw.name,
            gw.proc.log_tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One etcd member on loopback ports, with its data in a folder of the test's.
pub struct Etcd {
    proc: Option<Proc>,
    dir: PathBuf,
    pub client: String,
    peer: String,
    starts: u32,
}

impl Etcd {
    fn binary() -> PathBuf {
        for p in ["/usr/bin/etcd", "/usr/local/bin/etcd"] {
            if Path::new(p).exists() {
                return PathBuf::from(p);
            }
        }
        panic!(
            "etcd is not installed: run `bash tests/fleet/setup.sh` (it installs the Debian \
             package etcd-server; .ci/run does it too)"
        )
    }

    fn start(dir: &Path) -> Etcd {
        let mut e = Etcd {
            proc: None,
            dir: dir.to_path_buf(),
            client: format!("127.0.0.1:{}", free_port()),
            peer: format!("127.0.0.1:{}", free_port()),
            starts: 0,
        };
        e.restart();
        e
    }

    /// Starts etcd (again, on the same data) and waits until it answers `/health`.
    pub fn restart(&mut self) {
        self.starts += 1;
        let mut cmd = Command::new("sh");
        // etcd writes nothing on stdout: the first line Proc waits for is this echo.
        cmd.arg("-c")
            .arg("echo started; exec \"$0\" \"$@\"")
            .arg(Self::binary());
        cmd.arg("--name=fleet-test")
            .arg(format!(
                "--data-dir={}",
                self.dir.join("etcd-data").display()
            ))
            .arg(format!("--listen-client-urls=http://{}", self.client))
            .arg(format!("--advertise-client-urls=http://{}", self.client))
            .arg(format!("--listen-peer-urls=http://{}", self.peer))
            .arg(format!(
                "--initial-advertise-peer-urls=http://{}",
                self.peer
            ))
            .arg(format!("--initial-cluster=fleet-test=http://{}", self.peer))
            .arg("--log-level=warn");
        let log = self.dir.join(format!("etcd-{}.log", self.starts));
        let (proc, _) = Proc::start("etcd", cmd, &log);
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((200, body)) = http_get(&self.client, "/health") {
                if body.contains("true") {
                    break;
                }
            }
            assert!(
                Instant::now() < end,
                "etcd is not healthy after 20 s\n{}",
                proc.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        println!("etcd pid {} at {}", proc.pid(), self.client);
        self.proc = Some(proc);
    }

    /// Puts `value` at `key` directly (etcd's JSON gateway, POST /v3/kv/put), as an operator
    /// with etcdctl would.
    pub fn put(&self, key: &str, value: &str) {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let body = json!({"key": b64(key), "value": b64(value)}).to_string();
        self.post("/v3/kv/put", &body);
    }

    fn post(&self, path: &str, body: &str) {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(&self.client).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.client,
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "POST {path}: {answer}"
        );
    }

    /// Compacts etcd's history up to `revision` (etcd's JSON gateway, POST /v3/kv/compaction).
    pub fn compact(&self, revision: u64) {
        let body = json!({"revision": revision.to_string(), "physical": true}).to_string();
        self.post("/v3/kv/compaction", &body);
    }

    /// kill -9.
    pub fn kill(&mut self) {
        if let Some(p) = self.proc.take() {
            p.signal("KILL");
            drop(p);
        }
    }
}

/// A gateway of the fleet.
pub struct Gw {
    pub name: String,
    pub url: String,
    pub addr: String,
    pub proc: Proc,
}

/// A gateway's URL, to move to another thread.
pub struct GwUrl(pub String);

impl Gw {
    pub fn status(&self) -> Value {
        let (code, body) = http_get(&self.addr, "/-/status").unwrap();
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// SIGTERM; it must exit 0.
    pub fn stop(mut self) {
        self.proc.signal("TERM");
        let status = self.proc.wait_exit(Duration::from_secs(15));
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(0),
            "gateway {} on SIGTERM\n{}",
            self.name,
            self.proc.log_tail()
        );
    }
}

/// etcd, kinesalite and the files the gateways share.
pub struct Fleet {
    pub dir: PathBuf,
    pub etcd: Etcd,
    _kinesalite: Proc,
    upstream: String,
    pub key_prefix: String,
}

impl Fleet {
    /// Installs (tests/gateway/setup.sh) and starts etcd and kinesalite.
    pub fn start() -> Fleet {
        let status = Command::new("bash")
            .arg(root().join("tests/gateway/setup.sh"))
            .arg(e2e_dir())
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "tests/gateway/setup.sh failed: run `bash tests/fleet/setup.sh` (node, npm, python3)"
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fleet-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        println!("fleet folder (logs, etcd data): {}", dir.display());
        let etcd = Etcd::start(&dir);
        let mut node = Command::new("node");
        node.arg(root().join("tests/gateway/kinesalite.js"))
            .arg(e2e_dir().join("node"));
        let (kinesalite, first) = Proc::start("kinesalite", node, &dir.join("kinesalite.log"));
        let upstream = first
            .strip_prefix("Listening at ")
            .unwrap_or_else(|| panic!("kinesalite's first line is {first:?}"))
            .trim()
            .to_string();
        Fleet {
            dir,
            etcd,
            _kinesalite: kinesalite,
            upstream,
            key_prefix: format!("fleet-test-{nanos}"),
        }
    }

    /// Starts a gateway on etcd and a free port.
    pub fn gateway(&mut self, name: &str, max_staleness: u64) -> Gw {
        let state = format!("etcd://{}/{}", self.etcd.client, self.key_prefix);
        self.gateway_on(name, &state, max_staleness)
    }

    /// Starts a gateway on its own SQLite database (to compare), with `--iterator-key FILE`.
    pub fn sqlite_gateway(&mut self, name: &str) -> Gw {
        let state = format!("sqlite:{}", self.dir.join(format!("{name}.db")).display());
        let key = self.dir.join(format!("{name}.key"));
        fs::write(&key, "a key of this test, 32 bytes or more, not secret\n").unwrap();
        self.gateway_with(name, &state, 30, &["--iterator-key", key.to_str().unwrap()])
    }

    fn gateway_on(&mut self, name: &str, state: &str, max_staleness: u64) -> Gw {
        self.gateway_with(name, state, max_staleness, &[])
    }

    fn gateway_with(&mut self, name: &str, state: &str, max_staleness: u64, extra: &[&str]) -> Gw {
        let fixtures = root().join("tests/gateway");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamc"));
        cmd.arg("gateway")
            .arg("--store")
            .arg(fixtures.join("store.json"))
            .arg("--credentials")
            .arg(fixtures.join("credentials.json"))
            .arg("--upstream")
            .arg(&self.upstream)
            .arg("--state")
            .arg(state)
            .arg("--max-staleness")
            .arg(max_staleness.to_string())
            .args(["--account", ACCOUNT, "--listen", "127.0.0.1:0"])
            .args(extra);
        let log = self.dir.join(format!("gateway-{name}.log"));
        let (proc, first) = Proc::start(&format!("gateway {name}"), cmd, &log);
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("gateway {name}: first line {first:?}\n{}", proc.log_tail()))
            .trim()
            .to_string();
        println!("gateway {name} pid {} at {addr}", proc.pid());
        Gw {
            name: name.to_string(),
            url: format!("http://{addr}"),
            addr,
            proc,
        }
    }
}

/// boto3, driven one call at a time (tests/fleet/driver.py).
pub struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Driver {
    pub fn start(_fleet: &Fleet) -> Driver {
        let mut cmd = Command::new(e2e_dir().join("venv/bin/python"));
        cmd.arg(root().join("tests/fleet/driver.py"))
            .arg(root().join("tests/gateway/credentials.json"))
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_PROXY", "*");
        for var in [
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_KINESIS",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.contains("ready"), "driver.py: {line:?}");
        Driver {
            child,
            stdin,
            stdout,
        }
    }

    pub fn call_url(&mut self, url: &str, key: &str, op: &str, args: Value) -> Value {
        let cmd = json!({"gw": url, "key": key, "op": op, "args": args});
        writeln!(self.stdin, "{cmd}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("driver.py: {e}: {line:?}"))
    }

    pub fn call(&mut self, gw: &Gw, key: &str, op: &str, args: Value) -> Value {
        self.call_url(&gw.url, key, op, args)
    }

    /// A call that must succeed.
    pub fn ok(&mut self, gw: &Gw, key: &str, op: &str, args: Value) -> Value {
        let r = self.call(gw, key, op, args);
        assert_eq!(
            r["ok"],
            true,
            "{op} through {} failed: {r}\n{}",
            gw.name,
            gw.proc.log_tail()
        );
        r
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
