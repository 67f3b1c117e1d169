//! The resource-policy API the gateway serves itself (Put/Get/DeleteResourcePolicy): checks,
//! the existence of the resource upstream, the database, and the incremental engine swap.

use super::*;
use crate::gateway::state::{Change, WriteError};

pub(super) fn invalid(message: &str) -> Answer {
    aws_error(StatusCode::BAD_REQUEST, "InvalidArgumentException", message)
}

pub(super) async fn put_policy(
    state: &State,
    headers: &HeaderMap,
    plan: &Plan,
    body: &Value,
) -> Answer {
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
    let live = state.live.load_full();
    if live.base.resource(&arn).is_some_and(|r| r.policy.is_some()) {
        return invalid(&format!(
            "the policy of {arn} is set in the store file {}; change it there",
            state.config.store.display()
        ));
    }
    // Compiled first: a policy the engine cannot take is refused before it is stored (and
    // every replica, which compiles it again, takes it).
    if let Err(e) = live.with_resource_policy(&arn, Some(Arc::clone(&doc))) {
        return invalid(&format!("the policy was not applied: {e}"));
    }
    // Acknowledged once it is stored and this gateway decides with it.
    let change = Change::PutPolicy {
        arn,
        text: text.to_string(),
        doc,
    };
    match crate::gateway::state::write(state, change).await {
        Ok(()) => json_answer(&json!({})),
        Err(e) => write_refused(e, "stored"),
    }
}

/// The answer for a write that was not done (or not acknowledged).
pub(super) fn write_refused(e: WriteError, what: &str) -> Answer {
    match e {
        WriteError::NoPolicy => aws_error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            "no resource policy is attached to the resource",
        ),
        // Retryable: SDKs retry HTTP 503 by themselves.
        WriteError::Unavailable(m) => aws_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            &format!("the policy was not {what}, retry: {m}"),
        ),
        WriteError::Failed(m) => aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            &format!("the policy was not {what}: {m}"),
        ),
    }
}

pub(super) async fn get_policy(state: &State, live: &Live, plan: &Plan) -> Answer {
    let arn = plan.resource.clone().unwrap_or_default();
    if let Some(p) = live.base.resource(&arn).and_then(|r| r.policy.as_ref()) {
        return json_answer(&json!({"Policy": crate::parse::policy_to_json(&p.policy)}));
    }
    let writer = state.live.lock().await;
    let text = writer
        .overlay
        .policies
        .get(&arn)
        .map(|(t, _)| t.clone())
        .unwrap_or_else(|| "{}".to_string());
    json_answer(&json!({ "Policy": text }))
}

pub(super) async fn delete_policy(state: &State, live: &Live, plan: &Plan) -> Answer {
    let arn = plan.resource.clone().unwrap_or_default();
    if live.base.resource(&arn).is_some_and(|r| r.policy.is_some()) {
        return invalid(&format!(
            "the policy of {arn} is set in the store file {}; change it there",
            state.config.store.display()
        ));
    }
    if !state.live.lock().await.overlay.policies.contains_key(&arn) {
        // With etcd another replica may have set it a moment ago: etcd decides.
        if matches!(state.shared, crate::gateway::state::Shared::Sqlite) {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "ResourceNotFoundException",
                &format!("no resource policy is attached to {arn}"),
            );
        }
    }
    match crate::gateway::state::write(state, Change::DeletePolicy { arn: arn.clone() }).await {
        Ok(()) => json_answer(&json!({})),
        Err(WriteError::NoPolicy) => aws_error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            &format!("no resource policy is attached to {arn}"),
        ),
        Err(e) => write_refused(e, "deleted"),
    }
}

/// What the upstream said to a describe call made to learn whether a resource exists.
pub(super) enum Existence {
    Found,
    /// Its `ResourceNotFoundException`, as the client gets it.
    NotFound(Answer),
    /// The upstream does not have the operation (kinesalite has no enhanced fan-out).
    UnknownOperation,
}

/// Asks the upstream `operation` with `request` (ARNs already in the upstream's account) on
/// behalf of the client whose `headers` these are, signed as forwarded requests are.
pub(super) async fn describe(
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
pub(super) async fn exists_upstream(
    state: &State,
    headers: &HeaderMap,
    arn: &str,
) -> Result<(), Answer> {
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
