//! `iamc serve`: the HTTP decision server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::server::{Config, Event, Limits, LogConfig, Mapping, Server};

/// Serve decisions over HTTP/1.1 and cleartext HTTP/2, for gateways and sidecars.
///
///   iamc serve --store examples/kinesis/store.json
///   curl -s localhost:8181/v1/authorize -d '{"principal": "arn:aws:iam::111122223333:user/alice",
///     "action": "kinesis:GetRecords", "resource": "arn:aws:kinesis:us-east-1:111122223333:stream/stream1"}'
///
/// Routes: POST /v1/authorize (?explain=true), POST /v1/authorize/batch, GET /v1/health,
/// GET /metrics (Prometheus), GET and PUT /v1/store, and with --envoy-mapping Envoy's
/// ext_authz (HTTP mode) under /v1/envoy/ext_authz/.
///
/// The store is reloaded without dropping a request on SIGHUP, when its files change (polled
/// every --watch-interval seconds), and by PUT /v1/store; a store that fails validation is
/// refused and the old one keeps serving.
///
/// The first line on standard output is `listening on ADDRESS`; reloads and refusals are
/// reported on standard error. SIGINT or SIGTERM stop the server gracefully (exit 0). Exit 1:
/// the server could not start (the address is taken, the first store is invalid, a bad
/// mapping file). Exit 2: bad arguments (an unknown flag, a bad --request-timeout).
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Serve decisions over HTTP/1.1 and HTTP/2, for gateways."
)]
pub struct Args {
    /// The policy store: a store JSON file, or a folder with store.json.
    #[arg(long, value_name = "STORE")]
    store: PathBuf,
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// Seconds between polls of the store's files for changes; 0 turns polling off.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    watch_interval: f64,
    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body: usize,
    /// Largest store body for PUT /v1/store, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::store::MAX_STORE_BYTES)]
    max_store_body: usize,
    /// Most requests in one batch call.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_batch: usize,
    /// Seconds a request may take, from its headers to the answer.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    request_timeout: f64,
    /// Most connections open at once; past it the server waits for one to close.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    max_connections: usize,
    /// Append every decision to this JSON Lines file (off the request path).
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Rotate the decision log before it grows past this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 100 * 1024 * 1024)]
    decision_log_max_bytes: u64,
    /// Rotated decision logs kept (FILE.1 is the newest).
    #[arg(long, value_name = "N", default_value_t = 5)]
    decision_log_keep: usize,
    /// Serve Envoy ext_authz (HTTP mode) under /v1/envoy/ext_authz/, reading the principal,
    /// action and resource from the forwarded request as this mapping file says.
    #[arg(long, value_name = "FILE")]
    envoy_mapping: Option<PathBuf>,
    /// A file holding a token that PUT /v1/store must present as `Authorization: Bearer`.
    #[arg(long, value_name = "FILE")]
    store_token_file: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

fn seconds(name: &str, v: f64) -> Result<Duration, String> {
    if v.is_finite() && (0.0..=1e9).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("--{name} {v}: expected a number of seconds"))
    }
}

fn config(args: &Args) -> Result<Config, super::ConfigError> {
    use super::ConfigError::Usage;
    let mut c = Config::new(args.store.clone());
    c.listen = args.listen;
    let watch = seconds("watch-interval", args.watch_interval).map_err(Usage)?;
    c.watch_interval = (!watch.is_zero()).then_some(watch);
    let timeout = seconds("request-timeout", args.request_timeout).map_err(Usage)?;
    if timeout.is_zero() {
        return Err(Usage("--request-timeout must be more than 0".into()));
    }
    c.limits = Limits {
        max_body_bytes: args.max_body,
        max_store_bytes: args.max_store_body,
        max_batch: args.max_batch,
        request_timeout: timeout,
        max_connections: args.max_connections.max(1),
        ..Limits::default()
    };
    c.reload_on_sighup = true;
    c.decision_log = args.decision_log.as_ref().map(|p| LogConfig {
        max_bytes: args.decision_log_max_bytes,
        keep: args.decision_log_keep,
        ..LogConfig::new(p.clone())
    });
    if let Some(p) = &args.envoy_mapping {
        c.envoy = Some(Mapping::load(p)?);
    }
    if let Some(p) = &args.store_token_file {
        let t =
            std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
        let t = t.trim().to_string();
        if t.is_empty() {
            return Err(format!("{}: the token is empty", p.display()).into());
        }
        c.store_token = Some(t);
    }
    c.on_event = Some(Arc::new(report));
    Ok(c)
}

/// Reports loads and refusals on standard error.
fn report(e: &Event<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = match e {
        Event::Loaded(l) => writeln!(
            err,
            "iamc serve: store version {} live ({}; {}; {} policies, {} statements; built in {:.1} ms)",
            l.version,
            l.trigger.as_str(),
            l.digest,
            l.store.stats().policies,
            l.store.stats().statements,
            l.build_time.as_secs_f64() * 1e3
        ),
        Event::Refused { trigger, findings } => {
            let _ = writeln!(
                err,
                "iamc serve: store refused ({}): {} findings; the live store (if any) keeps serving",
                trigger.as_str(),
                findings.len()
            );
            for f in findings.iter().take(20) {
                let _ = writeln!(err, "  {f}");
            }
            Ok(())
        }
        Event::Error(m) => writeln!(err, "iamc serve: {m}"),
    };
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    super::run_server(args.threads, config(&args), serve)
}

async fn serve(config: Config) -> ExitCode {
    let server = match Server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    super::announce(server.local_addr());
    if server.ready().await.is_err() {
        eprintln!("error: the store is invalid; not serving");
        server.shutdown().await;
        return ExitCode::from(1);
    }
    stop_signal().await;
    eprintln!("iamc serve: stopping");
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// SIGINT, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
