//! Errors as JSON with stable codes: `{"error": {"code": "…", "message": "…"}}`.

use hyper::StatusCode;
use serde_json::{json, Value};

use crate::diag::Diagnostic;

/// The stable error codes of the HTTP API. A code never changes meaning; new ones may be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 400: the body is not JSON (syntax error, truncated, empty, not UTF-8).
    InvalidJson,
    /// 400: the body is JSON but not a request: a missing or mistyped field, a principal that
    /// is not an ARN, a bad context value, an empty action or resource, a bad query parameter.
    InvalidRequest,
    /// 400: the body could not be read (the connection broke, a malformed chunk).
    BodyUnreadable,
    /// 401: `PUT /v1/store` without the admin bearer token the server was started with.
    Unauthorized,
    /// 403: `PUT /v1/store` on a server started without writes (neither an admin token nor
    /// unauthenticated writes); the message says how to enable them.
    WritesDisabled,
    /// 403: the Envoy mapping cannot build a request (no route matches, a value is missing).
    Unmappable,
    /// 404: no such route (or the Envoy endpoint without a mapping file).
    NotFound,
    /// 405: the route exists but not with this method (the `Allow` header lists the methods).
    MethodNotAllowed,
    /// 413: the body is larger than the server's bound.
    BodyTooLarge,
    /// 413: a batch has more requests than the server's bound.
    BatchTooLarge,
    /// 422: a store given to `PUT /v1/store` failed validation; `findings` lists why. The old
    /// store keeps serving.
    StoreInvalid,
    /// 500: a bug: the request handler failed. The server keeps serving.
    Internal,
    /// 503: no store has compiled yet.
    NotReady,
    /// 503: the request took longer than the server's time bound.
    Timeout,
    /// 503: the batches in flight already use the server's batch memory budget
    /// (`--max-batch-memory`); the `Retry-After` header says when to try again.
    Overloaded,
}

impl ErrorCode {
    /// Every code, in the order of `ErrorCode::index`.
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::InvalidJson,
        ErrorCode::InvalidRequest,
        ErrorCode::BodyUnreadable,
        ErrorCode::Unauthorized,
        ErrorCode::WritesDisabled,
        ErrorCode::Unmappable,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::BodyTooLarge,
        ErrorCode::BatchTooLarge,
        ErrorCode::StoreInvalid,
        ErrorCode::Internal,
        ErrorCode::NotReady,
        ErrorCode::Timeout,
        ErrorCode::Overloaded,
    ];

    /// The code as it appears in responses and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::BodyUnreadable => "body_unreadable",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::WritesDisabled => "writes_disabled",
            ErrorCode::Unmappable => "unmappable",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::BatchTooLarge => "batch_too_large",
            ErrorCode::StoreInvalid => "store_invalid",
            ErrorCode::Internal => "internal",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Overloaded => "overloaded",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidJson | ErrorCode::InvalidRequest | ErrorCode::BodyUnreadable => {
                StatusCode::BAD_REQUEST
            }
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Unmappable | ErrorCode::WritesDisabled => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BodyTooLarge | ErrorCode::BatchTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::StoreInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::NotReady | ErrorCode::Timeout | ErrorCode::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// Position in [`ErrorCode::ALL`] (for metrics).
    pub(crate) fn index(self) -> usize {
        ErrorCode::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or_default()
    }
}

/// An API error: a code, a message, and for a refused store its findings.
#[derive(Clone, Debug)]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// The findings of a refused store (errors first, then warnings).
    pub findings: Vec<Diagnostic>,
    /// For 405: the methods the route takes.
    pub allow: Option<&'static str>,
    /// For 503 `overloaded`: seconds to wait before trying again (the `Retry-After` header).
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            findings: Vec::new(),
            allow: None,
            retry_after: None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut e = json!({"code": self.code.as_str(), "message": self.message});
        if !self.findings.is_empty() {
            e["findings"] = serde_json::to_value(&self.findings).unwrap_or(Value::Null);
        }
        json!({ "error": e })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}
