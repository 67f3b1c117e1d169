//! One request through the gateway: authenticate, map, authorize, then serve or forward.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request as HttpRequest, Response, StatusCode, Uri};
use serde_json::{json, Value};

use super::ops::{self, Check, Handling, Plan};
use super::sigv4::{self, Auth};
use super::{build_live, parse_resource_policy, Live, State};
use crate::ast::{Instant, PolicyType};
use crate::eval::flow::wildcard_only_reason;
use crate::eval::{Decision, Layer, Outcome};
use crate::request::{time_keys, Caller, ContextValue, Request, Scalar};
use crate::semantics::Semantics;

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

/// Entry point for hyper. The request runs inside [`crate::server::CatchUnwind`], so that even
/// a bug that panics answers 500 and leaves the connection and the gateway serving.
pub(super) async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    req: HttpRequest<Incoming>,
) -> Result<Answer, Infallible> {
    Ok(
        match crate::server::CatchUnwind::new(route(state, peer, req)).await {
            Ok(a) => a,
            Err(e) => aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                &format!("the gateway failed on this request: {e}"),
            ),
        },
    )
}

async fn route(state: Arc<State>, peer: SocketAddr, req: HttpRequest<Incoming>) -> Answer {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/-/status") => status(&state).await,
        (&Method::POST, "/") => kinesis(&state, peer, req).await,
        (_, "/") => aws_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnknownOperationException",
            "the Kinesis API takes POST /",
        ),
        _ => aws_error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            "not found: the Kinesis API is POST /, the gateway's status GET /-/status",
        ),
    }
}

async fn status(state: &State) -> Answer {
    let live = state.live.load_full();
    let (revision, policies) = {
        let w = state.writer.lock().await;
        (
            w.db.revision().unwrap_or_default(),
            w.overlay.policies.len(),
        )
    };
    let c = &state.counters;
    json_answer(&json!({
        "store_version": live.version,
        "revision": revision,
        "policies": policies,
        "credentials": live.credentials.len(),
        "requests": c.requests.load(Ordering::Relaxed),
        "allowed": c.allowed.load(Ordering::Relaxed),
        "denied": c.denied.load(Ordering::Relaxed),
        "forwarded": c.forwarded.load(Ordering::Relaxed),
        "upstream_errors": c.upstream_errors.load(Ordering::Relaxed),
    }))
}

/// The account in an ARN (`arn:partition:service:region:ACCOUNT:…`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

async fn kinesis(state: &State, peer: SocketAddr, req: HttpRequest<Incoming>) -> Answer {
    state.counters.requests.fetch_add(1, Ordering::Relaxed);
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
    let read = Limited::new(body, state.config.max_body_bytes).collect();
    let body = match tokio::time::timeout(state.config.body_timeout, read).await {
        Err(_) => {
            return aws_error(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                &format!(
                    "the request body did not arrive within {:?}",
                    state.config.body_timeout
                ),
            )
        }
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => {
            let too_big = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            return if too_big {
                aws_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "SerializationException",
                    &format!(
                        "the request body is larger than the gateway's limit of {} bytes",
                        state.config.max_body_bytes
                    ),
                )
            } else {
                aws_error(
                    StatusCode::BAD_REQUEST,
                    "SerializationException",
                    &format!("cannot read the request body: {e}"),
                )
            };
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
    let plan = if operation == "GetRecords" {
        // Only GetRecords reads the iterator cache: other requests do not take its lock.
        let iterators = match state.iterators.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        ops::plan(operation, &value, account, &state.config.place, &iterators)
    } else {
        let none = ops::IteratorCache::default();
        ops::plan(operation, &value, account, &state.config.place, &none)
    };
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return aws_error(StatusCode::BAD_REQUEST, e.code, &e.message),
    };
    // 3. Is it allowed.
    for check in &plan.checks {
        let mut request =
            Request::new(caller.clone(), check.action.clone(), check.resource.clone());
        request.extra_resources = check.extra_resources.clone();
        add_context(&mut request, peer, &plan, tags, &state.config.place.region);
        let decision = live.authorizer.authorize(&request);
        if decision.decision != Outcome::Allow {
            state.counters.denied.fetch_add(1, Ordering::Relaxed);
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
            state.counters.denied.fetch_add(1, Ordering::Relaxed);
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
    state.counters.allowed.fetch_add(1, Ordering::Relaxed);

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
        Handling::Forward => forward(state, &parts.uri, &parts.headers, body, &plan, &value).await,
    }
}

/// The operation of `X-Amz-Target`, after checking the content type.
fn target(headers: &HeaderMap) -> Result<&str, Refusal> {
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ct_main = ct.split(';').next().unwrap_or("").trim();
    if !ct_main.eq_ignore_ascii_case(JSON_11) && !ct_main.eq_ignore_ascii_case("application/json") {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "SerializationException",
            message: format!(
                "Content-Type `{ct}` is not supported: the gateway speaks the JSON protocol \
                 ({JSON_11}); turn CBOR off in the client (e.g. AWS_CBOR_DISABLE=1)"
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
    plan: &Plan,
    tags: Option<&std::collections::BTreeMap<String, String>>,
    region: &str,
) {
    let ctx = &mut request.context;
    let one = |s: Scalar| ContextValue::One(s);
    ctx.insert("aws:SourceIp", one(Scalar::ip(peer.ip())));
    // The listener is plain HTTP.
    ctx.insert("aws:SecureTransport", one(Scalar::bool(false)));
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

fn invalid(message: &str) -> Answer {
    aws_error(StatusCode::BAD_REQUEST, "InvalidArgumentException", message)
}

async fn put_policy(state: &State, headers: &HeaderMap, plan: &Plan, body: &Value) -> Answer {
    let arn = plan.resource.clone().unwrap_or_default();
    // A policy for a stream or consumer the upstream does not have would grant the moment one
    // is created under that name: refused as Kinesis refuses it.
    if let Err(answer) = exists_upstream(state, headers, &arn).await {
        return answer;
    }
    let Some(text) = body.get("Policy").and_then(Value::as_str) else {
        return invalid("PutResourcePolicy needs Policy, the policy as a JSON string");
    };
    let doc = match parse_resource_policy(&arn, text) {
        Ok(d) => d,
        Err(errs) => {
            return invalid(&format!(
                "the policy for {arn} is not valid: {}",
                errs.join("; ")
            ))
        }
    };
    let mut writer = state.writer.lock().await;
    let live = state.live.load_full();
    if live.base.resource(&arn).is_some_and(|r| r.policy.is_some()) {
        return invalid(&format!(
            "the policy of {arn} is set in the store file {}; change it there",
            state.config.store.display()
        ));
    }
    // Compile with the new policy first, then commit, then swap: a policy is effective for the
    // next request once it is acknowledged, and never acknowledged before it is on disk.
    let mut overlay = writer.overlay.clone();
    overlay
        .policies
        .insert(arn.clone(), (text.to_string(), Arc::clone(&doc)));
    // Only the new policy is compiled: every other set is shared with the live engine.
    let next = live.with_resource_policy(&arn, Some(doc));
    let w = &mut *writer;
    if let Err(e) = tokio::task::block_in_place(|| w.db.put_policy(&arn, text)) {
        return aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("the policy was not stored: {e}"),
        );
    }
    w.overlay = overlay;
    state.live.store(Arc::new(next));
    json_answer(&json!({}))
}

async fn get_policy(state: &State, live: &Live, plan: &Plan) -> Answer {
    let arn = plan.resource.clone().unwrap_or_default();
    if let Some(p) = live.base.resource(&arn).and_then(|r| r.policy.as_ref()) {
        return json_answer(&json!({"Policy": crate::parse::policy_to_json(&p.policy)}));
    }
    let writer = state.writer.lock().await;
    let text = writer
        .overlay
        .policies
        .get(&arn)
        .map(|(t, _)| t.clone())
        .unwrap_or_else(|| "{}".to_string());
    json_answer(&json!({ "Policy": text }))
}

async fn delete_policy(state: &State, live: &Live, plan: &Plan) -> Answer {
    let arn = plan.resource.clone().unwrap_or_default();
    if live.base.resource(&arn).is_some_and(|r| r.policy.is_some()) {
        return invalid(&format!(
            "the policy of {arn} is set in the store file {}; change it there",
            state.config.store.display()
        ));
    }
    let mut writer = state.writer.lock().await;
    if !writer.overlay.policies.contains_key(&arn) {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            &format!("no resource policy is attached to {arn}"),
        );
    }
    let live = state.live.load_full();
    let mut overlay = writer.overlay.clone();
    overlay.policies.remove(&arn);
    let next = live.with_resource_policy(&arn, None);
    let w = &mut *writer;
    if let Err(e) = tokio::task::block_in_place(|| w.db.delete_policy(&arn)) {
        return aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("the policy was not deleted: {e}"),
        );
    }
    w.overlay = overlay;
    state.live.store(Arc::new(next));
    json_answer(&json!({}))
}

/// A new [`Live`] with the same files and another overlay.
fn rebuild(state: &State, live: &Live, overlay: &super::Overlay) -> Result<Live, Refusal> {
    build_live(
        live.version,
        Arc::clone(&live.base),
        Arc::clone(&live.credentials),
        overlay,
        state.config.semantics.clone(),
    )
    .map_err(|e| Refusal {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "InternalFailure",
        message: e.0,
    })
}

/// Replaces `:{from}:stream/` by `:{to}:stream/` (ARNs of one account to the other's); a body
/// with none is passed on as is, without a copy.
fn rewrite_accounts(body: Bytes, from: &str, to: &str) -> Bytes {
    if from == to {
        return body;
    }
    let needle = format!(":{from}:stream/");
    match std::str::from_utf8(&body) {
        Ok(s) if s.contains(&needle) => Bytes::from(s.replace(&needle, &format!(":{to}:stream/"))),
        _ => body,
    }
}

/// The body with `StreamName` added from `StreamARN`, when the operation takes a name and the
/// client gave only the ARN ([`ops::takes_stream_name`]); `None` when nothing changes.
fn with_stream_name(operation: &str, value: &Value) -> Option<Bytes> {
    if !ops::takes_stream_name(operation) || value.get("StreamName").is_some() {
        return None;
    }
    let arn = value.get("StreamARN")?.as_str()?;
    let name = arn.split_once(":stream/")?.1;
    let mut v = value.clone();
    v.as_object_mut()?
        .insert("StreamName".into(), Value::String(name.to_string()));
    Some(Bytes::from(v.to_string()))
}

/// An upstream error's `message` with the upstream's account id replaced by the gateway's
/// (kinesalite says "Stream x under account 000000000000 not found."). Only the message
/// field is touched: elsewhere a 12-digit run may be data.
fn rewrite_error_message(body: Bytes, from: &str, to: &str) -> Bytes {
    let Ok(mut v) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let mut changed = false;
    if let Some(obj) = v.as_object_mut() {
        for key in ["message", "Message"] {
            if let Some(Value::String(m)) = obj.get_mut(key) {
                if m.contains(from) {
                    *m = m.replace(from, to);
                    changed = true;
                }
            }
        }
    }
    if changed {
        Bytes::from(v.to_string())
    } else {
        body
    }
}

/// Hop-by-hop headers, which a proxy does not pass on, and those it sets itself.
fn skip_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "content-length"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
    )
}

async fn forward(
    state: &State,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    plan: &Plan,
    value: &Value,
) -> Answer {
    let cfg = &state.config;
    let body = match with_stream_name(&plan.operation, value) {
        Some(b) => b,
        None => body,
    };
    let up_body = rewrite_accounts(body, &cfg.place.account, &cfg.upstream_account);
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut out_headers = HeaderMap::new();
    for (k, v) in headers {
        if !skip_header(k) {
            out_headers.append(k, v.clone());
        }
    }
    state.counters.forwarded.fetch_add(1, Ordering::Relaxed);
    let (rparts, rbody) = match send_upstream(state, out_headers, pq, up_body).await {
        Ok(r) => r,
        Err(a) => return a,
    };
    let mut rbody = rewrite_accounts(rbody, &cfg.upstream_account, &cfg.place.account);
    if !rparts.status.is_success() {
        rbody = rewrite_error_message(rbody, &cfg.upstream_account, &cfg.place.account);
    }
    if rparts.status.is_success() {
        after_success(state, plan, value, &rbody).await;
    }
    let mut out = Response::new(Full::new(rbody));
    *out.status_mut() = rparts.status;
    for (k, v) in &rparts.headers {
        if !skip_header(k) {
            out.headers_mut().append(k, v.clone());
        }
    }
    out
}

/// Sends a POST of `body` to the upstream at `pq` with `headers`: the client's signature as
/// is, or with [`super::Config::upstream_signer`] the gateway's own. Returns the upstream's
/// answer (its body bounded), or the gateway's answer when there is none (503 when the upstream
/// fails or is too slow).
async fn send_upstream(
    state: &State,
    mut headers: HeaderMap,
    pq: &str,
    body: Bytes,
) -> Result<(hyper::http::response::Parts, Bytes), Answer> {
    let cfg = &state.config;
    let target = format!("{}{}", cfg.upstream.to_string().trim_end_matches('/'), pq);
    if let Some(signer) = &cfg.upstream_signer {
        let host = cfg
            .upstream
            .authority()
            .map(|a| a.as_str())
            .unwrap_or_default();
        if let Err(e) = signer.sign(
            &mut headers,
            host,
            pq,
            &body,
            &cfg.place.region,
            "kinesis",
            SystemTime::now(),
        ) {
            return Err(aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                &e,
            ));
        }
    }
    let mut builder = hyper::Request::builder().method(Method::POST).uri(target);
    for (k, v) in &headers {
        builder = builder.header(k, v);
    }
    let up = builder.body(Full::new(body)).map_err(|e| {
        aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("cannot build the upstream request: {e}"),
        )
    })?;
    let unavailable = |m: String| {
        state
            .counters
            .upstream_errors
            .fetch_add(1, Ordering::Relaxed);
        aws_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", &m)
    };
    let resp = match tokio::time::timeout(cfg.upstream_timeout, state.client.request(up)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return Err(unavailable(format!(
                "the upstream {} failed: {e}",
                cfg.upstream
            )))
        }
        Err(_) => {
            return Err(unavailable(format!(
                "the upstream {} did not answer within {:?}",
                cfg.upstream, cfg.upstream_timeout
            )))
        }
    };
    let (rparts, rbody) = resp.into_parts();
    match Limited::new(rbody, cfg.max_upstream_bytes).collect().await {
        Ok(b) => Ok((rparts, b.to_bytes())),
        Err(e) => Err(unavailable(format!(
            "cannot read the upstream's answer: {e}"
        ))),
    }
}

/// What the upstream said to a describe call made to learn whether a resource exists.
enum Existence {
    Found,
    /// Its `ResourceNotFoundException`, as the client gets it.
    NotFound(Answer),
    /// The upstream does not have the operation (kinesalite has no enhanced fan-out).
    UnknownOperation,
}

/// Asks the upstream `operation` with `request` (ARNs already in the upstream's account) on
/// behalf of the client whose `headers` these are, signed as forwarded requests are.
async fn describe(
    state: &State,
    headers: &HeaderMap,
    what: &str,
    operation: &str,
    request: &Value,
) -> Result<Existence, Answer> {
    let cfg = &state.config;
    let mut out = HeaderMap::new();
    for (k, v) in headers {
        if !skip_header(k) && k.as_str() != "x-amz-target" && k != CONTENT_TYPE {
            out.append(k, v.clone());
        }
    }
    out.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_11));
    if let Ok(t) = HeaderValue::from_str(&format!("{TARGET_PREFIX}{operation}")) {
        out.insert(HeaderName::from_static("x-amz-target"), t);
    }
    let (parts, body) = send_upstream(state, out, "/", Bytes::from(request.to_string())).await?;
    if parts.status.is_success() {
        return Ok(Existence::Found);
    }
    let body = rewrite_error_message(
        rewrite_accounts(body, &cfg.upstream_account, &cfg.place.account),
        &cfg.upstream_account,
        &cfg.place.account,
    );
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let code = v
        .get("__type")
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t))
        .unwrap_or_default()
        .to_string();
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    match code.as_str() {
        "ResourceNotFoundException" => Ok(Existence::NotFound(aws_error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            &message,
        ))),
        "UnknownOperationException" => Ok(Existence::UnknownOperation),
        _ => {
            let hint = if cfg.upstream_signer.is_none() {
                " (an upstream that checks signatures needs the gateway to sign: --sign-upstream)"
            } else {
                ""
            };
            Err(aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                &format!(
                    "cannot learn whether {what} exists: the upstream answered {operation} with HTTP {} {code}: {message}{hint}",
                    parts.status.as_u16()
                ),
            ))
        }
    }
}

/// Whether the upstream has the stream or consumer `arn` (of the gateway's account): `Ok` when
/// it does, else the answer for the client (Kinesis's ResourceNotFoundException, or why it
/// could not be learnt). A consumer is asked with DescribeStreamConsumer; an upstream without
/// that operation (kinesalite) is asked only whether the consumer's stream exists.
async fn exists_upstream(state: &State, headers: &HeaderMap, arn: &str) -> Result<(), Answer> {
    let cfg = &state.config;
    let up = |a: &str| {
        a.replacen(
            &format!(":{}:", cfg.place.account),
            &format!(":{}:", cfg.upstream_account),
            1,
        )
    };
    let stream_arn = match arn.split_once("/consumer/") {
        Some((stream, _)) => {
            let asked = describe(
                state,
                headers,
                arn,
                "DescribeStreamConsumer",
                &json!({ "ConsumerARN": up(arn) }),
            )
            .await?;
            match asked {
                Existence::Found => return Ok(()),
                Existence::NotFound(a) => return Err(a),
                Existence::UnknownOperation => stream,
            }
        }
        None => arn,
    };
    let Some((_, name)) = stream_arn.split_once(":stream/") else {
        return Err(invalid(&format!(
            "{arn} is neither a stream nor a consumer ARN"
        )));
    };
    // By name: kinesalite reads only StreamName, and Kinesis resolves it in the account of the
    // signer, the upstream's.
    match describe(
        state,
        headers,
        arn,
        "DescribeStreamSummary",
        &json!({ "StreamName": name }),
    )
    .await?
    {
        Existence::Found => Ok(()),
        Existence::NotFound(a) => Err(a),
        Existence::UnknownOperation => Err(aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!(
                "cannot learn whether {arn} exists: the upstream does not know DescribeStreamSummary"
            ),
        )),
    }
}

/// What a successful upstream answer changes in the gateway: shard iterators to remember, tags
/// to mirror, a deleted stream's policies and tags to forget.
async fn after_success(state: &State, plan: &Plan, request: &Value, answer: &[u8]) {
    let Some(resource) = plan.resource.clone() else {
        return;
    };
    match plan.operation.as_str() {
        "GetShardIterator" | "GetRecords" => {
            let field = if plan.operation == "GetRecords" {
                "NextShardIterator"
            } else {
                "ShardIterator"
            };
            if let Ok(v) = serde_json::from_slice::<Value>(answer) {
                if let Some(it) = v.get(field).and_then(Value::as_str) {
                    let mut cache = match state.iterators.lock() {
                        Ok(g) => g,
                        Err(p) => p.into_inner(),
                    };
                    cache.remember(it, &resource);
                }
            }
        }
        "AddTagsToStream" | "TagResource" | "CreateStream" => {
            let tags = ops::tags_of(request);
            if !tags.is_empty() {
                mirror(state, &resource, |db, ov| {
                    db.add_tags(&resource, &tags)?;
                    let t = ov.tags.entry(resource.clone()).or_default();
                    for (k, v) in &tags {
                        t.insert(k.clone(), v.clone());
                    }
                    Ok(())
                })
                .await;
            }
        }
        "RegisterStreamConsumer" => {
            // The consumer's ARN (with its creation timestamp) is in the answer.
            let tags = ops::tags_of(request);
            let consumer = serde_json::from_slice::<Value>(answer).ok().and_then(|v| {
                v.pointer("/Consumer/ConsumerARN")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            if let (Some(consumer), false) = (consumer, tags.is_empty()) {
                mirror(state, &consumer, |db, ov| {
                    db.add_tags(&consumer, &tags)?;
                    let t = ov.tags.entry(consumer.clone()).or_default();
                    for (k, v) in &tags {
                        t.insert(k.clone(), v.clone());
                    }
                    Ok(())
                })
                .await;
            }
        }
        "RemoveTagsFromStream" | "UntagResource" => {
            let keys = ops::tag_keys_of(request);
            mirror(state, &resource, |db, ov| {
                db.remove_tags(&resource, &keys)?;
                if let Some(t) = ov.tags.get_mut(&resource) {
                    for k in &keys {
                        t.remove(k);
                    }
                }
                Ok(())
            })
            .await;
        }
        "DeleteStream" => {
            mirror(state, &resource, |db, ov| {
                db.forget_resource(&resource)?;
                let consumers = format!("{resource}/consumer/");
                ov.policies
                    .retain(|a, _| a != &resource && !a.starts_with(&consumers));
                ov.tags
                    .retain(|a, _| a != &resource && !a.starts_with(&consumers));
                Ok(())
            })
            .await;
        }
        _ => {}
    }
}

/// Applies a change to the database and the overlay, then swaps in a rebuilt engine. A failure
/// is reported on standard error: the upstream has already done the change.
async fn mirror(
    state: &State,
    resource: &str,
    change: impl FnOnce(&mut super::db::PolicyDb, &mut super::Overlay) -> Result<(), super::db::DbError>,
) {
    let mut writer = state.writer.lock().await;
    let w = &mut *writer;
    let mut overlay = w.overlay.clone();
    if let Err(e) = tokio::task::block_in_place(|| change(&mut w.db, &mut overlay)) {
        eprintln!("iamc gateway: error: cannot mirror the change of {resource}: {e}");
        return;
    }
    // The database has the change: the overlay follows it whatever happens next.
    w.overlay = overlay;
    let live = state.live.load_full();
    match rebuild(state, &live, &w.overlay) {
        Ok(next) => state.live.store(Arc::new(next)),
        Err(r) => eprintln!(
            "iamc gateway: error: after the change of {resource}: {}",
            r.message
        ),
    }
}

#[cfg(test)]
mod tests;
