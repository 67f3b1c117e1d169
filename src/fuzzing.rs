//! Entry points for the fuzz targets (`fuzz/`, `cargo fuzz`) and their regression tests
//! (`tests/fuzz_regressions.rs`): thin wrappers over readers that are crate-private (the
//! gateway's credentials file, SigV4 verification and Kinesis mapping; the server's batch
//! body). Not a stable API; hidden from the documentation.

#[cfg(feature = "server")]
pub use server_bodies::*;

#[cfg(feature = "gateway")]
pub use gateway::*;

/// The CloudTrail record splitter of `iamc replay`, fed `data` in pieces of `chunk` bytes: the
/// records' bytes and the problems' reasons.
#[cfg(feature = "replay")]
pub fn cloudtrail_records(data: &[u8], chunk: usize) -> (Vec<Vec<u8>>, Vec<&'static str>) {
    let b = crate::replay::read::split_all(data, chunk);
    let records = b.records().map(<[u8]>::to_vec).collect();
    (records, b.problems.iter().map(|p| p.0).collect())
}

#[cfg(feature = "server")]
mod server_bodies {
    use crate::request::RequestJson;

    /// The requests of a `POST /v1/authorize/batch` body, as the server reads them: the batch
    /// shape (`{"requests": [...]}` or an array), then each item as a [`RequestJson`]. An item
    /// that is not a request is `Err` with the server's message; a body that is not a batch is
    /// the outer `Err`.
    pub fn batch_requests(body: &[u8]) -> Result<Vec<Result<RequestJson, String>>, String> {
        let items = crate::server::http::batch_items(body).map_err(|e| e.to_string())?;
        Ok(items
            .into_iter()
            .map(|raw| {
                serde_json::from_str::<RequestJson>(raw.get())
                    .map_err(|e| format!("not a request: {e}"))
            })
            .collect())
    }
}

#[cfg(feature = "gateway")]
mod gateway {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use hyper::http::header::{HeaderName, HeaderValue};
    use hyper::HeaderMap;

    use crate::diag::Diagnostic;
    use crate::gateway::credentials::Credentials;
    use crate::gateway::ops::{self, Place};
    use crate::gateway::sigv4::{self, Auth, VerifyOptions};

    pub use crate::gateway::ops::{Check, Plan};

    /// Reads a credentials file's text: the number of access keys and the warnings, or every
    /// error.
    pub fn credentials(text: &str) -> Result<(usize, Vec<Diagnostic>), Vec<Diagnostic>> {
        let c = Credentials::from_str(text)?;
        for cred in c.iter() {
            // Debug output never shows a secret (as a quoted string: a short secret may be a
            // piece of the access key id or the principal).
            let shown = format!("{cred:?}");
            assert!(
                !shown.contains(&format!("{:?}", cred.secret())),
                "a credential's Debug output shows its secret"
            );
        }
        Ok((c.len(), c.warnings().to_vec()))
    }

    /// The credentials [`sigv4_verify`] checks against: two keys, one with a session token.
    pub const FUZZ_CREDENTIALS: &str = r#"{"version": 1, "keys": {
  "AKIAFUZZ000000000001": {"secret": "fuzz-secret-1",
    "principal": "arn:aws:iam::111122223333:user/fuzz"},
  "ASIAFUZZ000000000002": {"secret": "fuzz-secret-2", "session_token": "tok",
    "principal": "arn:aws:sts::111122223333:assumed-role/R/s"}}}"#;

    /// Parses `YYYYMMDDTHHMMSSZ` as the gateway does (seconds since the epoch).
    pub fn parse_amz_date(text: &str) -> Option<i64> {
        sigv4::parse_amz_date(text)
    }

    /// Formats seconds since the epoch as `YYYYMMDDTHHMMSSZ`.
    pub fn format_amz_date(secs: i64) -> String {
        sigv4::format_amz_date(secs)
    }

    /// Verifies a request's SigV4 signature as the gateway does, against
    /// [`FUZZ_CREDENTIALS`], in `us-east-1`, with the clock at the request's own `X-Amz-Date`
    /// (so the skew check passes and the signature is recomputed). Header lines that are not a
    /// valid name and value are skipped. `Ok(true)`: signed and valid; `Ok(false)`: anonymous;
    /// `Err`: the error code and message.
    pub fn sigv4_verify(
        method: &str,
        path_and_query: &str,
        headers: &[(&[u8], &[u8])],
        body: &[u8],
    ) -> Result<bool, String> {
        let creds = match Credentials::from_str(FUZZ_CREDENTIALS) {
            Ok(c) => c,
            Err(e) => return Err(format!("bad fuzz credentials: {e:?}")),
        };
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
            else {
                continue;
            };
            map.append(n, v);
        }
        let now = map
            .get("x-amz-date")
            .and_then(|v| v.to_str().ok())
            .and_then(sigv4::parse_amz_date)
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| UNIX_EPOCH + Duration::from_secs(s))
            .unwrap_or_else(SystemTime::now);
        let opts = VerifyOptions::default();
        match sigv4::verify(method, path_and_query, &map, body, now, &creds, &opts) {
            Ok(Auth::Anonymous) => Ok(false),
            Ok(Auth::Signed { .. }) => Ok(true),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Maps a Kinesis request (operation name, JSON body) to its checks as the gateway does,
    /// for a caller in `caller_account`, with the gateway in `us-east-1`, account
    /// `111122223333`; one shard iterator (`known-iterator`) is known.
    pub fn kinesis_plan(
        operation: &str,
        body: &serde_json::Value,
        caller_account: Option<&str>,
    ) -> Result<Plan, String> {
        let place = Place {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
        };
        let known = (body
            .get("ShardIterator")
            .and_then(serde_json::Value::as_str)
            == Some("known-iterator"))
        .then_some("arn:aws:kinesis:us-east-1:111122223333:stream/known");
        ops::plan(operation, body, caller_account, &place, known)
            .map_err(|e| format!("{}: {}", e.code, e.message))
    }
}
