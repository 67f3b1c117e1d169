//! Forwarding to the upstream: the request as sent or re-signed, ARNs rewritten between the
//! gateway's account and the upstream's, and what a successful answer changes (mirrored tags,
//! forgotten policies).

use super::*;
use crate::gateway::state::Change;

/// Replaces `:{from}:stream/` by `:{to}:stream/` (ARNs of one account to the other's); a body
/// with none is passed on as is, without a copy.
pub(super) fn rewrite_accounts(body: Bytes, from: &str, to: &str) -> Bytes {
    if from == to {
        return body;
    }
    let needle = format!(":{from}:stream/");
    match std::str::from_utf8(&body) {
        Ok(s) if s.contains(&needle) => Bytes::from(s.replace(&needle, &format!(":{to}:stream/"))),
        _ => body,
    }
}

/// The stream name to add from `StreamARN`, when the operation takes a name and the client
/// gave only the ARN ([`ops::takes_stream_name`]).
fn stream_name_of<'v>(operation: &str, value: &'v Value) -> Option<&'v str> {
    if !ops::takes_stream_name(operation) || value.get("StreamName").is_some() {
        return None;
    }
    let arn = value.get("StreamARN")?.as_str()?;
    Some(arn.split_once(":stream/")?.1)
}

/// The body with `StreamName` added from `StreamARN` ([`stream_name_of`]); `None` when
/// nothing changes.
pub(super) fn with_stream_name(operation: &str, value: &Value) -> Option<Bytes> {
    let name = stream_name_of(operation, value)?;
    let mut v = value.clone();
    v.as_object_mut()?
        .insert("StreamName".into(), Value::String(name.to_string()));
    Some(Bytes::from(v.to_string()))
}

/// An upstream error's `message` with the upstream's account id replaced by the gateway's
/// (kinesalite says "Stream x under account 000000000000 not found."). Only the message
/// field is touched: elsewhere a 12-digit run may be data.
pub(super) fn rewrite_error_message(body: Bytes, from: &str, to: &str) -> Bytes {
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
pub(super) fn skip_header(name: &HeaderName) -> bool {
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

/// A request to forward, as the client sent it.
pub(super) struct Forwarded<'a> {
    pub(super) uri: &'a Uri,
    pub(super) headers: &'a HeaderMap,
    pub(super) body: Bytes,
    /// Its body is CBOR ([`crate::gateway::cbor`]), not JSON.
    pub(super) cbor: bool,
}

pub(super) async fn forward(
    state: &State,
    req: Forwarded<'_>,
    plan: &Plan,
    value: &Value,
) -> Answer {
    let cfg = &state.config;
    let Forwarded {
        uri,
        headers,
        body,
        cbor,
    } = req;
    let (from, to) = (&cfg.place.account, &cfg.upstream_account);
    let up_body = if cbor {
        let body = stream_name_of(&plan.operation, value)
            .and_then(|name| cbor::with_stream_name(&body, name))
            .unwrap_or(body);
        cbor::rewrite_accounts(body, from, to)
    } else {
        let body = match with_stream_name(&plan.operation, value) {
            Some(b) => b,
            None => body,
        };
        rewrite_accounts(body, from, to)
    };
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut out_headers = HeaderMap::new();
    for (k, v) in headers {
        if !skip_header(k) {
            out_headers.append(k, v.clone());
        }
    }
    state.metrics.forwarded();
    let (rparts, rbody) = match send_upstream(state, out_headers, pq, up_body).await {
        Ok(r) => r,
        Err(a) => return a,
    };
    // The answer's protocol is the one it says (an upstream may answer a CBOR request's
    // error in JSON).
    let cbor_answer = rparts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim().eq_ignore_ascii_case(CBOR_11));
    let mut rbody = if cbor_answer {
        cbor::rewrite_accounts(rbody, to, from)
    } else {
        rewrite_accounts(rbody, to, from)
    };
    if !rparts.status.is_success() {
        rbody = if cbor_answer {
            cbor::rewrite_error_message(rbody, to, from)
        } else {
            rewrite_error_message(rbody, to, from)
        };
    }
    if rparts.status.is_success() {
        if matches!(plan.operation.as_str(), "GetShardIterator" | "GetRecords") {
            rbody = seal_iterators(state, plan, rbody, cbor_answer);
        }
        if cbor_answer {
            // What the gateway remembers of an answer it reads as JSON.
            let json = cbor::decode(&rbody)
                .map(|v| Bytes::from(v.to_string()))
                .unwrap_or_default();
            after_success(state, plan, value, &json).await;
        } else {
            after_success(state, plan, value, &rbody).await;
        }
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
pub(super) async fn send_upstream(
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
        state.metrics.upstream_error();
        aws_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", &m)
    };
    let started = std::time::Instant::now();
    // The timeout covers the whole answer, its body included: an upstream that sends its
    // headers and then trickles (or stalls) its body would otherwise hold the request for ever.
    let exchange = async {
        let resp = state
            .client
            .request(up)
            .await
            .map_err(|e| format!("the upstream {} failed: {}", cfg.upstream, chain(&e)))?;
        let (rparts, rbody) = resp.into_parts();
        match Limited::new(rbody, cfg.max_upstream_bytes).collect().await {
            Ok(b) => Ok((rparts, b.to_bytes())),
            Err(e) => Err(format!("cannot read the upstream's answer: {e}")),
        }
    };
    match tokio::time::timeout(cfg.upstream_timeout, exchange).await {
        Ok(Ok(answer)) => {
            state.metrics.upstream_answered(started.elapsed());
            Ok(answer)
        }
        Ok(Err(m)) => Err(unavailable(m)),
        Err(_) => Err(unavailable(format!(
            "the upstream {} did not answer within {:?}",
            cfg.upstream, cfg.upstream_timeout
        ))),
    }
}

/// The answer of `GetShardIterator` or `GetRecords` with the upstream's iterator replaced by
/// the gateway's sealed one ([`crate::gateway::iterator`]), which names the stream.
pub(super) fn seal_iterators(state: &State, plan: &Plan, answer: Bytes, cbor: bool) -> Bytes {
    let Some(stream) = plan.resource.as_deref() else {
        return answer;
    };
    if cbor {
        let fields = ["ShardIterator", "NextShardIterator"];
        return cbor::replace_text_fields(&answer, &fields, |it| {
            state.iterator_key.seal(stream, it)
        })
        .unwrap_or(answer);
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(&answer) else {
        return answer;
    };
    let mut changed = false;
    for field in ["ShardIterator", "NextShardIterator"] {
        if let Some(Value::String(it)) = v.get_mut(field) {
            *it = state.iterator_key.seal(stream, it);
            changed = true;
        }
    }
    if changed {
        Bytes::from(v.to_string())
    } else {
        answer
    }
}

/// What a successful upstream answer changes in the gateway: tags to mirror, a deleted
/// stream's policies and tags to forget.
/// An error with its causes ("client error (Connect): invalid peer certificate: …"): hyper's
/// own says only which step failed.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// What a successful upstream answer changes in the gateway: shard iterators to remember, tags
/// to mirror, a deleted stream's policies and tags to forget.
pub(super) async fn after_success(state: &State, plan: &Plan, request: &Value, answer: &[u8]) {
    let Some(resource) = plan.resource.clone() else {
        return;
    };
    match plan.operation.as_str() {
        "AddTagsToStream" | "TagResource" | "CreateStream" => {
            let tags = ops::tags_of(request);
            if !tags.is_empty() {
                mirror(
                    state,
                    Change::AddTags {
                        arn: resource,
                        tags,
                    },
                )
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
                mirror(
                    state,
                    Change::AddTags {
                        arn: consumer,
                        tags,
                    },
                )
                .await;
            }
        }
        "RemoveTagsFromStream" | "UntagResource" => {
            let keys = ops::tag_keys_of(request);
            mirror(
                state,
                Change::RemoveTags {
                    arn: resource,
                    keys,
                },
            )
            .await;
        }
        "DeleteStream" => mirror(state, Change::Forget { arn: resource }).await,
        _ => {}
    }
}

/// Writes a mirrored change to the shared state (and the engine). A failure is reported on
/// standard error: the upstream has already done the change.
pub(super) async fn mirror(state: &State, change: Change) {
    if let Err(e) = crate::gateway::state::write(state, change.clone()).await {
        eprintln!(
            "iamc gateway: error: cannot mirror the change of {}: {e:?}",
            change.arn()
        );
    }
}
