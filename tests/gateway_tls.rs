//! `iamc gateway` over TLS both ways, with real clients: kinesalite (npm) serving https with a
//! certificate of the test's own CA as the upstream (`--upstream https://… --upstream-ca`), the
//! gateway listening with TLS (`--tls-cert/--tls-key`), and clients that trust only that CA:
//! boto3 (the seed's scenarios a–d), the AWS CLI v1, the AWS SDK for JavaScript v3, and a CBOR
//! client that sends what the AWS SDK for Java v2 sends (cbor2 + botocore's signer; the Java
//! SDK is not on the registries the test installs from). All pinned and installed by
//! `tests/gateway/setup.sh` into `target/e2e/`, as `tests/gateway_e2e.rs` does.
//!
//! The store is the fixture's, with one statement added for the producer: a Deny of
//! `kinesis:PutRecord` when `aws:SecureTransport` is false. Over TLS the producer writes; the
//! same store behind a cleartext listener refuses it (so the key is true over TLS, and false in
//! the clear). A front gateway with `--sign-upstream` in front of the TLS gateway shows the
//! re-signing works against an https upstream. The certificate is replaced and reloaded with
//! SIGHUP at the end.
//!
//! `IAMC_SKIP_E2E=1` skips it (offline development only; CI does not set it).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const WAIT: Duration = Duration::from_secs(30);

#[path = "common/proc.rs"]
mod proc;
use proc::Proc;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway")
}

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR has a parent")
        .join("e2e")
}

/// The test's CA and the certificates it signs (PEM files in `dir`).
struct Pki {
    ca: rcgen::Certificate,
    ca_key: KeyPair,
    dir: PathBuf,
}

impl Pki {
    fn new(dir: &Path) -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name
            .push(DnType::CommonName, "iamc gateway test CA");
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = p.self_signed(&ca_key).unwrap();
        fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki {
            ca,
            ca_key,
            dir: dir.to_path_buf(),
        }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A server certificate for 127.0.0.1 and localhost: (cert file, key file).
    fn server(&self, name: &str) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let mut p =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.use_authority_key_identifier_extension = true;
        let cert = p.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let (c, k) = (
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}-key.pem")),
        );
        fs::write(&c, cert.pem()).unwrap();
        fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }
}

struct Run {
    dir: PathBuf,
    pki: Pki,
    upstream: String,
}

impl Run {
    fn gateway(&self, name: &str, tls: Option<(&Path, &Path)>, ca: bool) -> (Proc, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamc"));
        cmd.arg("gateway")
            .arg("--store")
            .arg(self.dir.join("store.json"))
            .arg("--credentials")
            .arg(fixtures().join("credentials.json"))
            .arg("--upstream")
            .arg(&self.upstream)
            .arg("--db")
            .arg(self.dir.join(format!("{name}.db")))
            .args(["--account", ACCOUNT, "--listen", "127.0.0.1:0"]);
        if ca {
            cmd.arg("--upstream-ca").arg(self.pki.ca_file());
        }
        if let Some((cert, key)) = tls {
            cmd.arg("--tls-cert").arg(cert).arg("--tls-key").arg(key);
        }
        let (proc, first) = Proc::start(name, cmd, &self.dir.join(format!("{name}.log")));
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{name}'s first line is {first:?}"))
            .trim()
            .to_string();
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("{name} pid {} at {scheme}://{addr}", proc.child.id());
        (proc, format!("{scheme}://{addr}"))
    }

    /// A client command with the test's CA as the only extra trust and no ambient AWS config.
    fn client(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CA_BUNDLE", self.pki.ca_file())
            .env("NODE_EXTRA_CA_CERTS", self.pki.ca_file())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("NO_PROXY", "*");
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
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs a client to its end; it must exit 0.
    fn expect_ok(&self, what: &str, mut cmd: Command, gateway: &Proc) {
        let t = Instant::now();
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        print!("{stdout}");
        assert!(
            out.status.success(),
            "{what} failed ({}):\n{stdout}\n{stderr}\n{}",
            out.status,
            gateway.log_tail()
        );
        println!("   [{what}: {:.1} s]", t.elapsed().as_secs_f64());
    }

    fn scenario(&self, gateway: &str, scenario: &str) -> Command {
        let mut cmd = self.client(e2e_dir().join("venv/bin/python"));
        cmd.arg(fixtures().join("scenarios.py"))
            .arg(scenario)
            .arg("--gateway")
            .arg(gateway)
            .arg("--upstream")
            .arg(&self.upstream)
            .arg("--credentials")
            .arg(fixtures().join("credentials.json"));
        cmd
    }
}

fn run_setup() {
    let status = Command::new("bash")
        .arg(fixtures().join("setup.sh"))
        .arg(e2e_dir())
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "tests/gateway/setup.sh failed ({status}); set IAMC_SKIP_E2E=1 to skip offline"
    );
}

/// The fixture's store with a Deny of the producer's PutRecord outside TLS.
fn store_denying_cleartext(dir: &Path) {
    let text = fs::read_to_string(fixtures().join("store.json")).unwrap();
    let mut store: Value = serde_json::from_str(&text).unwrap();
    store["accounts"][ACCOUNT]["users"]["producer"]["inline"] = json!({
        "DenyCleartext": {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "OnlyOverTls",
                "Effect": "Deny",
                "Action": "kinesis:PutRecord",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        }
    });
    fs::write(dir.join("store.json"), store.to_string()).unwrap();
}

#[test]
fn gateway_tls_with_real_clients() {
    if std::env::var("IAMC_SKIP_E2E").is_ok_and(|v| v == "1") {
        println!("!!!!!!!! IAMC_SKIP_E2E=1: the gateway TLS test (kinesalite, boto3, AWS CLI, JS SDK, CBOR) was SKIPPED !!!!!!!!");
        return;
    }
    run_setup();
    let started = Instant::now();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gateway-tls-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    println!("folder (logs, certificates, db): {}", dir.display());
    store_denying_cleartext(&dir);
    let pki = Pki::new(&dir);

    // kinesalite serving https with a certificate of the test's CA.
    let (up_cert, up_key) = pki.server("kinesalite");
    let mut node = Command::new("node");
    node.arg(fixtures().join("kinesalite.js"))
        .arg(e2e_dir().join("node"))
        .arg("0")
        .arg(&up_key)
        .arg(&up_cert);
    let (kinesalite, first) = Proc::start("kinesalite", node, &dir.join("kinesalite.log"));
    let upstream = first
        .strip_prefix("Listening at ")
        .unwrap_or_else(|| panic!("kinesalite's first line is {first:?}"))
        .trim()
        .to_string();
    assert!(upstream.starts_with("https://127.0.0.1:"), "{upstream}");
    println!("kinesalite pid {} at {upstream}", kinesalite.child.id());
    let run = Run {
        dir: dir.clone(),
        pki,
        upstream,
    };

    let (gw_cert, gw_key) = run.pki.server("gateway");
    let (gw, url) = run.gateway("gateway", Some((&gw_cert, &gw_key)), true);

    // boto3: the seed's scenarios over https both ways.
    for s in ["a", "b", "c", "d"] {
        run.expect_ok(&format!("boto3 scenario {s}"), run.scenario(&url, s), &gw);
    }

    // The CBOR protocol, as the Java SDK v2 sends it.
    let mut cbor = run.client(e2e_dir().join("venv/bin/python"));
    cbor.arg(fixtures().join("cbor_client.py"))
        .arg("--gateway")
        .arg(&url)
        .arg("--upstream")
        .arg(&run.upstream)
        .arg("--credentials")
        .arg(fixtures().join("credentials.json"));
    run.expect_ok("CBOR client", cbor, &gw);

    // The AWS CLI v1 and the AWS SDK for JavaScript v3, each on its own stream.
    let mut cli = run.client(e2e_dir().join("venv/bin/python"));
    cli.arg(fixtures().join("cli_scenario.py"))
        .arg("--gateway")
        .arg(&url)
        .arg("--aws")
        .arg(e2e_dir().join("venv/bin/aws"))
        .arg("--credentials")
        .arg(fixtures().join("credentials.json"));
    run.expect_ok("AWS CLI v1", cli, &gw);
    let mut js = run.client("node");
    js.arg(fixtures().join("js_scenario.js"))
        .arg(e2e_dir().join("node"))
        .arg(&url)
        .arg(fixtures().join("credentials.json"));
    run.expect_ok("AWS SDK for JavaScript v3", js, &gw);

    // --sign-upstream against an https upstream: a front gateway (TLS too) signs what it
    // forwards with the admin's key for the inner gateway's host. Its client's key is one only
    // the front knows, so the inner gateway lets the request through only because the front
    // signed it again, over TLS, validly.
    let mut creds: Value =
        serde_json::from_str(&fs::read_to_string(fixtures().join("credentials.json")).unwrap())
            .unwrap();
    let admin_secret = creds["keys"]["AKIAADMIN00000000001"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let mut front_key = creds["keys"]["AKIAPRODUCER00000001"].clone();
    front_key["secret"] = Value::from("frontOnlySecretKey00000000000000000000001");
    creds["keys"]["AKIAFRONTONLY0000001"] = front_key;
    let front_creds = dir.join("front-credentials.json");
    fs::write(&front_creds, creds.to_string()).unwrap();
    let (front_cert, front_key) = run.pki.server("front");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamc"));
    cmd.arg("gateway")
        .arg("--store")
        .arg(dir.join("store.json"))
        .arg("--credentials")
        .arg(&front_creds)
        .arg("--upstream")
        .arg(&url)
        .arg("--upstream-ca")
        .arg(run.pki.ca_file())
        .arg("--db")
        .arg(dir.join("front.db"))
        .args(["--account", ACCOUNT, "--upstream-account", ACCOUNT])
        .args(["--listen", "127.0.0.1:0", "--sign-upstream"])
        .arg("--tls-cert")
        .arg(&front_cert)
        .arg("--tls-key")
        .arg(&front_key)
        .env("AWS_ACCESS_KEY_ID", "AKIAADMIN00000000001")
        .env("AWS_SECRET_ACCESS_KEY", &admin_secret)
        .env_remove("AWS_SESSION_TOKEN");
    let (front, first) = Proc::start("front gateway", cmd, &dir.join("front.log"));
    let front_url = format!(
        "https://{}",
        first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the front gateway's first line is {first:?}"))
            .trim()
    );
    let mut signed = run.scenario(&front_url, "signed-upstream");
    // The last --credentials wins: the front gateway's file.
    signed.arg("--credentials").arg(&front_creds);
    run.expect_ok(
        "boto3 through a re-signing gateway over https",
        signed,
        &front,
    );
    drop(front);

    // The same store behind a cleartext listener: aws:SecureTransport is false there, so the
    // producer's PutRecord meets the Deny. Without --upstream-ca the https upstream is not
    // trusted: an allowed call gets 503, nothing is forwarded unverified.
    let (plain, plain_url) = run.gateway("cleartext", None, false);
    run.expect_ok(
        "boto3 over cleartext, upstream not trusted",
        run.scenario(&plain_url, "cleartext-untrusted"),
        &plain,
    );

    // A new certificate (another CA's name on it) is served after SIGHUP.
    let (new_cert, new_key) = run.pki.server("gateway-renewed");
    fs::copy(&new_cert, &gw_cert).unwrap();
    fs::copy(&new_key, &gw_key).unwrap();
    let ok = Command::new("kill")
        .args(["-HUP", &gw.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let end = Instant::now() + WAIT;
    while !fs::read_to_string(dir.join("gateway.log"))
        .unwrap_or_default()
        .contains("TLS certificate reloaded")
    {
        assert!(Instant::now() < end, "no reload\n{}", gw.log_tail());
        std::thread::sleep(Duration::from_millis(50));
    }
    run.expect_ok(
        "boto3 after the certificate reload",
        run.scenario(&url, "renewed-certificate"),
        &gw,
    );
    drop(plain);
    drop(gw);
    drop(kinesalite);
    println!(
        "gateway TLS: all clients passed in {:.1} s (after setup)",
        started.elapsed().as_secs_f64()
    );
    let _ = fs::remove_dir_all(&dir);
}
