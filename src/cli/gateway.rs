//! `iamc gateway`: the authorizing Kinesis proxy.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::gateway::{Config, Gateway};

/// Put IAM authorization in front of a Kinesis Data Streams endpoint: identity policies, stream
/// and consumer resource policies, cross-account sharing, for clients that change only their
/// endpoint URL.
///
///   iamc gateway --store tests/gateway/store.json \
///     --credentials tests/gateway/credentials.json \
///     --upstream http://127.0.0.1:4567 --db gateway.sqlite --account 111122223333
///   aws kinesis put-record --endpoint-url http://127.0.0.1:4568 --stream-name orders ...
///
/// Requests are verified with AWS Signature Version 4 against --credentials (unsigned requests
/// are anonymous), mapped to their IAM actions and resources, decided by the compiled engine
/// over --store and the resource policies in --db, and forwarded to --upstream when allowed.
/// A denied request gets HTTP 400 AccessDeniedException naming the principal, the action, the
/// resource and the reason. PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy are
/// served by the gateway: refused with ResourceNotFoundException when the upstream does not
/// have the stream or consumer, checked with Kinesis's resource-policy rules, written to the
/// SQLite database --db before they are acknowledged, effective for the next request.
///
/// ARNs of --account are rewritten to --upstream-account (kinesalite's 000000000000) on the
/// way up and back on the way down. The client's signature is passed through (kinesalite does
/// not check it); with --sign-upstream the gateway signs forwarded requests, and its own
/// existence checks, itself. In front of real Kinesis use --sign-upstream, e.g.
/// --upstream https://kinesis.us-east-1.amazonaws.com --sign-upstream.
///
/// TLS: an https:// --upstream is checked against the platform's roots and --upstream-ca.
/// With --tls-cert and --tls-key the gateway listens with TLS (HTTP/2 and HTTP/1.1 by ALPN;
/// aws:SecureTransport is true for its requests); SIGHUP reloads the certificate too. The JSON
/// (application/x-amz-json-1.1) and CBOR (application/x-amz-cbor-1.1) protocols are spoken.
/// GET /-/status reports the store version, the database revision and counters.
///
/// A fleet of gateways behind a load balancer shares its state in etcd: --state
/// etcd://HOST:PORT[,HOST:PORT...][/PREFIX] instead of --db. A write is acknowledged once etcd
/// committed it and this gateway applied it; every gateway watches etcd and applies each
/// change. Shard iterators are sealed with a key the fleet shares (kept in etcd, or
/// --iterator-key FILE), so any gateway takes an iterator another one handed out. Without
/// etcd, writes get HTTP 503 ServiceUnavailable (retryable) and decisions use the last applied
/// state for --max-staleness seconds, then fail closed with HTTP 503 until etcd is back.
///
/// The first line on standard output is `listening on ADDRESS`. SIGHUP reloads the store and
/// the credentials file (a file that fails validation is refused and the old one keeps
/// serving). SIGINT or SIGTERM stop the gateway gracefully (exit 0). Exit 1: it could not
/// start (a bad store, credentials file or database, the address is taken, --sign-upstream
/// without credentials). Exit 2: bad arguments (an unknown flag, a bad --account or
/// --upstream).
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Authorize Kinesis API requests in front of a Kinesis endpoint."
)]
pub struct Args {
    /// The policy store: a store JSON file, or a folder with store.json.
    #[arg(long, value_name = "STORE")]
    store: PathBuf,
    /// The credentials file: access key id -> secret, principal, tags, session policy.
    #[arg(long, value_name = "FILE")]
    credentials: PathBuf,
    /// The Kinesis endpoint to forward allowed requests to, e.g. http://127.0.0.1:4567 or
    /// https://kinesis.us-east-1.amazonaws.com (checked against the platform's roots and
    /// --upstream-ca).
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// A PEM file of CA certificates to trust for an https:// --upstream, beside the
    /// platform's roots (a private CA; a test's own).
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// Serve TLS with this certificate chain (PEM, the leaf first): HTTP/2 and HTTP/1.1 by
    /// ALPN, and requests carry aws:SecureTransport = true. Needs --tls-key. SIGHUP reads the
    /// certificate and key again.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The SQLite database of resource policies and mirrored tags (created if missing); the
    /// same as --state sqlite:FILE.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "state",
        conflicts_with = "state"
    )]
    db: Option<PathBuf>,
    /// The account that owns the streams behind the gateway.
    #[arg(long, value_name = "ACCOUNT")]
    account: String,
    /// The region of the streams behind the gateway (signatures must be scoped to it).
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    region: String,
    /// The account id the upstream uses in its ARNs.
    #[arg(long, value_name = "ACCOUNT", default_value = "000000000000")]
    upstream_account: String,
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4568")]
    listen: SocketAddr,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    max_body: usize,
    /// How far (in seconds) a request's X-Amz-Date may be from this clock.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    max_skew: u64,
    /// Seconds the upstream may take to answer.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    upstream_timeout: u64,
    /// Sign forwarded requests with the credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
    /// (and AWS_SESSION_TOKEN), as a real Kinesis endpoint needs, instead of passing the
    /// client's signature through.
    #[arg(long)]
    sign_upstream: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Where resource policies, mirrored tags and the shard-iterator key live: sqlite:PATH
    /// (one gateway), or etcd://HOST:PORT[,HOST:PORT...][/PREFIX] for a fleet of gateways
    /// sharing one etcd cluster (default prefix /iamc/gateway/).
    #[arg(long, value_name = "URL")]
    state: Option<String>,
    /// With --state etcd://: seconds decisions may use the last applied state when etcd cannot
    /// confirm it is current; past it, requests fail closed with HTTP 503 ServiceUnavailable
    /// until etcd is back.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    max_staleness: u64,
    /// The key (at least 32 bytes) that seals the shard iterators handed to clients; every
    /// gateway of a fleet needs the same. Default: stored in etcd, or in DB.iterator-key
    /// beside the SQLite database (made when missing).
    #[arg(long, value_name = "FILE")]
    iterator_key: Option<PathBuf>,
}

fn account_id(flag: &str, v: &str) -> Result<String, String> {
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(v.to_string())
    } else {
        Err(format!("--{flag} `{v}`: an account id is 12 digits"))
    }
}

fn config(args: &Args) -> Result<Config, super::ConfigError> {
    use super::ConfigError::Usage;
    let upstream: hyper::Uri = args
        .upstream
        .parse()
        .map_err(|e| Usage(format!("--upstream `{}`: {e}", args.upstream)))?;
    if !matches!(upstream.scheme_str(), Some("http" | "https")) || upstream.host().is_none() {
        return Err(Usage(format!(
            "--upstream `{}`: expected http://HOST:PORT or https://HOST[:PORT]",
            args.upstream
        )));
    }
    let mut c = Config::new(
        args.store.clone(),
        args.credentials.clone(),
        args.db.clone().unwrap_or_default(),
        upstream,
        account_id("account", &args.account).map_err(Usage)?,
    );
    c.upstream_ca = args.upstream_ca.clone();
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        c.tls = Some(crate::gateway::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    c.upstream_account = account_id("upstream-account", &args.upstream_account).map_err(Usage)?;
    if args.region.is_empty()
        || !args
            .region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Usage(format!(
            "--region `{}`: expected a region such as us-east-1",
            args.region
        )));
    }
    c.place.region = args.region.clone();
    c.listen = args.listen;
    c.reload_on_sighup = true;
    c.max_body_bytes = args.max_body.max(1);
    c.max_skew = Duration::from_secs(args.max_skew);
    c.upstream_timeout = Duration::from_secs(args.upstream_timeout.max(1));
    if let Some(url) = &args.state {
        let url = crate::gateway::StateUrl::parse(url).map_err(Usage)?;
        if let crate::gateway::StateUrl::Sqlite(path) = &url {
            c.db = path.clone();
        }
        c.state = Some(url);
    }
    c.max_staleness = Duration::from_secs(args.max_staleness);
    c.iterator_key = args.iterator_key.clone();
    if args.sign_upstream {
        c.upstream_signer = Some(
            crate::gateway::upstream_sign::UpstreamSigner::from_env().map_err(|e| e.to_string())?,
        );
    }
    Ok(c)
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    super::run_server(args.threads, config(&args), serve)
}

async fn serve(config: Config) -> ExitCode {
    let gateway = match Gateway::start(config).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    super::announce(gateway.local_addr());
    eprintln!(
        "iamc gateway: store version {} live",
        gateway.store_version()
    );
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        // SIGHUP reloads inside the gateway (Config::reload_on_sighup).
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            eprintln!("error: cannot install signal handlers");
            gateway.shutdown().await;
            return ExitCode::from(1);
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    eprintln!("iamc gateway: stopping");
    gateway.shutdown().await;
    ExitCode::SUCCESS
}
