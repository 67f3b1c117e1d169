//! `iamc gateway`: an authorizing proxy for the Amazon Kinesis Data Streams API (feature
//! `gateway`).
//!
//! Clients that speak the Kinesis JSON protocol (`POST /`, `X-Amz-Target:
//! Kinesis_20131202.<Operation>`, `Content-Type: application/x-amz-json-1.1`: boto3, the AWS
//! CLI, the JavaScript SDK) or its CBOR protocol (`application/x-amz-cbor-1.1`: the Java SDK
//! v2 and the KCL, `cbor`) point their endpoint at the gateway and change nothing else (and
//! trust its CA when it serves TLS, [`Config::tls`]). For each request the gateway
//!
//! 1. verifies its AWS Signature Version 4 against the credentials file (`sigv4`,
//!    `credentials`); an unsigned request is anonymous;
//! 2. maps the operation to its IAM action(s) and resource ARN(s) (`ops`);
//! 3. decides every check with the compiled engine over the policy store, with the context AWS
//!    gives (`aws:SourceIp`, `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime`,
//!    `aws:RequestedRegion`, `aws:PrincipalTag/*`, `aws:RequestTag/*`, `aws:TagKeys`,
//!    `aws:ResourceTag/*`), and refuses a denied one with HTTP 400 `AccessDeniedException`
//!    naming the principal, the action, the resource and the reason;
//! 4. serves `PutResourcePolicy`, `GetResourcePolicy` and `DeleteResourcePolicy` itself: a
//!    policy is checked with the Kinesis resource-policy rules ([`crate::validate`]), written to
//!    the SQLite database (`db`) and only then acknowledged, and the next request is decided
//!    with it;
//! 5. forwards everything else to the upstream unchanged, except that ARNs of the gateway's
//!    account are rewritten to the upstream's account and back (a local Kinesis such as
//!    kinesalite has its own account id), and mirrors stream tags from successful tagging
//!    calls into the database so that `aws:ResourceTag` conditions see them.
//!
//! The store (`--store`) and the credentials file are reloaded on `SIGHUP`
//! ([`Config::reload_on_sighup`]) and by [`Gateway::reload`]; a file that fails
//! validation is refused and the old one keeps serving. The warnings of the files that go live
//! (at the start and at each reload) are printed on standard error. Resource policies set through the API
//! live in the database; a resource whose policy the store file sets cannot be changed through
//! the API (`InvalidArgumentException`), so the two never disagree.
//!
//! The state the API writes (resource policies, mirrored tags, the shard-iterator key) lives
//! behind one seam (`state`): a SQLite file for one gateway (`--db`, `--state sqlite:PATH`),
//! or, with the feature `fleet`, an etcd cluster that a fleet of gateways behind a load
//! balancer shares (`--state etcd://HOST:PORT[,…][/PREFIX]`): writes are etcd transactions that
//! compare the key's revision, acknowledged once committed and applied here; every gateway
//! watches the prefix and applies each change incrementally; without etcd, decisions use the
//! applied state for at most [`Config::max_staleness`] and then fail closed (HTTP 503), and
//! writes fail with HTTP 503 `ServiceUnavailable`, which SDKs retry. Shard iterators are
//! stateless (`iterator`): sealed with a MAC under the shared key, so any gateway, or the
//! same one after a restart, takes the iterator another handed out.
//!
//! `GET /-/status` answers `{"store_version", "revision", "policies", "credentials",
//! "requests", "allowed", "denied", "forwarded", "upstream_errors", "state"}` (`state`: the
//! backend, and with etcd the applied revision, the staleness and whether it is within the
//! bound); `GET /-/metrics` answers
//! Prometheus metrics, with the same names as `iamc serve`'s `/metrics` where they mean the
//! same (`gateway::metrics`).
//!
//! The forwarded request keeps the client's signature (for an upstream that does not check it,
//! as kinesalite does not), or, with [`Config::upstream_signer`], is signed again with the
//! gateway's own credentials for a real Kinesis endpoint.
//!
//! Before it stores a resource policy, the gateway asks the upstream whether the stream
//! (`DescribeStreamSummary`) or consumer (`DescribeStreamConsumer`) exists, signed as forwarded
//! requests are, and answers the upstream's `ResourceNotFoundException` when it does not. An
//! upstream without enhanced fan-out (kinesalite) is asked only about the consumer's stream.
//! Without a signer the question carries the client's signature, made for another request, so
//! an upstream that checks signatures refuses it and the policy with it.
//!
//! The gateway is served by the HTTP runtime `iamc serve` shares: one port for HTTP/1.1 and
//! cleartext HTTP/2, a bound on open connections, a graceful shutdown, and a panic in a request
//! answered 500 `InternalFailure` with the connection kept.
//!
//! TLS: an `https://` upstream is reached with rustls, trusting the platform's roots and
//! [`Config::upstream_ca`] (`upstream_client`); with [`Config::tls`] the gateway listens with
//! TLS (the runtime's `tls` transport, HTTP/2 and HTTP/1.1 by ALPN) and its requests carry
//! `aws:SecureTransport` true.
//!
//! What is not done: `SubscribeToShard`'s event stream is buffered, not streamed.

mod cbor;
pub(crate) mod credentials;
pub(crate) mod db;
#[cfg(feature = "fleet")]
mod fleet;
pub(crate) mod iterator;
mod metrics;
pub(crate) mod ops;
mod proxy;
pub(crate) mod sigv4;
pub(crate) mod state;
mod upstream_client;
pub(crate) mod upstream_sign;

pub use ops::Place;
pub use state::StateUrl;
pub use upstream_sign::{NoEnvCredentials, UpstreamSigner};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::Uri;

use crate::ast::{PolicyDoc, PolicyType};
use crate::diag::{Diagnostic, Listed};
use crate::runtime::signal::Sighup;
use crate::runtime::{ConnLimits, Engine, Plain, Running};
use crate::semantics::Semantics;
use crate::store::{Store, Tags};
use crate::{Authorizer, BuildError, EngineBuilder};

use credentials::Credentials;
use db::PolicyDb;
use iterator::IteratorKey;

/// How the gateway runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The policy store file (or folder).
    pub store: PathBuf,
    /// The credentials file.
    pub credentials: PathBuf,
    /// The SQLite database of resource policies and mirrored tags.
    pub db: PathBuf,
    /// The upstream Kinesis endpoint, `http://host:port` or `https://host[:port]`.
    pub upstream: Uri,
    /// A PEM file of CA certificates trusted for an `https://` upstream, beside the
    /// platform's roots.
    pub upstream_ca: Option<PathBuf>,
    /// Serve TLS with this certificate chain and key (PEM files), HTTP/2 and HTTP/1.1 by
    /// ALPN; requests then carry `aws:SecureTransport` true. `None`: plain HTTP. The files are
    /// read again on `SIGHUP` with [`Config::reload_on_sighup`].
    pub tls: Option<TlsFiles>,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Partition, region and account of the streams behind the gateway.
    pub place: Place,
    /// The account id the upstream uses in its ARNs (kinesalite: `000000000000`).
    pub upstream_account: String,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Largest upstream answer in bytes.
    pub max_upstream_bytes: usize,
    /// How far a request's `X-Amz-Date` may be from the gateway's clock.
    pub max_skew: Duration,
    /// How long the upstream may take to answer, its whole body included.
    pub upstream_timeout: Duration,
    /// How long a client may take to send a request body (slow senders hold a connection).
    pub body_timeout: Duration,
    /// How long a client may take to send its request headers, counted from the connection's
    /// start or the end of its previous request, so it also closes idle and silent
    /// connections.
    pub header_timeout: Duration,
    /// Connections open at once; past it, accepting waits until one closes.
    pub max_connections: usize,
    /// The evaluation semantics.
    pub semantics: Semantics,
    /// Signs forwarded requests with the gateway's credentials; `None` passes the client's
    /// signature through ([`UpstreamSigner`]).
    pub upstream_signer: Option<UpstreamSigner>,
    /// Reload the store and credentials files on `SIGHUP` (Unix), as [`Gateway::reload`] does;
    /// each reload is reported on standard error.
    pub reload_on_sighup: bool,
    /// Where resource policies, mirrored tags and the shard-iterator key live; `None` is
    /// `sqlite:` at [`Config::db`]. `etcd://…` needs the feature `fleet`.
    pub state: Option<StateUrl>,
    /// With etcd: how long decisions may use the last applied state when etcd cannot confirm
    /// it is current; past it, requests fail closed (HTTP 503).
    pub max_staleness: Duration,
    /// The shard-iterator key file; `None`: the key stored in etcd, or the file `DB.iterator-key`
    /// beside the SQLite database, made when missing.
    pub iterator_key: Option<PathBuf>,
}

impl Config {
    /// A configuration with the defaults: listen on 127.0.0.1:4568, region `us-east-1`,
    /// partition `aws`, upstream account `000000000000`, 16 MiB bodies, 5 minutes of skew, 30 s
    /// to send request headers, 4,096 connections.
    pub fn new(
        store: impl Into<PathBuf>,
        credentials: impl Into<PathBuf>,
        db: impl Into<PathBuf>,
        upstream: Uri,
        account: impl Into<String>,
    ) -> Config {
        Config {
            store: store.into(),
            credentials: credentials.into(),
            db: db.into(),
            upstream,
            upstream_ca: None,
            tls: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 4568)),
            place: Place {
                partition: "aws".into(),
                region: "us-east-1".into(),
                account: account.into(),
            },
            upstream_account: "000000000000".into(),
            max_body_bytes: 16 * 1024 * 1024,
            max_upstream_bytes: 64 * 1024 * 1024,
            max_skew: Duration::from_secs(300),
            upstream_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(30),
            max_connections: 4096,
            semantics: Semantics::default(),
            upstream_signer: None,
            reload_on_sighup: false,
            state: None,
            max_staleness: Duration::from_secs(30),
            iterator_key: None,
        }
    }
}

/// The listener's certificate chain and private key, PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain, the leaf first.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why the gateway could not start or reload.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GatewayError(pub String);

/// The resource policies and tags the database holds, in memory.
#[derive(Clone, Debug, Default)]
struct Overlay {
    /// ARN -> (policy text as the client sent it, parsed policy).
    policies: BTreeMap<String, (String, Arc<PolicyDoc>)>,
    /// ARN -> mirrored tags.
    tags: BTreeMap<String, Tags>,
}

/// What decides requests now: immutable, swapped whole.
#[derive(Debug)]
struct Live {
    /// 1 at start, +1 per reload of the files.
    version: u64,
    /// The store as read from its file.
    base: Arc<Store>,
    /// The credentials file.
    credentials: Arc<Credentials>,
    /// The store with the database's policies and tags and the credentials' sessions, and
    /// the engine compiled from it.
    authorizer: Authorizer,
}

impl Live {
    /// The same files with the policy of the Kinesis resource `arn` set (`None`: removed),
    /// compiling only that policy. The database's policies apply only where the store file sets
    /// none (the API refuses to set one there), so this equals a rebuild with the new overlay.
    fn with_resource_policy(
        &self,
        arn: &str,
        policy: Option<Arc<PolicyDoc>>,
    ) -> Result<Live, BuildError> {
        Ok(Live {
            version: self.version,
            base: Arc::clone(&self.base),
            credentials: Arc::clone(&self.credentials),
            authorizer: self.authorizer.with_resource_policy(
                arn,
                PolicyType::KinesisResource,
                policy,
            )?,
        })
    }
}

/// The part of the state that writes: one writer at a time.
struct Writer {
    /// The SQLite database; `None` when the state is in etcd ([`state::Shared::Etcd`]).
    db: Option<PolicyDb>,
    overlay: Overlay,
}

struct State {
    config: Config,
    /// What signatures are checked against (the gateway's region, Kinesis, the skew).
    verify: sigv4::VerifyOptions,
    /// What decides requests now; the writer, behind its update lock, changes it.
    live: Engine<Arc<Live>, Writer>,
    client: upstream_client::UpstreamClient,
    /// Where the policies and tags are shared.
    shared: state::Shared,
    /// Seals the shard iterators handed to clients ([`iterator`]).
    iterator_key: IteratorKey,
    /// The listener's TLS, reloaded on `SIGHUP` with the files.
    tls: Option<crate::runtime::tls::Tls>,
    metrics: metrics::Metrics,
}

/// Parses a policy text stored in the database or sent with `PutResourcePolicy`, and checks it
/// with the Kinesis resource-policy rules for `arn`: the policy, or every error found.
fn parse_resource_policy(arn: &str, text: &str) -> Result<Arc<PolicyDoc>, Vec<String>> {
    // Kinesis takes IAM JSON only (not iamc's text form).
    if crate::parse::Form::detect(text) != crate::parse::Form::Json {
        return Err(vec!["the policy must be an IAM JSON object".to_string()]);
    }
    let findings = crate::validate::check_text(text, PolicyType::KinesisResource, Some(arn));
    let errors: Vec<String> = findings
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .map(ToString::to_string)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let policy = crate::parse::parse_policy(text, &crate::parse::Limits::default())
        .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    Ok(PolicyDoc::new(
        format!("resource/{arn}"),
        PolicyType::KinesisResource,
        policy,
    ))
}

/// Builds what decides requests from the files and the database.
fn build_live(
    version: u64,
    base: Arc<Store>,
    credentials: Arc<Credentials>,
    overlay: &Overlay,
    sem: Semantics,
    previous: Option<&Authorizer>,
) -> Result<Live, GatewayError> {
    let mut store = (*base).clone();
    for (arn, (_, doc)) in &overlay.policies {
        // A policy the store file sets wins; the API refuses to set one there, so this happens
        // only when the store file gained a policy the database also has.
        if base.resource(arn).is_some_and(|r| r.policy.is_some()) {
            eprintln!(
                "iamc gateway: warning: the store file sets the policy of {arn}; the one in the \
                 database is not used"
            );
            continue;
        }
        store.set_resource_policy(arn, PolicyType::KinesisResource, Some(Arc::clone(doc)));
    }
    for (arn, tags) in &overlay.tags {
        store.merge_resource_tags(arn, tags);
    }
    for c in credentials.iter() {
        let session = matches!(
            c.caller,
            crate::request::Caller::RoleSession { .. }
                | crate::request::Caller::FederatedUser { .. }
        );
        if session {
            store
                .set_session(&c.principal, c.session_policy.clone(), &c.tags)
                .map_err(|e| GatewayError(format!("credentials for {}: {e}", c.principal)))?;
        }
    }
    // After a mirrored change the policies are mostly the live ones: only new lists of
    // policies are compiled.
    let builder = EngineBuilder::new().semantics(sem);
    let authorizer = match previous {
        Some(p) => builder.rebuild(p, Arc::new(store)),
        None => builder.authorizer(Arc::new(store)),
    }
    .map_err(|e| GatewayError(format!("the engine was not built: {e}")))?;
    Ok(Live {
        version,
        base,
        credentials,
        authorizer,
    })
}

fn load_files(config: &Config) -> Result<(Store, Credentials), GatewayError> {
    let show = |what: &str, path: &std::path::Path, mut found: Vec<Diagnostic>| {
        found.retain(Diagnostic::is_error);
        GatewayError(format!(
            "the {what} {} is invalid:\n{}",
            path.display(),
            Listed(&found)
        ))
    };
    let store = Store::load(&config.store).map_err(|e| show("store", &config.store, e))?;
    let creds = Credentials::load(&config.credentials)
        .map_err(|e| show("credentials file", &config.credentials, e))?;
    Ok((store, creds))
}

/// Prints on standard error the findings that are not errors (warnings, security warnings,
/// suggestions) of the store and credentials files `live` was loaded from, as `iamc serve`
/// prints a refused store's findings.
fn report_warnings(config: &Config, live: &Live) {
    let files = [
        ("store", &config.store, live.base.warnings()),
        (
            "credentials file",
            &config.credentials,
            live.credentials.warnings(),
        ),
    ];
    for (what, path, found) in files {
        if !found.is_empty() {
            let n = found.len();
            eprintln!(
                "iamc gateway: the {what} {}: {n} warning{}\n{}",
                path.display(),
                if n == 1 { "" } else { "s" },
                Listed(found)
            );
        }
    }
}

fn read_overlay(db: &PolicyDb) -> Result<Overlay, GatewayError> {
    let mut overlay = Overlay::default();
    let policies = db.policies().map_err(|e| GatewayError(e.to_string()))?;
    for (arn, text) in policies {
        // A stored policy that no longer passes the checks stops the start: ignoring it could
        // drop a Deny, which would be a wrong Allow.
        let doc = parse_resource_policy(&arn, &text).map_err(|errs| {
            GatewayError(format!(
                "the resource policy of {arn} in {} fails the Kinesis rules: {}",
                db.path().display(),
                errs.join("; ")
            ))
        })?;
        overlay.policies.insert(arn, (text, doc));
    }
    overlay.tags = db
        .all_tags()
        .map_err(|e| GatewayError(e.to_string()))?
        .into_iter()
        .collect();
    Ok(overlay)
}

/// The shared state as the gateway opened it.
struct Opened {
    db: Option<PolicyDb>,
    overlay: Overlay,
    shared: state::Shared,
    iterator_key: IteratorKey,
}

/// Opens the shared state of `config` and reads what it holds.
async fn open_state(config: &Config) -> Result<Opened, GatewayError> {
    let given_key = match &config.iterator_key {
        Some(path) => Some(state::file_iterator_key(path).map_err(GatewayError)?),
        None => None,
    };
    let url = config
        .state
        .clone()
        .unwrap_or_else(|| StateUrl::Sqlite(config.db.clone()));
    match url {
        StateUrl::Sqlite(path) => {
            let db = PolicyDb::open(&path).map_err(|e| GatewayError(e.to_string()))?;
            let overlay = read_overlay(&db)?;
            let iterator_key = match given_key {
                Some(k) => k,
                None => state::local_iterator_key(&path).map_err(GatewayError)?,
            };
            Ok(Opened {
                db: Some(db),
                overlay,
                shared: state::Shared::Sqlite,
                iterator_key,
            })
        }
        #[cfg(feature = "fleet")]
        StateUrl::Etcd { endpoints, prefix } => {
            let fleet = fleet::Fleet::connect(&endpoints, &prefix)
                .await
                .map_err(GatewayError)?;
            let (revision, updates) = fleet.snapshot().await.map_err(GatewayError)?;
            let mut overlay = Overlay::default();
            for u in updates {
                match u {
                    state::Update::Policy(arn, Some(p)) => {
                        overlay.policies.insert(arn, p);
                    }
                    state::Update::Tags(arn, Some(t)) => {
                        overlay.tags.insert(arn, t);
                    }
                    _ => {}
                }
            }
            fleet.set_applied(revision);
            let iterator_key = match given_key {
                Some(k) => k,
                None => fleet.iterator_key().await.map_err(GatewayError)?,
            };
            Ok(Opened {
                db: None,
                overlay,
                shared: state::Shared::Etcd(Arc::new(fleet)),
                iterator_key,
            })
        }
        #[cfg(not(feature = "fleet"))]
        StateUrl::Etcd { .. } => Err(GatewayError(
            "--state etcd://… needs iamc built with the feature `fleet`".into(),
        )),
    }
}

/// A running gateway.
pub struct Gateway {
    running: Running,
    state: Arc<State>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("addr", &self.running.local_addr())
            .finish_non_exhaustive()
    }
}

/// How long requests in flight may finish after a shutdown is asked.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl Gateway {
    /// Loads the store and credentials, opens the database, compiles, binds and starts
    /// serving; the files' warnings are printed on standard error. Call within a
    /// multi-threaded Tokio runtime.
    pub async fn start(config: Config) -> Result<Gateway, GatewayError> {
        let (store, creds) = load_files(&config)?;
        let opened = open_state(&config).await?;
        let live = build_live(
            1,
            Arc::new(store),
            Arc::new(creds),
            &opened.overlay,
            config.semantics.clone(),
            None,
        )?;
        report_warnings(&config, &live);
        let (listener, addr) = crate::runtime::bind(config.listen)
            .await
            .map_err(GatewayError)?;
        let sighup = Sighup::install(config.reload_on_sighup).map_err(GatewayError)?;
        let client = upstream_client::build(&config.upstream, config.upstream_ca.as_deref())?;
        let tls = match &config.tls {
            Some(f) => Some(crate::runtime::tls::Tls::load(&f.cert, &f.key).map_err(GatewayError)?),
            None => None,
        };
        let verify = sigv4::VerifyOptions {
            max_skew: config.max_skew,
            ..sigv4::VerifyOptions::kinesis(config.place.region.clone())
        };
        let state = Arc::new(State {
            config,
            verify,
            live: Engine::new(
                Arc::new(live),
                Writer {
                    db: opened.db,
                    overlay: opened.overlay,
                },
            ),
            client,
            shared: opened.shared,
            iterator_key: opened.iterator_key,
            tls: tls.clone(),
            metrics: metrics::Metrics::new(),
        });
        let limits = ConnLimits {
            header_timeout: state.config.header_timeout,
            max_connections: state.config.max_connections,
            shutdown_grace: SHUTDOWN_GRACE,
        };
        let mut running = match tls {
            Some(tls) => Running::start(listener, addr, tls, limits, Arc::clone(&state)),
            None => Running::start(listener, addr, Plain, limits, Arc::clone(&state)),
        };
        if state.config.reload_on_sighup {
            let st = Arc::clone(&state);
            running.spawn(|shutdown| reload_on_sighup(st, sighup, shutdown));
        }
        #[cfg(feature = "fleet")]
        if let state::Shared::Etcd(fleet) = &state.shared {
            let (fleet, st) = (Arc::clone(fleet), Arc::clone(&state));
            running.spawn(|shutdown| fleet.watch(st, shutdown));
        }
        Ok(Gateway { running, state })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.running.local_addr()
    }

    /// The live store version (1 at start, +1 per successful reload).
    pub fn store_version(&self) -> u64 {
        self.state.live.load().version
    }

    /// Reloads the store and credentials files (as `SIGHUP` does) and prints their warnings on
    /// standard error. On error the old ones keep serving. Returns the new version.
    pub async fn reload(&self) -> Result<u64, GatewayError> {
        reload(&self.state).await
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), and returns.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
    }
}

/// Reloads the store and credentials files; on error the old ones keep serving. Returns the
/// new version.
async fn reload(state: &State) -> Result<u64, GatewayError> {
    let (store, creds) = load_files(&state.config)?;
    let writer = state.live.lock().await;
    let version = writer.live().version + 1;
    let next = build_live(
        version,
        Arc::new(store),
        Arc::new(creds),
        &writer.overlay,
        state.config.semantics.clone(),
        None,
    );
    // Counted before it is published, as the server does: whoever sees the new files sees
    // the reload counted.
    state.metrics.reload(next.is_ok());
    let live = writer.commit(next.map(Arc::new))?;
    report_warnings(&state.config, &live);
    Ok(version)
}

/// Reloads on every `SIGHUP` until shutdown, and says so on standard error.
async fn reload_on_sighup(
    state: Arc<State>,
    mut sighup: Sighup,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = sighup.recv() => {
                match reload(&state).await {
                    Ok(v) => eprintln!("iamc gateway: store version {v} live (sighup)"),
                    Err(e) => eprintln!("iamc gateway: reload refused; the old store keeps serving: {e}"),
                }
                // The certificate on its own: a bad store does not keep a renewed certificate
                // out, nor the other way round.
                if let Some(tls) = &state.tls {
                    match tls.reload() {
                        Ok(()) => eprintln!("iamc gateway: TLS certificate reloaded (sighup)"),
                        Err(e) => eprintln!("iamc gateway: TLS certificate refused; the old one keeps serving: {e}"),
                    }
                }
            }
        }
    }
}
