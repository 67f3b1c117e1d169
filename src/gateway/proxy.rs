//! One request through the gateway: authenticate, map, authorize, then serve or forward.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request as HttpRequest, Response, StatusCode, Uri};
use serde_json::{json, Value};

use super::cbor::{self, CBOR_11};
use super::metrics::{Gauges, Route};
use super::ops::{self, Check, Handling, Plan};
use super::sigv4::{self, Auth};
use super::{parse_resource_policy, Live, State};
use crate::arn::ArnPattern;
use crate::ast::{Instant, PolicyType};
use crate::eval::flow::wildcard_only_reason;
use crate::eval::{Decision, Layer, Outcome};
use crate::request::{time_keys, Caller, ContextValue, Request, Scalar};
use crate::runtime::body::{read_body, BodyError};
use crate::runtime::{Handler, Isolation};
use crate::semantics::Semantics;

mod policy_api;
mod upstream;

use policy_api::*;
use upstream::*;

type Answer = Response<Full<Bytes>>;

const JSON_11: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "Kinesis_20131202.";

/// An AWS JSON-protocol error: `{"__type": code, "message": message}`.
fn aws_error(status: StatusCode, code: &str, message: &str) -> Answer {
    let body = json!({"__type": code, "message": message}).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_11));
    r.headers_mut().insert(
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_str(code).unwrap_or(HeaderValue::from_static("InternalFailure")),
    );
    r
}

/// An AWS error before it is an HTTP answer (small, for `Result`s).
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Refusal {
    fn answer(&self) -> Answer {
        aws_error(self.status, self.code, &self.message)
    }
}

fn json_answer(body: &Value) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_11));
    r
}

/// The gateway as the runtime serves it: a request is polled in place inside a catch of
/// panics ([`Isolation::InPlace`]), so that even a bug that panics answers 500 and leaves the
/// connection and the gateway serving. Its counters are [`Metrics`] (`/-/status`, `/-/metrics`).
impl Handler for State {
    type Route = Route;
    const ISOLATION: Isolation = Isolation::InPlace;

    fn route(&self, req: &HttpRequest<Incoming>) -> Route {
        Route::of(req.method(), req.uri().path())
    }

    fn handle(
        self: Arc<Self>,
        route: Route,
        peer: SocketAddr,
        req: HttpRequest<Incoming>,
    ) -> impl std::future::Future<Output = Answer> + Send + 'static {
        serve(self, route, peer, req)
    }

    fn panicked(&self, _route: Route, message: &str) -> Answer {
        aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("the gateway failed on this request: {message}"),
        )
    }

    fn answered(&self, route: Route, status: StatusCode, elapsed: Duration) {
        self.metrics.http.request(route, status.as_u16(), elapsed);
    }

    fn error(&self, message: String) {
        eprintln!("iamc gateway: {message}");
    }
}

async fn serve(
    state: Arc<State>,
    route: Route,
    peer: SocketAddr,
    req: HttpRequest<Incoming>,
) -> Answer {
    match route {
        Route::Status => {
            let mut status = state.metrics.status(gauges(&state).await);
            if let Some(o) = status.as_object_mut() {
                o.insert(
                    "state".into(),
                    state.shared.status(state.config.max_staleness),
                );
            }
            json_answer(&status)
        }
        Route::Metrics => {
            let mut r = Response::new(Full::new(Bytes::from(
                state.metrics.render(gauges(&state).await),
            )));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        Route::Kinesis => {
            let cbor = is_cbor(req.headers());
            let answer = kinesis(&state, peer, req, cbor).await;
            if cbor {
                in_cbor(answer).await
            } else {
                answer
            }
        }
        Route::Other if req.uri().path() == "/" => aws_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnknownOperationException",
            "the Kinesis API takes POST /",
        ),
        Route::Other => aws_error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "not found: the Kinesis API is POST /, the gateway's status GET /-/status, its \
             metrics GET /-/metrics",
        ),
    }
}

/// What the gateway serves from now, for `/-/status` and `/-/metrics`.
async fn gauges(state: &State) -> Gauges {
    let live = state.live.load_full();
    let w = state.live.lock().await;
    Gauges {
        store_version: live.version,
        revision: match &w.db {
            Some(db) => db.revision().unwrap_or_default(),
            None => state.shared.revision(),
        },
        policies: w.overlay.policies.len(),
        credentials: live.credentials.len(),
    }
}

/// The account in an ARN (`arn:partition:service:region:ACCOUNT:…`), read from the fifth
/// field of any text that has one.
fn arn_account(arn: &str) -> Option<&str> {
    ArnPattern::parse(arn).account().filter(|a| !a.is_empty())
}

/// Whether the request speaks the CBOR protocol (its `Content-Type`).
fn is_cbor(headers: &HeaderMap) -> bool {
    content_type(headers).eq_ignore_ascii_case(CBOR_11)
}

/// The media type of `Content-Type`, without its parameters.
fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
}

/// The answer to a CBOR request: one the gateway made in JSON (an error, a resource policy)
/// re-encoded in CBOR as Kinesis answers such a client; the upstream's (already CBOR) as is.
async fn in_cbor(answer: Answer) -> Answer {
    if !content_type(answer.headers()).eq_ignore_ascii_case(JSON_11) {
        return answer;
    }
    let (mut parts, body) = answer.into_parts();
    let Ok(collected) = body.collect().await;
    let json = collected.to_bytes();
    let encoded = serde_json::from_slice::<Value>(&json)
        .ok()
        .and_then(|v| cbor::to_cbor(&v));
    match encoded {
        Some(b) => {
            parts
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static(CBOR_11));
            Response::from_parts(parts, Full::new(b))
        }
        None => Response::from_parts(parts, Full::new(json)),
    }
}

async fn kinesis(
    state: &State,
    peer: SocketAddr,
    req: HttpRequest<Incoming>,
    cbor: bool,
) -> Answer {
    let (mut parts, body) = req.into_parts();
    // HTTP/2 carries the host as `:authority`, which hyper keeps in the URI: SigV4 signs it as
    // `host`.
    if !parts.headers.contains_key(hyper::header::HOST) {
        if let Some(v) = parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            parts.headers.insert(hyper::header::HOST, v);
        }
    }
    // Set by the runtime on a request that came over TLS.
    let secure = parts
        .extensions
        .get::<crate::runtime::SecureTransport>()
        .is_some();
    let cfg = &state.config;
    let read = read_body(
        &parts.headers,
        body,
        cfg.max_body_bytes,
        Some(cfg.body_timeout),
    );
    let body = match read.await {
        Ok(b) => b,
        Err(BodyError::TimedOut) => {
            return aws_error(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                &format!(
                    "the request body did not arrive within {:?}",
                    cfg.body_timeout
                ),
            )
        }
        Err(BodyError::TooLarge) => {
            return aws_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "SerializationException",
                &format!(
                    "the request body is larger than the gateway's limit of {} bytes",
                    cfg.max_body_bytes
                ),
            )
        }
        Err(BodyError::Unreadable(e)) => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                &format!("cannot read the request body: {e}"),
            )
        }
    };
    let live = state.live.load_full();

    // 1. Who is asking.
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let auth = match sigv4::verify(
        parts.method.as_str(),
        path_and_query,
        &parts.headers,
        &body,
        SystemTime::now(),
        &live.credentials,
        &state.verify,
    ) {
        Ok(a) => a,
        Err(e) => return aws_error(StatusCode::BAD_REQUEST, e.code, &e.message),
    };
    let (caller, principal, tags) = match &auth {
        Auth::Anonymous => (Caller::Anonymous, "anonymous".to_string(), None),
        Auth::Signed { credential, .. } => (
            credential.caller.clone(),
            credential.principal.clone(),
            Some(&credential.tags),
        ),
    };

    // 2. What is asked.
    let operation = match target(&parts.headers) {
        Ok(op) => op,
        Err(r) => return r.answer(),
    };
    let value: Value = if body.is_empty() {
        json!({})
    } else if cbor {
        // Refused when it cannot be read whole and one way only: never forwarded unread.
        match cbor::decode(&body) {
            Ok(v) => v,
            Err(e) => {
                return aws_error(
                    StatusCode::BAD_REQUEST,
                    "SerializationException",
                    &format!("the body is not valid CBOR for Kinesis: {e}"),
                )
            }
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return aws_error(
                    StatusCode::BAD_REQUEST,
                    "SerializationException",
                    &format!("the body is not valid JSON: {e}"),
                )
            }
        }
    };
    let account = caller.account();
    // GetRecords: the stream is the one sealed in the gateway's iterator, and the upstream gets
    // the upstream's iterator back.
    let mut value = value;
    let mut body = body;
    let mut iterator_stream = None;
    if operation == "GetRecords" {
        if let Some(token) = value.get("ShardIterator").and_then(Value::as_str) {
            match state.iterator_key.open(token) {
                Ok((stream, upstream)) => {
                    iterator_stream = Some(stream);
                    // The upstream gets its own iterator back, in the body's own protocol.
                    if let Some(o) = value.as_object_mut() {
                        o.insert("ShardIterator".into(), Value::String(upstream.clone()));
                    }
                    body = if cbor {
                        match cbor::replace_text_fields(&body, &["ShardIterator"], |_| {
                            upstream.clone()
                        }) {
                            Some(b) => b,
                            None => {
                                return aws_error(
                                    StatusCode::BAD_REQUEST,
                                    "SerializationException",
                                    "ShardIterator is not a text string",
                                )
                            }
                        }
                    } else {
                        Bytes::from(value.to_string())
                    };
                }
                Err(_) => {
                    return aws_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidArgumentException",
                        "Invalid ShardIterator: it was not handed out by this gateway (or its \
                         fleet), or it was changed; get a new one with GetShardIterator",
                    )
                }
            }
        }
    }
    let plan = ops::plan(
        operation,
        &value,
        account,
        &state.config.place,
        iterator_stream.as_deref(),
    );
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return aws_error(StatusCode::BAD_REQUEST, e.code, &e.message),
    };
    // A decision about a resource depends on the shared state (its policy, its tags): when
    // that state cannot be trusted to be current, no decision is made (fail closed).
    if plan.resource.is_some() {
        if let Some(why) = state.shared.refuse_decisions(state.config.max_staleness) {
            return aws_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", &why);
        }
    }
    // 3. Is it allowed.
    for check in &plan.checks {
        let mut request =
            Request::new(caller.clone(), check.action.clone(), check.resource.clone());
        request.extra_resources = check.extra_resources.clone();
        add_context(
            &mut request,
            peer,
            secure,
            &plan,
            tags,
            &state.config.place.region,
        );
        // The request is ours: prepared in place, not copied.
        let request = live.authorizer.prepare(request);
        let decision = live
            .authorizer
            .authorize_prepared(&mut crate::compile::Scratch::default(), &request);
        if decision.decision != Outcome::Allow {
            state.metrics.decision(decision.decision);
            return aws_error(
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                &deny_message(&principal, check, &decision, &state.config.semantics),
            );
        }
    }
    // Decided as AWS does, in the resource's account, before it is found or not.
    if let Some(r) = &plan.resource {
        if arn_account(r) != Some(state.config.place.account.as_str()) {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "ResourceNotFoundException",
                &format!(
                    "{r} not found: this gateway serves the streams of account {}",
                    state.config.place.account
                ),
            );
        }
    }

    if plan.handling != Handling::Forward {
        // Only the owning account manages a resource's policy (Kinesis lets no policy share
        // these actions, and the gateway checks it here too).
        let resource = plan.resource.clone().unwrap_or_default();
        if caller.account() != arn_account(&resource) {
            // No policy decides this: refused as no policy allowing it would be.
            state.metrics.decision(Outcome::ImplicitDeny);
            return aws_error(
                StatusCode::BAD_REQUEST,
                "AccessDeniedException",
                &format!(
                    "User: {principal} is not authorized to perform: kinesis:{} on resource: {resource} \
                     because only principals of the resource's account can manage its resource policy",
                    plan.operation
                ),
            );
        }
    }
    state.metrics.decision(Outcome::Allow);

    // Account-level operations (ListStreams, DescribeLimits, …) act on the caller's account;
    // the upstream holds only the gateway's.
    if plan.resource.is_none() && caller.account() != Some(state.config.place.account.as_str()) {
        if plan.operation == "ListStreams" {
            return json_answer(&json!({
                "StreamNames": [], "HasMoreStreams": false, "StreamSummaries": []
            }));
        }
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgumentException",
            &format!(
                "{} acts on the caller's account; this gateway serves account {} only",
                plan.operation, state.config.place.account
            ),
        );
    }

    // 4. Serve or forward.
    match plan.handling {
        Handling::PutResourcePolicy => put_policy(state, &parts.headers, &plan, &value).await,
        Handling::GetResourcePolicy => get_policy(state, &live, &plan).await,
        Handling::DeleteResourcePolicy => delete_policy(state, &live, &plan).await,
        Handling::Forward => {
            let request = Forwarded {
                uri: &parts.uri,
                headers: &parts.headers,
                body,
                cbor,
            };
            forward(state, request, &plan, &value).await
        }
    }
}

/// The operation of `X-Amz-Target`, after checking the content type.
fn target(headers: &HeaderMap) -> Result<&str, Refusal> {
    let ct_main = content_type(headers);
    let known = [JSON_11, "application/json", CBOR_11];
    if !known.iter().any(|k| ct_main.eq_ignore_ascii_case(k)) {
        let ct = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "SerializationException",
            message: format!(
                "Content-Type `{ct}` is not supported: the gateway speaks the JSON protocol \
                 ({JSON_11}) and the CBOR protocol ({CBOR_11})"
            ),
        });
    }
    let t = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match t.strip_prefix(TARGET_PREFIX) {
        Some(op) if !op.is_empty() => Ok(op),
        _ => Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "UnknownOperationException",
            message: format!(
                "X-Amz-Target `{t}` is not a Kinesis operation ({TARGET_PREFIX}<Operation>)"
            ),
        }),
    }
}

/// The keys AWS gives every request, the caller's tags and the operation's own keys.
fn add_context(
    request: &mut Request,
    peer: SocketAddr,
    secure: bool,
    plan: &Plan,
    tags: Option<&std::collections::BTreeMap<String, String>>,
    region: &str,
) {
    let ctx = &mut request.context;
    let one = |s: Scalar| ContextValue::One(s);
    ctx.insert("aws:SourceIp", one(Scalar::ip(peer.ip())));
    // True only for a request that came to the gateway over TLS (`--tls-cert`).
    ctx.insert("aws:SecureTransport", one(Scalar::bool(secure)));
    // The gateway's clock, always: a client cannot give these keys.
    for (k, v) in time_keys(Instant::from_system_time(SystemTime::now())) {
        ctx.insert(k, v);
    }
    ctx.insert("aws:RequestedRegion", one(Scalar::string(region)));
    if let Some(tags) = tags {
        for (k, v) in tags {
            ctx.insert(
                &format!("aws:PrincipalTag/{k}"),
                one(Scalar::string(v.as_str())),
            );
        }
    }
    for (k, v) in &plan.context {
        ctx.insert(k, v.clone());
    }
}

/// AWS's wording: "User: P is not authorized to perform: A on resource: R because …".
fn deny_message(principal: &str, check: &Check, d: &Decision, sem: &Semantics) -> String {
    let action = &check.action;
    let mut resource = check.resource.clone();
    for r in &check.extra_resources {
        resource.push_str(" and ");
        resource.push_str(r);
    }
    let reason = match d.decision {
        Outcome::ExplicitDeny => {
            let kind = d
                .determining
                .first()
                .map(|s| match s.policy_type {
                    PolicyType::Identity => "an identity-based policy",
                    PolicyType::Boundary => "a permissions boundary",
                    PolicyType::Session => "a session policy",
                    PolicyType::Scp => "a service control policy",
                    PolicyType::Rcp => "a resource control policy",
                    PolicyType::Resource | PolicyType::KinesisResource => "a resource-based policy",
                    PolicyType::RoleTrust => "a role trust policy",
                })
                .unwrap_or("a policy");
            format!("with an explicit deny in {kind}")
        }
        _ => match d.blocked_by {
            Some(Layer::Identity) => {
                format!("because no identity-based policy allows the {action} action")
            }
            Some(Layer::ResourcePolicy | Layer::CrossAccount) => {
                format!("because no resource-based policy allows the {action} action")
            }
            Some(Layer::Boundary) => {
                format!("because no permissions boundary allows the {action} action")
            }
            Some(Layer::Session) => format!("because no session policy allows the {action} action"),
            Some(Layer::Scp) => {
                format!("because no service control policy allows the {action} action")
            }
            Some(Layer::Rcp) => {
                format!("because no resource control policy allows the {action} action")
            }
            Some(Layer::Request) => {
                "because the request lacks a resource the action requires".into()
            }
            None => format!("because no policy allows the {action} action"),
        },
    };
    let mut msg = format!(
        "User: {principal} is not authorized to perform: {action} on resource: {resource} {reason}"
    );
    if let Some(w) = wildcard_only_reason(action, d, sem) {
        msg.push_str("; ");
        msg.push_str(&w);
    }
    if !d.errors.is_empty() {
        msg.push_str(" (condition errors: ");
        msg.push_str(
            &d.errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        );
        msg.push(')');
    }
    msg
}

#[cfg(test)]
mod tests;
