//! The HTTP decision server (feature `server`), as `iamc serve` runs it: gateways and sidecars
//! that cannot link the library ask it for decisions over HTTP, as they ask OPA.
//!
//! One port serves HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as gRPC-style clients and
//! Envoy speak it), served by the HTTP runtime the gateway shares. The live store and its
//! compiled engine sit behind an `ArcSwapOption`: a reload loads and validates the new store,
//! compiles it aside, and swaps the whole [`Live`] in at once, so a request is decided entirely
//! by the old engine or entirely by the new one, and none is dropped.
//!
//! # API (version 1)
//!
//! | Route | Answer |
//! | --- | --- |
//! | `POST /v1/authorize` | Body: one request, as a line of `iamc authorize --requests` (`{"id", "principal", "action", "resource", "extra_resources", "context"}`). 200 with its decision, the JSON of `iamc authorize --format json` (the `id` echoed). `?explain=true` adds `explain`. |
//! | `POST /v1/authorize/batch` | Body: `{"requests": [request, …]}` (or a bare array). 200 with `{"decisions": [...]}` in request order, each with its `id`. An item that is not a valid request gets `{"index", "id", "error": {"code": "invalid_request", "message"}}` in its place; the others are decided. At most [`Limits::max_batch`] requests; batches in flight share [`Limits::max_batch_memory`] (503 `overloaded` with `Retry-After` past it). |
//! | `GET /v1/health` | 200 `{"status": "ready", "store_version", "loaded_at"}` once a store has compiled; before that 503 with `status` `starting` (or `failed` when the first store was refused; `iamc serve` then exits instead). |
//! | `GET /metrics` | Prometheus text: `iamc_decisions_total{outcome}`, `iamc_request_duration_seconds{route}` (histogram), `iamc_batch_size` (histogram), `iamc_reloads_total{trigger,result}`, `iamc_errors_total{code}`, `iamc_http_requests_total{route,status}`, `iamc_batch_memory_bytes` (and its limit), the live store's version, load time and size, and the decision log's counters. |
//! | `GET /v1/store` | The live store: `version`, `loaded_at` (RFC 3339), `loaded_at_unix`, `trigger`, `source` (`file` or `api`), `path`, `digest`, `build_ms`, `store` and `engine` sizes, `warnings`. |
//! | `PUT /v1/store` | Body: a store's JSON text (the single-file form). Only as [`Config::writes`] allows: 403 `writes_disabled` by default, 401 `unauthorized` without the token. Validated and compiled aside, then swapped in: 200 with the new `GET /v1/store` answer. A store that fails validation is refused with 422 `store_invalid` and its `findings`; the old store keeps serving. |
//! | `* /v1/envoy/ext_authz/…` | Envoy `ext_authz` (HTTP mode): see [`envoy`]. 200 allowed, 403 denied. |
//!
//! Decision responses carry the header `iamc-store-version`: the version that decided.
//!
//! **Errors** are `{"error": {"code", "message"}}` with a stable code; see [`ErrorCode`] for
//! the codes and their statuses (400 `invalid_json`, `invalid_request`, `body_unreadable`;
//! 401 `unauthorized`; 403 `unmappable`, `writes_disabled`; 404 `not_found`; 405 `method_not_allowed`; 413
//! `body_too_large`, `batch_too_large`; 422 `store_invalid`; 500 `internal`; 503 `not_ready`,
//! `timeout`, `overloaded`).
//!
//! **Bounds** ([`Limits`]): the body of a request ([`Limits::max_body_bytes`]) and of a store
//! upload ([`Limits::max_store_bytes`]); the requests per batch; the time to answer
//! ([`Limits::request_timeout`]; compiling an uploaded store is not cut short); the time to
//! send HTTP/1 request headers, which also closes idle keep-alive connections
//! ([`Limits::header_timeout`]); and the connections open at once
//! ([`Limits::max_connections`]).
//!
//! # Reloads
//!
//! A store is reloaded from its files on `SIGHUP` ([`Config::reload_on_sighup`]) and when the
//! store file or a file it refers to changes: every [`Config::watch_interval`], the server
//! compares their modification times and sizes (a bounded poll; no watcher threads). `PUT
//! /v1/store` installs a store sent over HTTP, which may carry only inline documents unless
//! [`Config::upload_file_refs`] lets its `file` references be read relative to (and only
//! inside) the folder of the store the server was started with; it serves until the next
//! reload from the files (a `SIGHUP`, or a change of the files). Reloads run one at a time. Each is counted
//! in `iamc_reloads_total`, and each swap makes a new version (1, 2, …).
//!
//! # Decision log
//!
//! With [`Config::decision_log`], every decision is appended as one JSON line — `time`,
//! `route`, `store_version`, `latency_us`, `request`, `decision` (with its determining
//! statements) — by a writer thread, off the request path, and the file is rotated by size; see
//! [`LogConfig`].

mod budget;
pub mod envoy;
mod error;
pub(crate) mod http;
mod live;
mod log;
mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

pub use envoy::{Mapping, MappingError};
pub use error::{ApiError, ErrorCode};
pub use live::{Live, Trigger};
pub use log::LogConfig;

use crate::diag::Diagnostic;
use crate::eval::Decision;
use crate::request::Request;
use crate::runtime::signal::{tick_or_never, ticker, Sighup};
use crate::runtime::{ConnLimits, Engine, Plain, Running};
use crate::semantics::Semantics;
use live::Fingerprint;
use metrics::Metrics;

/// The JSON of a decision, as `iamc authorize --format json` writes it: the [`Decision`]'s
/// fields, then `principal`, `action`, `resource`, and on an implicit deny `reason`.
pub fn decision_json(d: &Decision, req: &Request) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("principal".into(), json!(req.caller.to_string()));
        m.insert("action".into(), json!(req.action));
        m.insert("resource".into(), json!(req.resource));
        if let Some(l) = d.blocked_by {
            m.insert("reason".into(), json!(l.reason()));
        }
    }
    v
}

/// Bounds on what one request may cost.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest body of an authorize or batch request (default 4 MiB).
    pub max_body_bytes: usize,
    /// Largest store uploaded by `PUT /v1/store` (default 64 MiB, the store's own bound).
    pub max_store_bytes: usize,
    /// Most requests in one batch call (default 10,000).
    pub max_batch: usize,
    /// Longest time to read a request and answer it (default 10 s).
    pub request_timeout: Duration,
    /// Longest time for a client to send an HTTP/1 request's headers, counted from the end of
    /// the previous request on a keep-alive connection, so it also closes idle connections;
    /// and for a new connection to show which HTTP it speaks, so a connection that sends
    /// nothing is closed too (default 10 s).
    pub header_timeout: Duration,
    /// On shutdown, how long open requests get to finish (default 5 s).
    pub shutdown_grace: Duration,
    /// Most connections open at once; past it the server stops accepting until one closes
    /// (default 4,096).
    pub max_connections: usize,
    /// Estimated memory the batches in flight may use, in bytes (default 256 MiB; 0: no
    /// bound). Each batch is charged 8 times its body size before its body is read; one that
    /// does not fit is answered 503 `overloaded` with `Retry-After` (one batch alone always
    /// fits).
    pub max_batch_memory: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            max_store_bytes: crate::store::MAX_STORE_BYTES,
            max_batch: 10_000,
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
            max_connections: 4096,
            max_batch_memory: 256 * 1024 * 1024,
        }
    }
}

/// Something an operator wants to hear about.
#[derive(Debug)]
pub enum Event<'a> {
    /// A store was swapped in.
    Loaded(&'a Live),
    /// A store was refused; the old one (if any) keeps serving.
    Refused {
        /// What asked for the load.
        trigger: Trigger,
        /// Why.
        findings: &'a [Diagnostic],
    },
    /// Something went wrong outside a request (a signal handler, an accept error).
    Error(String),
}

/// A callback for [`Event`]s.
pub type EventFn = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// How to run a server.
#[derive(Clone)]
pub struct Config {
    /// The store: a store JSON file, or a folder holding `store.json`.
    pub store: PathBuf,
    /// Where to listen (`127.0.0.1:0` picks a free port; see [`Server::local_addr`]).
    pub listen: SocketAddr,
    /// Bounds.
    pub limits: Limits,
    /// How often to compare the store's files with what was loaded; `None`: never.
    pub watch_interval: Option<Duration>,
    /// Reload the store from its files on `SIGHUP` (Unix).
    pub reload_on_sighup: bool,
    /// The decision log, if any.
    pub decision_log: Option<LogConfig>,
    /// The Envoy `ext_authz` mapping; without one, the endpoint answers 404.
    pub envoy: Option<Mapping>,
    /// Who may change the store (`PUT /v1/store`); by default no one.
    pub writes: Writes,
    /// Whether a store sent to `PUT /v1/store` may have `file` references (read inside the
    /// folder of [`Config::store`]); by default it may carry only inline documents.
    pub upload_file_refs: bool,
    /// How to decide.
    pub semantics: Semantics,
    /// Called on loads, refusals and errors.
    pub on_event: Option<EventFn>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("store", &self.store)
            .field("listen", &self.listen)
            .field("limits", &self.limits)
            .field("watch_interval", &self.watch_interval)
            .field("reload_on_sighup", &self.reload_on_sighup)
            .field("decision_log", &self.decision_log)
            .field("envoy", &self.envoy.is_some())
            .field("writes", &self.writes)
            .field("upload_file_refs", &self.upload_file_refs)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Serves `store` on 127.0.0.1:8181 with the default bounds, polling the store's files every
    /// 2 seconds; no SIGHUP handler, decision log or Envoy mapping, and no store writes.
    pub fn new(store: impl Into<PathBuf>) -> Config {
        Config {
            store: store.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8181)),
            limits: Limits::default(),
            watch_interval: Some(Duration::from_secs(2)),
            reload_on_sighup: false,
            decision_log: None,
            envoy: None,
            writes: Writes::Refused,
            upload_file_refs: false,
            semantics: Semantics::default(),
            on_event: None,
        }
    }
}

/// Who may use the routes that change the server's state (`PUT /v1/store`).
#[derive(Clone, Default)]
pub enum Writes {
    /// No one: writes are answered 403 `writes_disabled` (the default).
    #[default]
    Refused,
    /// A client that sends `Authorization: Bearer <token>` with this token (compared in
    /// constant time); others are answered 401 `unauthorized`.
    Token(String),
    /// Anyone who can reach the port.
    Unauthenticated,
}

impl Writes {
    /// One line for the start-up log: which mode is in force.
    pub fn describe(&self) -> &'static str {
        match self {
            Writes::Refused => "store writes (PUT /v1/store) are disabled",
            Writes::Token(_) => "store writes (PUT /v1/store) need the admin bearer token",
            Writes::Unauthenticated => {
                "store writes (PUT /v1/store) are open to anyone who can reach the port (unauthenticated)"
            }
        }
    }
}

impl std::fmt::Debug for Writes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Writes::Refused => "Refused",
            Writes::Token(_) => "Token(…)",
            Writes::Unauthenticated => "Unauthenticated",
        })
    }
}

/// Why a server could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Why a reload did not swap a new store in.
#[derive(Debug)]
pub enum ReloadError {
    /// The store failed validation: its findings. The old store keeps serving.
    Invalid(Vec<Diagnostic>),
    /// Loading or compiling failed in an unexpected way (a bug).
    Internal(String),
}

/// Where the first load stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Init {
    Starting,
    Ready,
    /// Refused, with this many findings.
    Failed(usize),
}

pub(crate) struct ReloadState {
    next_version: u64,
    /// The fingerprint of the files at the last load from disk.
    fingerprint: Option<Fingerprint>,
}

/// Everything the handlers share.
pub(crate) struct State {
    /// The live store (none until the first has compiled); its update lock is held by a
    /// reload from start to end.
    pub(crate) live: Engine<Option<Arc<Live>>, ReloadState>,
    pub(crate) config: Config,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) log: Option<log::DecisionLog>,
    pub(crate) envoy: Option<Mapping>,
    pub(crate) init: watch::Sender<Init>,
    /// The memory budget of batches in flight.
    pub(crate) batch_budget: Arc<budget::Budget>,
}

impl State {
    fn event(&self, e: &Event<'_>) {
        if let Some(f) = &self.config.on_event {
            f(e);
        }
    }
}

/// Loads the store from its files (`text: None`) or from uploaded text, compiles it aside and
/// swaps it in. One reload runs at a time.
pub(crate) async fn reload(
    state: &Arc<State>,
    trigger: Trigger,
    text: Option<String>,
) -> Result<Arc<Live>, ReloadError> {
    let mut guard = state.live.lock().await;
    let path = state.config.store.clone();
    let sem = state.config.semantics.clone();
    let file_refs = state.config.upload_file_refs;
    let from_disk = text.is_none();
    // The new engine reuses every compiled set of the live one whose policies are unchanged.
    let previous = state.live.load_full().map(|l| l.authorizer.clone());
    let job = tokio::task::spawn_blocking(move || {
        let previous = previous.as_ref();
        match text {
            None => {
                // Fingerprint first: a change made while loading shows at the next poll.
                let fp = live::fingerprint(&path);
                (Some(fp), live::build_from_path(&path, &sem, previous))
            }
            Some(t) => (
                None,
                live::build_from_text(&t, &live::base_dir(&path), file_refs, &sem, previous),
            ),
        }
    })
    .await;
    let (fp, built) = match job {
        Ok(r) => r,
        Err(e) => {
            state.metrics.reload(trigger, false);
            let msg = format!("loading the store failed: {e}");
            state.event(&Event::Error(msg.clone()));
            return Err(ReloadError::Internal(msg));
        }
    };
    if fp.is_some() {
        guard.fingerprint = fp;
    }
    match built {
        Ok(b) => {
            let live = Arc::new(Live {
                authorizer: b.authorizer,
                version: guard.next_version,
                loaded_at: std::time::SystemTime::now(),
                trigger,
                path: from_disk.then(|| state.config.store.clone()),
                digest: b.digest,
                build_time: b.build_time,
            });
            guard.next_version += 1;
            // Counted before it is published: a client that sees the new store (or readiness)
            // and then reads /metrics sees its reload counted (a race a test hit under load).
            state.metrics.reload(trigger, true);
            guard.publish(Some(Arc::clone(&live)));
            state.init.send_replace(Init::Ready);
            state.event(&Event::Loaded(&live));
            Ok(live)
        }
        Err(findings) => {
            state.metrics.reload(trigger, false);
            if state.live.load().is_none() {
                state.init.send_replace(Init::Failed(findings.len()));
            }
            state.event(&Event::Refused {
                trigger,
                findings: &findings,
            });
            Err(ReloadError::Invalid(findings))
        }
    }
}

/// A running server.
pub struct Server {
    running: Running,
    state: Arc<State>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.running.local_addr())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the listener and starts serving; the store loads and compiles in the background
    /// (`GET /v1/health` answers 503 until it has). Call within a multi-threaded Tokio runtime.
    pub async fn start(config: Config) -> Result<Server, StartError> {
        let (listener, addr) = crate::runtime::bind(config.listen)
            .await
            .map_err(StartError)?;
        let metrics = Arc::new(Metrics::new());
        let log = match &config.decision_log {
            Some(c) => Some(
                log::DecisionLog::start(c, Arc::clone(&metrics)).map_err(|e| {
                    StartError(format!(
                        "cannot open the decision log {}: {e}",
                        c.path.display()
                    ))
                })?,
            ),
            None => None,
        };
        let (init, _) = watch::channel(Init::Starting);
        let state = Arc::new(State {
            live: Engine::new(
                None,
                ReloadState {
                    next_version: 1,
                    fingerprint: None,
                },
            ),
            batch_budget: Arc::new(budget::Budget::new(config.limits.max_batch_memory)),
            envoy: config.envoy.clone(),
            config,
            metrics,
            log,
            init,
        });
        let limits = ConnLimits {
            header_timeout: state.config.limits.header_timeout,
            max_connections: state.config.limits.max_connections,
            shutdown_grace: state.config.limits.shutdown_grace,
        };
        let mut running = Running::start(listener, addr, Plain, limits, Arc::clone(&state));
        let st = Arc::clone(&state);
        running.spawn(|shutdown| background(st, shutdown));
        Ok(Server { running, state })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.running.local_addr()
    }

    /// The store path it was started with.
    pub fn store_path(&self) -> &std::path::Path {
        &self.state.config.store
    }

    /// Waits for the first store: `Ok` with it once compiled, or the number of findings of a
    /// refused one (the server then keeps answering 503 until a reload succeeds; the findings
    /// go to [`Config::on_event`]).
    pub async fn ready(&self) -> Result<Arc<Live>, usize> {
        let mut rx = self.state.init.subscribe();
        loop {
            let now = rx.borrow_and_update().clone();
            match now {
                Init::Ready => {
                    if let Some(l) = self.state.live.load_full() {
                        return Ok(l);
                    }
                }
                Init::Failed(n) => return Err(n),
                Init::Starting => {}
            }
            if rx.changed().await.is_err() {
                return Err(0);
            }
        }
    }

    /// The live store, if one has compiled.
    pub fn live(&self) -> Option<Arc<Live>> {
        self.state.live.load_full()
    }

    /// Reloads the store from its files, as `SIGHUP` does.
    pub async fn reload(&self) -> Result<Arc<Live>, ReloadError> {
        reload(&self.state, Trigger::Sighup, None).await
    }

    /// Stops accepting connections, lets open requests finish (within
    /// [`Limits::shutdown_grace`]), and flushes the decision log.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
        let state = self.state;
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(log) = &state.log {
                log.close();
            }
        })
        .await;
    }
}

/// The first load, then the reload triggers: the file poll and `SIGHUP`.
async fn background(state: Arc<State>, mut shutdown: watch::Receiver<bool>) {
    tokio::select! {
        _ = shutdown.changed() => return,
        _ = reload(&state, Trigger::Startup, None) => {}
    }
    let mut sighup = Sighup::install(state.config.reload_on_sighup).unwrap_or_else(|e| {
        state.event(&Event::Error(e));
        Sighup::none()
    });
    let mut tick = ticker(state.config.watch_interval);
    loop {
        let trigger = tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick_or_never(&mut tick) => Trigger::FileChange,
            _ = sighup.recv() => Trigger::Sighup,
        };
        if trigger == Trigger::FileChange {
            let path = state.config.store.clone();
            let Ok(now) = tokio::task::spawn_blocking(move || live::fingerprint(&path)).await
            else {
                continue;
            };
            let last = state.live.lock().await.fingerprint.clone();
            if last.as_ref() == Some(&now) {
                continue;
            }
        }
        let _ = reload(&state, trigger, None).await;
    }
}
