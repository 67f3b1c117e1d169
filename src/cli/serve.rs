//! `iamc serve`: the HTTP decision server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::parse::json::walk::ReadError;
use crate::server::{Config, Event, Limits, LogConfig, Mapping, Server, Writes};

/// Why a small file could not be read, without quoting it.
fn read_error(e: &ReadError) -> String {
    match e {
        ReadError::Io(e) => e.to_string(),
        ReadError::NotAFile => "it is not a file".into(),
        ReadError::TooBig(_) => "it is larger than 64 KiB".into(),
        ReadError::NotUtf8(_) => "it is not UTF-8 text".into(),
    }
}

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
/// Store writes (PUT /v1/store) are off unless the server is started with
/// --admin-token-file FILE (clients send `Authorization: Bearer <token>`) or, on a trusted
/// network only, --allow-unauthenticated-writes; without either, PUT answers 403
/// writes_disabled. An uploaded store may carry only inline documents unless
/// --allow-store-file-refs lets it refer to files inside the store's folder. (A `file`
/// reference in any store must stay inside the store's folder.)
///
/// Requests get aws:CurrentTime and aws:EpochTime from the server's clock unless they give
/// them (then the request's values are used).
///
/// Batches in flight share a memory budget (--max-batch-memory, 256 MiB): each is charged 8
/// times its body size, and one that does not fit is answered 503 overloaded with
/// Retry-After.
///
/// The first store is loaded and compiled before the server says it listens: the first line
/// on standard output is then `listening on ADDRESS`, and standard error says which write
/// mode is in force; reloads and refusals are reported on standard error. SIGINT or SIGTERM
/// stop the server gracefully (exit 0). Exit 1: the server could not start (the address is
/// taken, the first store is invalid (its findings are on standard error), a bad mapping or
/// token file). Exit 2: bad arguments (an unknown flag, a bad --request-timeout).
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
    /// Estimated memory the batches in flight may use, in bytes; 0: no bound. Each batch is
    /// charged 8 times its body size (parsed requests, decisions, answer) before its body is
    /// read; one that does not fit is answered 503 overloaded with Retry-After: 1. One batch
    /// alone always fits.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024 * 1024)]
    max_batch_memory: usize,
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
    /// Take store writes (PUT /v1/store) from clients that present the token in this file as
    /// `Authorization: Bearer <token>` (compared in constant time). Without this flag or
    /// --allow-unauthenticated-writes, writes are refused (403 writes_disabled).
    #[arg(long, value_name = "FILE", alias = "store-token-file")]
    admin_token_file: Option<PathBuf>,
    /// Take store writes (PUT /v1/store) from anyone who can reach the port, with no token.
    /// Only for a server on a trusted network (or loopback).
    #[arg(long, conflicts_with = "admin_token_file")]
    allow_unauthenticated_writes: bool,
    /// Let a store sent to PUT /v1/store refer to policy files ({"file": ...}), read from the
    /// folder of --store and only inside it. Without it, an uploaded store may carry only
    /// inline documents.
    #[arg(long)]
    allow_store_file_refs: bool,
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
        max_batch_memory: args.max_batch_memory,
        ..Limits::default()
    };
    c.reload_on_sighup = true;
    c.decision_log = args.decision_log.as_ref().map(|p| LogConfig {
        max_bytes: args.decision_log_max_bytes,
        keep: args.decision_log_keep,
        ..LogConfig::new(p.clone())
    });
    if let Some(p) = &args.envoy_mapping {
        c.envoy = Some(Mapping::load(p).map_err(|e| e.to_string())?);
    }
    if let Some(p) = &args.admin_token_file {
        // Bounded, and never quoted in an error.
        let t = crate::parse::json::walk::read_bounded(p, 64 * 1024).map_err(|e| {
            format!(
                "--admin-token-file {}: cannot read the token: {}",
                p.display(),
                read_error(&e)
            )
        })?;
        let t = t.trim().to_string();
        if t.is_empty() {
            return Err(format!("--admin-token-file {}: the token is empty", p.display()).into());
        }
        c.writes = Writes::Token(t);
    } else if args.allow_unauthenticated_writes {
        c.writes = Writes::Unauthenticated;
    }
    c.upload_file_refs = args.allow_store_file_refs;
    c.on_event = Some(Arc::new(report));
    Ok(c)
}

/// Reports loads and refusals on standard error.
fn report(e: &Event<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = match e {
        Event::Loaded(l) => {
            let store = l.authorizer.store();
            let _ = writeln!(
                err,
                "iamc serve: store version {} live ({}; {}; {} policies, {} statements; built in {:.1} ms)",
                l.version,
                l.trigger.as_str(),
                l.digest,
                store.stats().policies,
                store.stats().statements,
                l.build_time.as_secs_f64() * 1e3
            );
            // A store that goes live may still have findings that are not errors (warnings,
            // security warnings, suggestions), as `iamc check` shows them.
            let found = store.warnings();
            if found.is_empty() {
                Ok(())
            } else {
                let _ = writeln!(
                    err,
                    "iamc serve: the live store has {} warning(s):",
                    found.len()
                );
                writeln!(err, "{}", crate::diag::Listed(found))
            }
        }
        Event::Refused { trigger, findings } => {
            let after = if *trigger == crate::server::Trigger::Startup {
                "the server does not start"
            } else {
                "the live store (if any) keeps serving"
            };
            let _ = writeln!(
                err,
                "iamc serve: store refused ({}): {} findings; {after}",
                trigger.as_str(),
                findings.len()
            );
            if findings.is_empty() {
                Ok(())
            } else {
                writeln!(err, "{}", crate::diag::Listed(findings))
            }
        }
        Event::Error(m) => writeln!(err, "iamc serve: {m}"),
    };
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    super::run_server(args.threads, config(&args), serve)
}

async fn serve(config: Config) -> ExitCode {
    let modes = format!(
        "iamc serve: {}; {}",
        config.writes.describe(),
        if config.upload_file_refs {
            "uploaded stores may refer to files inside the store's folder (--allow-store-file-refs)"
        } else {
            "uploaded stores may carry only inline documents"
        }
    );
    let server = match Server::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    // The first store must compile before the server says it listens: an invalid one stops
    // the start (exit 1, its findings on standard error) rather than leaving a server that
    // answers 503 to everything. (Health checks that come meanwhile get 503 `starting`.)
    if let Err(n) = server.ready().await {
        eprintln!(
            "error: the store {} is invalid ({n} findings above); not starting",
            server_store(&server)
        );
        server.shutdown().await;
        return ExitCode::from(1);
    }
    super::announce(server.local_addr());
    eprintln!("{modes}");
    stop_signal().await;
    eprintln!("iamc serve: stopping");
    server.shutdown().await;
    ExitCode::SUCCESS
}

fn server_store(server: &Server) -> String {
    server.store_path().display().to_string()
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
