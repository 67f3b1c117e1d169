//! Routes and handlers.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::budget::{Charge, COST_PER_BODY_BYTE};
use super::envoy::Forwarded;
use super::error::{ApiError, ErrorCode};
use super::live::{Live, Trigger};
use super::log::Record;
use super::metrics::Route;
use super::{decision_json, reload, Init, ReloadError, State, Writes};
use crate::compile::Scratch;
use crate::eval::explain::explain;
use crate::eval::{Decision, Outcome};
use crate::request::RequestJson;
use crate::runtime::body::{read_body as read_limited, BodyError};
use crate::runtime::{Handler, Isolation};
use crate::{Authorizer, Prepared};

/// The body type of every response.
pub(crate) use crate::runtime::Body;

/// The prefix of the Envoy `ext_authz` endpoint; the original path follows it.
pub(crate) const ENVOY_PREFIX: &str = "/v1/envoy/ext_authz";

/// The response header naming the store version that decided.
pub(crate) const VERSION_HEADER: &str = "iamc-store-version";
/// The response header with the outcome (Envoy endpoint).
pub(crate) const DECISION_HEADER: &str = "x-iamc-decision";

/// Batches up to this size are decided on the async worker; larger ones on the blocking pool,
/// across cores.
const INLINE_BATCH: usize = 64;

thread_local! {
    /// Scratch space for the engine, one per worker thread.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn decide_with_local_scratch(authorizer: &Authorizer, req: &Prepared) -> Decision {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut scratch) => authorizer.authorize_prepared(&mut scratch, req),
        Err(_) => authorizer.authorize_prepared(&mut Scratch::default(), req),
    })
}

pub(crate) fn route_of(path: &str) -> Route {
    match path {
        "/v1/authorize" => Route::Authorize,
        "/v1/authorize/batch" => Route::Batch,
        "/v1/health" => Route::Health,
        "/metrics" => Route::Metrics,
        "/v1/store" => Route::Store,
        p if p == ENVOY_PREFIX
            || p.strip_prefix(ENVOY_PREFIX)
                .is_some_and(|r| r.starts_with('/')) =>
        {
            Route::Envoy
        }
        _ => Route::Other,
    }
}

/// The decision server as the runtime serves it: each request runs as a task of its own
/// ([`Isolation::Task`]), so that even a bug that panics answers 500 and leaves the connection
/// and the server serving; every answer is counted in `iamc_http_requests_total` and
/// `iamc_request_duration_seconds`.
impl Handler for State {
    type Route = Route;
    const ISOLATION: Isolation = Isolation::Task;

    fn route(&self, req: &Request<Incoming>) -> Route {
        route_of(req.uri().path())
    }

    fn handle(
        self: Arc<Self>,
        route: Route,
        _peer: SocketAddr,
        req: Request<Incoming>,
    ) -> impl std::future::Future<Output = Response<Body>> + Send + 'static {
        handle(self, route, req)
    }

    fn panicked(&self, _route: Route, _message: &str) -> Response<Body> {
        error_response(
            self,
            &ApiError::new(
                ErrorCode::Internal,
                "the request handler failed; the server keeps serving",
            ),
        )
    }

    fn answered(&self, route: Route, status: StatusCode, elapsed: Duration) {
        self.metrics.request(route, status.as_u16(), elapsed);
    }

    fn error(&self, message: String) {
        self.event(&super::Event::Error(message));
    }
}

async fn handle(state: Arc<State>, route: Route, req: Request<Incoming>) -> Response<Body> {
    let result = if route == Route::Store {
        // Store uploads bound their body read; compiling a store is not cut short.
        store(&state, req).await
    } else {
        match tokio::time::timeout(
            state.config.limits.request_timeout,
            dispatch(&state, route, req),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "the request took longer than {:?} (the server's time bound)",
                    state.config.limits.request_timeout
                ),
            )),
        }
    };
    result.unwrap_or_else(|e| error_response(&state, &e))
}

async fn dispatch(
    state: &Arc<State>,
    route: Route,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    match route {
        Route::Authorize => authorize(state, req).await,
        Route::Batch => batch(state, req).await,
        Route::Health => {
            only(&req, &[Method::GET], "GET")?;
            Ok(health(state))
        }
        Route::Metrics => {
            only(&req, &[Method::GET], "GET")?;
            let live = state.live.load_full();
            let mut text = state.metrics.render(live.as_deref());
            state.batch_budget.render(&mut text);
            let mut resp = Response::new(Full::new(Bytes::from(text)));
            resp.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            Ok(resp)
        }
        Route::Envoy => envoy(state, req).await,
        Route::Store => store(state, req).await,
        Route::Other => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "no route {} {} (routes: POST /v1/authorize, POST /v1/authorize/batch, GET /v1/health, GET /metrics, GET|PUT /v1/store, {ENVOY_PREFIX}/…)",
                req.method(),
                req.uri().path()
            ),
        )),
    }
}

fn only(req: &Request<Incoming>, methods: &[Method], allow: &'static str) -> Result<(), ApiError> {
    if methods.contains(req.method()) {
        return Ok(());
    }
    let mut e = ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("{} takes {allow}, not {}", req.uri().path(), req.method()),
    );
    e.allow = Some(allow);
    Err(e)
}

pub(crate) fn json_response(status: StatusCode, v: &impl Serialize) -> Response<Body> {
    let bytes = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

pub(crate) fn error_response(state: &State, e: &ApiError) -> Response<Body> {
    state.metrics.error(e.code);
    let mut resp = json_response(e.code.status(), &e.body());
    if let Some(allow) = e.allow {
        resp.headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
    }
    if let Some(secs) = e.retry_after {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

fn with_version(mut resp: Response<Body>, version: u64) -> Response<Body> {
    resp.headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from(version));
    resp
}

fn live_or_not_ready(state: &State) -> Result<Arc<Live>, ApiError> {
    state.live.load_full().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotReady,
            "no store has compiled yet; GET /v1/health says when one has",
        )
    })
}

/// Reads a body of at most `max` bytes.
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, ApiError> {
    let (parts, body) = req.into_parts();
    read_parts(&parts.headers, body, max).await
}

/// Reads a body of at most `max` bytes, given the request's headers.
async fn read_parts(
    headers: &hyper::HeaderMap,
    body: Incoming,
    max: usize,
) -> Result<Bytes, ApiError> {
    read_limited(headers, body, max, None)
        .await
        .map_err(|e| body_error(e, max))
}

/// The API error of a body that was not read (its time bound is the caller's to word).
fn body_error(e: BodyError, max: usize) -> ApiError {
    match e {
        BodyError::TooLarge => ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("the body is larger than {max} bytes (the server's bound)"),
        ),
        BodyError::Unreadable(e) => ApiError::new(
            ErrorCode::BodyUnreadable,
            format!("cannot read the body: {e}"),
        ),
        BodyError::TimedOut => ApiError::new(ErrorCode::Timeout, "the body did not arrive in time"),
    }
}

/// `?explain=true`.
fn explain_param(query: Option<&str>) -> Result<bool, ApiError> {
    let mut explain = false;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, "true"));
        if k == "explain" {
            explain = match v {
                "true" | "1" | "" => true,
                "false" | "0" => false,
                other => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidRequest,
                        format!("explain={other}: expected true or false"),
                    ))
                }
            };
        }
    }
    Ok(explain)
}

fn json_error(e: &serde_json::Error, what: &str) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => ApiError::new(ErrorCode::InvalidRequest, format!("not {what}: {e}")),
        Category::Io | Category::Syntax | Category::Eof => {
            ApiError::new(ErrorCode::InvalidJson, format!("the body is not JSON: {e}"))
        }
    }
}

/// One decided request.
struct Decided {
    json: Value,
    outcome: Outcome,
    latency: Duration,
    request: RequestJson,
}

/// The request path: JSON request -> request -> prepared by the store -> decision JSON (the
/// shape of `iamc authorize --format json`), with the `id` echoed and, on demand, the
/// explanation.
fn decide(live: &Live, rj: RequestJson, want_explain: bool) -> Result<Decided, String> {
    let t = Instant::now();
    let mut req = rj.to_request().map_err(|e| e.to_string())?;
    req.add_time_keys(SystemTime::now());
    let req = live.authorizer.prepare(req);
    let d = decide_with_local_scratch(&live.authorizer, &req);
    let mut v = decision_json(&d, &req);
    if let (Some(id), Value::Object(m)) = (&rj.id, &mut v) {
        m.insert("id".into(), id.clone());
    }
    if want_explain {
        let inputs = live.authorizer.store().inputs_for(&req);
        let sem = live.authorizer.semantics();
        v["explain"] = serde_json::to_value(explain(&inputs, &req, sem)).unwrap_or(Value::Null);
    }
    Ok(Decided {
        json: v,
        outcome: d.decision,
        latency: t.elapsed(),
        request: rj,
    })
}

fn log(state: &State, live: &Live, route: Route, d: Decided) {
    if let Some(log) = &state.log {
        log.send(Record {
            time: SystemTime::now(),
            route: route.as_str(),
            store_version: live.version,
            latency: d.latency,
            request: d.request,
            decision: d.json,
        });
    }
}

async fn authorize(state: &Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    only(&req, &[Method::POST], "POST")?;
    let want_explain = explain_param(req.uri().query())?;
    let live = live_or_not_ready(state)?;
    let body = read_body(req, state.config.limits.max_body_bytes).await?;
    let rj: RequestJson = serde_json::from_slice(&body).map_err(|e| json_error(&e, "a request"))?;
    let d =
        decide(&live, rj, want_explain).map_err(|e| ApiError::new(ErrorCode::InvalidRequest, e))?;
    state.metrics.decision(d.outcome);
    let resp = with_version(json_response(StatusCode::OK, &d.json), live.version);
    log(state, &live, Route::Authorize, d);
    Ok(resp)
}

/// One batch item: its decision (the answer's JSON text, the outcome, and the whole decision
/// when the decision log wants it), or its error.
type Item = Result<DoneItem, (Option<Value>, String)>;

struct DoneItem {
    text: Vec<u8>,
    outcome: Outcome,
    logged: Option<Decided>,
}

/// Decides one batch item from its raw JSON text. The answer is serialized here, on the
/// worker, so a batch holds compact texts rather than a tree of JSON values per request.
fn decide_item(live: &Live, item: &RawValue, want_explain: bool, logging: bool) -> Item {
    let id = || {
        #[derive(serde::Deserialize)]
        struct Id {
            id: Option<Value>,
        }
        serde_json::from_str::<Id>(item.get())
            .ok()
            .and_then(|i| i.id)
    };
    let rj: RequestJson =
        serde_json::from_str(item.get()).map_err(|e| (id(), format!("not a request: {e}")))?;
    let d = decide(live, rj, want_explain).map_err(|e| (id(), e))?;
    let text = serde_json::to_vec(&d.json).unwrap_or_else(|_| b"null".to_vec());
    Ok(DoneItem {
        text,
        outcome: d.outcome,
        logged: logging.then_some(d),
    })
}

/// The requests of a batch body, as raw JSON texts borrowed from it: `{"requests": [...]}` or
/// a bare array.
pub(crate) fn batch_items(body: &[u8]) -> Result<Vec<&RawValue>, ApiError> {
    let shape = || {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "a batch is {\"requests\": [request, …]} (or a JSON array of requests)",
        )
    };
    let start = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match start {
        Some(b'[') => serde_json::from_slice(body).map_err(|e| json_error(&e, "a batch")),
        Some(b'{') => {
            let mut m: std::collections::BTreeMap<String, &RawValue> =
                serde_json::from_slice(body).map_err(|e| json_error(&e, "a batch"))?;
            let requests = m.remove("requests");
            // Any key left is one a batch does not define.
            if let Some(k) = m.keys().next() {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    crate::request::unknown_field_message(k, "a batch", &["requests"]),
                ));
            }
            let raw = requests.ok_or_else(shape)?;
            serde_json::from_str(raw.get()).map_err(|_| shape())
        }
        _ => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(e) => Err(json_error(&e, "a batch")),
            Ok(_) => Err(shape()),
        },
    }
}

/// A batch's share of the memory budget, charged before its body is read: from its declared
/// length, or the body bound when it declares none.
fn charge_batch(state: &State, req: &Request<Incoming>) -> Result<Charge, ApiError> {
    let max = state.config.limits.max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(max)
        .min(max);
    state
        .batch_budget
        .try_charge(declared.saturating_mul(COST_PER_BODY_BYTE))
        .ok_or_else(|| {
            let mut e = ApiError::new(
                ErrorCode::Overloaded,
                format!(
                    "the batches in flight use the server's batch memory budget ({} bytes, \
                     --max-batch-memory); try again shortly",
                    state.config.limits.max_batch_memory
                ),
            );
            e.retry_after = Some(1);
            e
        })
}

async fn batch(state: &Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    only(&req, &[Method::POST], "POST")?;
    let want_explain = explain_param(req.uri().query())?;
    let live = live_or_not_ready(state)?;
    // Held until the answer is built, on every path.
    let mut charge = charge_batch(state, &req)?;
    let body = read_body(req, state.config.limits.max_body_bytes).await?;
    charge.lower_to(body.len().saturating_mul(COST_PER_BODY_BYTE));
    let items = batch_items(&body)?;
    let max = state.config.limits.max_batch;
    if items.len() > max {
        return Err(ApiError::new(
            ErrorCode::BatchTooLarge,
            format!(
                "the batch has {} requests; the server takes at most {max} per call",
                items.len()
            ),
        ));
    }
    state.metrics.batch_size(items.len());
    let logging = state.log.is_some();
    let results: Vec<Item> = if items.len() <= INLINE_BATCH {
        items
            .into_iter()
            .map(|item| decide_item(&live, item, want_explain, logging))
            .collect()
    } else {
        // The items borrow the body; the blocking worker takes the body and parses them again
        // (a scan of raw texts, cheap next to deciding).
        drop(items);
        let l = Arc::clone(&live);
        let body = body.clone();
        tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            batch_items(&body).map(|items| {
                items
                    .into_par_iter()
                    .map(|item| decide_item(&l, item, want_explain, logging))
                    .collect()
            })
        })
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "the batch worker failed"))??
    };
    drop(body);
    let mut out: Vec<u8> = Vec::with_capacity(
        16 + results
            .iter()
            .map(|r| r.as_ref().map_or(128, |d| d.text.len() + 1))
            .sum::<usize>(),
    );
    out.extend_from_slice(b"{\"decisions\":[");
    let mut decided: Vec<Decided> = Vec::new();
    for (index, r) in results.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        match r {
            Ok(d) => {
                state.metrics.decision(d.outcome);
                out.extend_from_slice(&d.text);
                decided.extend(d.logged);
            }
            Err((id, message)) => {
                state.metrics.error(ErrorCode::InvalidRequest);
                let mut e = serde_json::Map::new();
                if let Some(id) = id {
                    e.insert("id".into(), id);
                }
                e.insert("index".into(), json!(index));
                e.insert(
                    "error".into(),
                    json!({"code": ErrorCode::InvalidRequest.as_str(), "message": message}),
                );
                let _ = serde_json::to_writer(&mut out, &Value::Object(e));
            }
        }
    }
    out.extend_from_slice(b"]}");
    let mut resp = Response::new(Full::new(Bytes::from(out)));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let resp = with_version(resp, live.version);
    for d in decided {
        log(state, &live, Route::Batch, d);
    }
    Ok(resp)
}

fn health(state: &State) -> Response<Body> {
    if let Some(live) = state.live.load_full() {
        return json_response(
            StatusCode::OK,
            &json!({
                "status": "ready",
                "store_version": live.version,
                "loaded_at": live.loaded_rfc3339(),
            }),
        );
    }
    let init = state.init.borrow().clone();
    let (status, message) = match init {
        Init::Starting => ("starting", "the store is loading and compiling".to_string()),
        Init::Ready => ("starting", "no store is live".to_string()),
        Init::Failed(n) => (
            "failed",
            format!("the store failed validation ({n} findings); fix it and reload (SIGHUP, a file change, or PUT /v1/store)"),
        ),
    };
    state.metrics.error(ErrorCode::NotReady);
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({
            "status": status,
            "error": {"code": ErrorCode::NotReady.as_str(), "message": message},
        }),
    )
}

async fn envoy(state: &Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let Some(mapping) = &state.envoy else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "the Envoy ext_authz endpoint needs a mapping file (iamc serve --envoy-mapping FILE)",
        ));
    };
    let live = live_or_not_ready(state)?;
    let (parts, body) = req.into_parts();
    // Envoy sends no body unless told to; one that comes is read (bounded) and ignored, so the
    // connection stays reusable.
    read_parts(&parts.headers, body, state.config.limits.max_body_bytes).await?;
    let path = parts.uri.path();
    let original = match path.get(ENVOY_PREFIX.len()..).unwrap_or_default() {
        "" => "/",
        p => p,
    };
    let fwd = Forwarded {
        method: parts.method.as_str(),
        path: original,
        query: parts.uri.query(),
        headers: &parts.headers,
    };
    let unmappable = |e: String| ApiError::new(ErrorCode::Unmappable, e);
    let rj = mapping.map(&fwd).map_err(unmappable)?;
    let d = decide(&live, rj, false).map_err(unmappable)?;
    state.metrics.decision(d.outcome);
    let outcome = d.outcome;
    let status = if outcome == Outcome::Allow {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    // The answer goes back to the client on a denial, so it names only the outcome; the
    // decision log has the rest.
    let mut resp = with_version(
        json_response(status, &json!({"decision": outcome.as_str()})),
        live.version,
    );
    resp.headers_mut()
        .insert(DECISION_HEADER, HeaderValue::from_static(outcome.as_str()));
    log(state, &live, Route::Envoy, d);
    Ok(resp)
}

/// Whether the request may change the server's state ([`Writes`]); the error says how to
/// enable writes when they are off.
fn may_write(state: &State, req: &Request<Incoming>) -> Result<(), ApiError> {
    let token = match &state.config.writes {
        Writes::Unauthenticated => return Ok(()),
        Writes::Refused => {
            return Err(ApiError::new(
                ErrorCode::WritesDisabled,
                format!(
                    "{} {} changes the store, and this server takes no writes; start iamc serve \
                     with --admin-token-file FILE (then send `Authorization: Bearer <token>`), \
                     or with --allow-unauthenticated-writes",
                    req.method(),
                    req.uri().path()
                ),
            ))
        }
        Writes::Token(t) => t,
    };
    if token_matches(req, token) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Unauthorized,
            format!(
                "{} {} needs `Authorization: Bearer <token>` with the server's admin token",
                req.method(),
                req.uri().path()
            ),
        ))
    }
}

fn token_matches(req: &Request<Incoming>, token: &str) -> bool {
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compare every byte, so the time taken does not tell how much of a guess was right.
    let (a, b) = (given.as_bytes(), token.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter().cycle()) {
        diff |= x ^ y;
    }
    diff == 0 && !b.is_empty()
}

async fn store(state: &Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    if req.method() == Method::GET {
        let live = live_or_not_ready(state)?;
        return Ok(with_version(
            json_response(StatusCode::OK, &live.info()),
            live.version,
        ));
    }
    only(&req, &[Method::GET, Method::PUT], "GET, PUT")?;
    may_write(state, &req)?;
    let limits = &state.config.limits;
    let (parts, body) = req.into_parts();
    let max = limits.max_store_bytes;
    let body = read_limited(&parts.headers, body, max, Some(limits.request_timeout))
        .await
        .map_err(|e| match e {
            BodyError::TimedOut => ApiError::new(
                ErrorCode::Timeout,
                format!(
                    "the store upload took longer than {:?}",
                    limits.request_timeout
                ),
            ),
            e => body_error(e, max),
        })?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::new(ErrorCode::InvalidJson, "the store is not UTF-8 text"))?;
    match reload(state, Trigger::Api, Some(text)).await {
        Ok(live) => Ok(with_version(
            json_response(StatusCode::OK, &live.info()),
            live.version,
        )),
        Err(ReloadError::Invalid(findings)) => {
            let errors = findings.iter().filter(|d| d.is_error()).count();
            let serving = state
                .live
                .load_full()
                .map(|l| format!("version {} keeps serving", l.version))
                .unwrap_or_else(|| "no store is live".into());
            let mut e = ApiError::new(
                ErrorCode::StoreInvalid,
                format!("the store was refused: {errors} errors; {serving}"),
            );
            e.findings = findings;
            Err(e)
        }
        Err(ReloadError::Internal(m)) => Err(ApiError::new(ErrorCode::Internal, m)),
    }
}
