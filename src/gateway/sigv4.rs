//! Verifying AWS Signature Version 4 on requests to the gateway (the `Authorization` header
//! form).
//!
//! The gateway does not implement SigV4 itself: it rebuilds the request a client signed and
//! signs it again with [`aws_sigv4`], the signer of the AWS SDK for Rust, then compares the two
//! signatures in constant time. [`verify`] decides one request:
//!
//! 1. No `Authorization` header and no presigning query parameters: [`Auth::Anonymous`].
//! 2. The `Authorization` header is parsed: `AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/REGION/
//!    SERVICE/aws4_request, SignedHeaders=a;b;c, Signature=HEX`. `host` and `x-amz-date` must be
//!    signed, and `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`, UTC) must be present, once.
//! 3. The scope must name the gateway's region and service ([`VerifyOptions`]) and the date of
//!    `X-Amz-Date`.
//! 4. The access key must be in the [`Credentials`]; when its entry has a `session_token`, the
//!    request's `X-Amz-Security-Token` must equal it (and a request for a key without one must
//!    carry none).
//! 5. `X-Amz-Date` must be within [`VerifyOptions::max_skew`] of `now` (AWS allows 5 minutes).
//! 6. The request is rebuilt with exactly the headers named in `SignedHeaders`, with their
//!    values as received (a header sent several times gives all its values, in order), and
//!    signed with aws-sigv4 at the time of `X-Amz-Date`, for the scope's region and service.
//!    The `SignedHeaders` aws-sigv4 computes must equal the received list, and the signatures
//!    must match.
//!
//! ## How the request is canonicalized
//!
//! aws-sigv4 is configured to produce the canonical request that AWS SDKs (botocore, the Java,
//! Go and Rust SDKs) sign for a non-S3 service:
//!
//! - `excluded_headers` is empty: aws-sigv4 by default leaves out `authorization`, `user-agent`,
//!   `x-amzn-trace-id` and `transfer-encoding`; the gateway hands it only the headers the client
//!   listed, so every listed header is signed and no other.
//! - `x-amz-date` is added by aws-sigv4 from the signing time, which is the received
//!   `X-Amz-Date` (parsed strictly, so it formats back to the same text).
//! - The session token is not part of the identity given to aws-sigv4 (so it adds no
//!   `x-amz-security-token` of its own): a client that signed `X-Amz-Security-Token` (botocore
//!   does) lists it in `SignedHeaders` and it is passed on like any other header. The mode
//!   stays `session_token_mode = Include`: `Exclude` would drop a listed
//!   `x-amz-security-token` from the signed headers. A client that did not sign the token is
//!   accepted too, as long as the token is the key's.
//! - Paths are normalized (RFC 3986 dot segments) and percent-encoded once more (`%` becomes
//!   `%25`), as every SDK but S3's does (`uri_path_normalization_mode = Enabled`,
//!   `percent_encoding_mode = Double`, aws-sigv4's defaults). The query string is decoded and
//!   re-encoded with AWS's rules and sorted. Kinesis requests are `POST /` without a query.
//! - The payload hash is the SHA-256 of the body as received (no `x-amz-content-sha256` is
//!   added); header values are trimmed and runs of spaces collapsed, as SigV4 says.
//!
//! ## Host
//!
//! `host` must be signed, and its value is the `Host` header as received (with its port, if
//! the client sent one). An HTTP/2 client may sign the `:authority` pseudo-header instead (the
//! AWS SDK for JavaScript v3 does, and AWS accepts it); its value is the request's authority.
//! aws-sigv4's request signer takes no pseudo-header, so such a signature is recomputed from a
//! canonical request built here (for `POST /` without a query, as every Kinesis request is)
//! with aws-sigv4's key derivation and HMAC. hyper leaves HTTP/1.1's `Host` in the header map, but an HTTP/2
//! request carries `:authority`, which hyper puts in the URI instead: the integrator must copy
//! the URI's authority into a `Host` header before calling [`verify`] (a request whose `Host`
//! is missing is refused). The gateway never substitutes its own host name: a client signs the
//! host it connects to.
//!
//! ## Errors
//!
//! Every failure is an [`AuthError`]; AWS's JSON protocol answers all of them with HTTP 400
//! and `{"__type": code, "message": message}`.
//!
//! | Code | When | Message |
//! | --- | --- | --- |
//! | [`UNRECOGNIZED_CLIENT`] | Unknown access key id; missing or wrong `X-Amz-Security-Token` for a key that has one; a token on a key that has none. | The security token included in the request is invalid. |
//! | [`INVALID_SIGNATURE`] | The signature (or the list of signed headers) does not match. | The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details. |
//! | [`INVALID_SIGNATURE`] | `X-Amz-Date` older than `now - max_skew`. | Signature expired: 20261126T130000Z is now earlier than 20261126T133500Z (20261126T134000Z - 5 min.) |
//! | [`INVALID_SIGNATURE`] | `X-Amz-Date` later than `now + max_skew`. | Signature not yet current: 20261126T140000Z is still later than 20261126T134500Z (20261126T134000Z + 5 min.) |
//! | [`INVALID_SIGNATURE`] | The scope's region is not the gateway's. | Credential should be scoped to a valid region. |
//! | [`INVALID_SIGNATURE`] | The scope's service is not the gateway's. | Credential should be scoped to correct service: 'kinesis'. |
//! | [`INVALID_SIGNATURE`] | The scope's date is not the date of `X-Amz-Date`. | Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261125' != '20261126', from 'X-Amz-Date'. |
//! | [`INCOMPLETE_SIGNATURE`] | Malformed `Authorization`: another algorithm, a missing or repeated `Credential`, `SignedHeaders` or `Signature`, a pair without `=`, an unknown parameter, a scope not of the form `AKID/YYYYMMDD/REGION/SERVICE/aws4_request`, `host` or `x-amz-date` not signed, an `X-Amz-Target` header that is not signed (the gateway authorizes by it; AWS SDKs sign it), several `Authorization` headers. | Names what is wrong, e.g. "Authorization header requires 'Signature' parameter." |
//! | [`INCOMPLETE_SIGNATURE`] | No `X-Amz-Date` (or only a `Date` header), several, or not `YYYYMMDDTHHMMSSZ`; no `Host`. | Names what is wrong. |
//! | [`INCOMPLETE_SIGNATURE`] | Presigned query-string authentication (`X-Amz-Signature`, `X-Amz-Credential` or `X-Amz-Algorithm` in the query). | Says it is not supported by the gateway. |
//!
//! The checks run in that order: syntax, scope, access key and token, clock, signature. The
//! messages never contain the secret, the session token, or the signature the gateway computed.
//!
//! ## Not supported
//!
//! - Presigned URLs (query-string authentication): refused, as above.
//! - Requests dated only by the `Date` header: SDKs always send `X-Amz-Date`.
//! - SigV4a (`AWS4-ECDSA-P256-SHA256`), SigV2, streaming (chunked) payload signing
//!   (`STREAMING-…`, `UNSIGNED-PAYLOAD`): the payload hash is always the body's SHA-256.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{
    sign, PercentEncodingMode, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use hyper::http::header::{HeaderName, AUTHORIZATION, DATE, HOST};
use hyper::HeaderMap;

use super::credentials::{Credential, Credentials};

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Error code: unknown access key, or wrong session token.
pub const UNRECOGNIZED_CLIENT: &str = "UnrecognizedClientException";
/// Error code: the signature does not match, is stale or early, or has the wrong scope.
pub const INVALID_SIGNATURE: &str = "InvalidSignatureException";
/// Error code: the signature is malformed or incomplete.
pub const INCOMPLETE_SIGNATURE: &str = "IncompleteSignatureException";

/// The message of [`UNRECOGNIZED_CLIENT`].
pub const INVALID_TOKEN_MESSAGE: &str = "The security token included in the request is invalid.";
/// The message of a signature mismatch.
pub const MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the \
    signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
    service documentation for details.";

const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";
const X_AMZ_TARGET: &str = "x-amz-target";
/// HTTP/2's authority pseudo-header, as a signed header name.
const AUTHORITY: &str = ":authority";

/// What [`verify`] checks requests against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The signing name of the service, e.g. `kinesis`; the credential scope must name it.
    pub service: String,
    /// The gateway's region, e.g. `us-east-1`; the credential scope must name it.
    pub region: String,
    /// How far `X-Amz-Date` may be from the gateway's clock, either way (default 5 minutes,
    /// as AWS).
    pub max_skew: Duration,
}

impl VerifyOptions {
    /// Kinesis in `region`, with a skew of 5 minutes.
    pub fn kinesis(region: impl Into<String>) -> VerifyOptions {
        VerifyOptions {
            region: region.into(),
            ..VerifyOptions::default()
        }
    }
}

impl Default for VerifyOptions {
    /// `kinesis` in `us-east-1`, 5 minutes.
    fn default() -> VerifyOptions {
        VerifyOptions {
            service: "kinesis".into(),
            region: "us-east-1".into(),
            max_skew: Duration::from_secs(300),
        }
    }
}

/// Who made a request, as far as the signature tells.
#[derive(Clone, Debug)]
pub enum Auth<'c> {
    /// The request is not signed.
    Anonymous,
    /// The request is signed with a known access key, and the signature is valid.
    Signed {
        /// The access key's entry.
        credential: &'c Credential,
    },
}

/// Why a request's signature is refused. AWS answers all of these with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    /// The error type, e.g. [`INVALID_SIGNATURE`] (the `__type` of the JSON error).
    pub code: &'static str,
    /// The message, as AWS words it where known.
    pub message: String,
}

impl AuthError {
    fn new(code: &'static str, message: impl Into<String>) -> AuthError {
        AuthError {
            code,
            message: message.into(),
        }
    }

    fn incomplete(message: impl Into<String>) -> AuthError {
        AuthError::new(INCOMPLETE_SIGNATURE, message)
    }

    fn invalid(message: impl Into<String>) -> AuthError {
        AuthError::new(INVALID_SIGNATURE, message)
    }

    fn mismatch() -> AuthError {
        AuthError::invalid(MISMATCH_MESSAGE)
    }

    fn unrecognized() -> AuthError {
        AuthError::new(UNRECOGNIZED_CLIENT, INVALID_TOKEN_MESSAGE)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AuthError {}

/// The parsed `Authorization` header.
struct Authorization<'a> {
    access_key_id: &'a str,
    scope_date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

/// Verifies the SigV4 signature of a request (see the module docs).
///
/// `path_and_query` is the request target as received (`/`, `/?a=b`); `headers` are the
/// request's headers, with `Host` (for HTTP/2, copied from `:authority`); `body` is the whole
/// body; `now` is the gateway's clock.
pub fn verify<'c>(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    creds: &'c Credentials,
    opts: &VerifyOptions,
) -> Result<Auth<'c>, AuthError> {
    if presigned(path_and_query) {
        return Err(AuthError::incomplete(
            "Presigned URLs (query-string authentication with X-Amz-Signature) are not \
             supported by this gateway; sign the request with an Authorization header.",
        ));
    }
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(Auth::Anonymous);
    };
    if values.next().is_some() {
        return Err(AuthError::incomplete(
            "The request has more than one Authorization header.",
        ));
    }
    let Ok(value) = std::str::from_utf8(value.as_bytes()) else {
        return Err(AuthError::incomplete(
            "The Authorization header is not valid UTF-8 text.",
        ));
    };
    let auth = parse_authorization(value)?;

    // X-Amz-Date: once, in the basic ISO-8601 format.
    let mut dates = headers.get_all(X_AMZ_DATE).iter();
    let amz_date = match (dates.next(), dates.next()) {
        (Some(d), None) => d,
        (Some(_), Some(_)) => {
            return Err(AuthError::incomplete(
                "The request has more than one X-Amz-Date header.",
            ))
        }
        (None, _) if headers.contains_key(DATE) => {
            return Err(AuthError::incomplete(
                "Authorization header requires existence of a 'X-Amz-Date' header: this \
                 gateway does not accept requests dated only by the 'Date' header.",
            ))
        }
        (None, _) => {
            return Err(AuthError::incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a \
                 'Date' header.",
            ))
        }
    };
    let amz_date = std::str::from_utf8(amz_date.as_bytes()).unwrap_or_default();
    let Some(date_secs) = parse_amz_date(amz_date) else {
        return Err(AuthError::incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See \
             http://en.wikipedia.org/wiki/ISO_8601",
            amz_date.escape_debug()
        )));
    };

    // The signed headers must include host and x-amz-date.
    let signed: Vec<&str> = auth.signed_headers.split(';').collect();
    // HTTP/2 clients may sign the `:authority` pseudo-header instead (the AWS SDK for
    // JavaScript v3 does); its value is the request's authority, which the gateway keeps as
    // `Host` (see the module's documentation).
    let authority = signed.contains(&AUTHORITY);
    if !signed.contains(&"host") && !authority {
        return Err(AuthError::incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if !signed.contains(&X_AMZ_DATE) {
        return Err(AuthError::incomplete(
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if !headers.contains_key(HOST) {
        return Err(AuthError::incomplete(
            "The request has no Host header, which the signature covers.",
        ));
    }
    // The gateway authorizes by the operation X-Amz-Target names: a signature that does not
    // cover it would let a replayed request change its operation.
    if headers.contains_key(X_AMZ_TARGET) && !signed.contains(&X_AMZ_TARGET) {
        return Err(AuthError::incomplete(
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization: the gateway \
             authorizes by the operation it names.",
        ));
    }

    // The scope.
    if auth.region != opts.region {
        return Err(AuthError::invalid(
            "Credential should be scoped to a valid region.",
        ));
    }
    if auth.service != opts.service {
        return Err(AuthError::invalid(format!(
            "Credential should be scoped to correct service: '{}'.",
            opts.service
        )));
    }
    let date_day = amz_date.get(..8).unwrap_or_default();
    if auth.scope_date != date_day {
        return Err(AuthError::invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{date_day}', from 'X-Amz-Date'.",
            auth.scope_date.escape_debug()
        )));
    }

    // The access key and its session token.
    let Some(credential) = creds.get(auth.access_key_id) else {
        return Err(AuthError::unrecognized());
    };
    let mut tokens = headers.get_all(X_AMZ_SECURITY_TOKEN).iter();
    let token_ok = match (&credential.session_token, tokens.next(), tokens.next()) {
        (None, None, _) => true,
        (Some(want), Some(got), None) => ct_eq(want.as_bytes(), got.as_bytes()),
        _ => false,
    };
    if !token_ok {
        return Err(AuthError::unrecognized());
    }

    // The clock.
    check_skew(amz_date, date_secs, now, opts.max_skew)?;

    // The signature.
    let Some(time) = system_time(date_secs) else {
        return Err(AuthError::mismatch());
    };
    let resigned = if authority {
        resign_authority(
            method,
            path_and_query,
            headers,
            &signed,
            body,
            (amz_date, time),
            credential,
            &auth,
        )
    } else {
        resign(
            method,
            path_and_query,
            headers,
            &signed,
            body,
            time,
            credential,
            &auth,
        )
    };
    let (computed_signed, signature) = resigned.ok_or_else(AuthError::mismatch)?;
    if computed_signed != auth.signed_headers {
        return Err(AuthError::mismatch());
    }
    if !ct_eq(signature.as_bytes(), auth.signature.as_bytes()) {
        return Err(AuthError::mismatch());
    }
    Ok(Auth::Signed { credential })
}

/// The signature of a request that signs `:authority` (an HTTP/2 pseudo-header, which
/// aws-sigv4's request signer cannot take as a header name): the canonical request built here,
/// with SigV4's rules for a `POST /` without a query (every Kinesis request; others are
/// refused), then signed with aws-sigv4's own key derivation and HMAC. `:authority` is the
/// request's authority (the gateway's `Host`). Returns the signed header list and signature.
#[allow(clippy::too_many_arguments)]
fn resign_authority(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    signed: &[&str],
    body: &[u8],
    (amz_date, time): (&str, SystemTime),
    credential: &Credential,
    auth: &Authorization<'_>,
) -> Option<(String, String)> {
    use sha2::{Digest, Sha256};
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    if path_and_query != "/" {
        return None;
    }
    let mut names: Vec<&str> = signed.to_vec();
    names.sort_unstable();
    names.dedup();
    let mut canonical_headers = String::new();
    for &name in &names {
        let values: Vec<&str> = if name == AUTHORITY {
            vec![std::str::from_utf8(headers.get(HOST)?.as_bytes()).ok()?]
        } else {
            let header = HeaderName::from_bytes(name.as_bytes()).ok()?;
            headers
                .get_all(&header)
                .iter()
                .map(|v| std::str::from_utf8(v.as_bytes()).ok())
                .collect::<Option<_>>()?
        };
        if values.is_empty() {
            return None;
        }
        let values: Vec<String> = values
            .iter()
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&values.join(","));
        canonical_headers.push('\n');
    }
    let signed_headers = names.join(";");
    let canonical = format!(
        "{method}\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex(&Sha256::digest(body))
    );
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.scope_date, auth.region, auth.service
    );
    let to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = v4::generate_signing_key(credential.secret(), time, auth.region, auth.service);
    let signature = v4::calculate_signature(key, to_sign.as_bytes());
    Some((signed_headers, signature))
}

/// Whether the query has SigV4 presigning parameters.
fn presigned(path_and_query: &str) -> bool {
    let Some((_, query)) = path_and_query.split_once('?') else {
        return false;
    };
    query.split('&').any(|pair| {
        let name = pair.split_once('=').map_or(pair, |(k, _)| k);
        ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm"]
            .iter()
            .any(|p| name.eq_ignore_ascii_case(p))
    })
}

/// Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
fn parse_authorization(value: &str) -> Result<Authorization<'_>, AuthError> {
    let value = value.trim_matches([' ', '\t']);
    let (algorithm, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        let shown: String = algorithm.chars().take(40).collect();
        return Err(AuthError::incomplete(format!(
            "Authorization header requires the '{ALGORITHM}' algorithm, not '{}' (this \
             gateway verifies Signature Version 4 only).",
            shown.escape_debug()
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim_matches([' ', '\t']);
        if part.is_empty() {
            continue;
        }
        let Some((name, val)) = part.split_once('=') else {
            return Err(AuthError::incomplete(
                "Invalid key=value pair (missing equal-sign) in Authorization header.",
            ));
        };
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                let shown: String = name.chars().take(40).collect();
                return Err(AuthError::incomplete(format!(
                    "Authorization header has an unknown parameter '{}'.",
                    shown.escape_debug()
                )));
            }
        };
        if slot.replace(val).is_some() {
            return Err(AuthError::incomplete(format!(
                "Authorization header has the '{name}' parameter more than once."
            )));
        }
    }
    let mut missing = Vec::new();
    for (name, v) in [
        ("Credential", &credential),
        ("Signature", &signature),
        ("SignedHeaders", &signed_headers),
    ] {
        if v.is_none_or(|v| v.is_empty()) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature), true) =
        (credential, signed_headers, signature, missing.is_empty())
    else {
        return Err(AuthError::incomplete(missing.join(" ")));
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = parts[..] else {
        return Err(AuthError::incomplete(
            "Credential in the Authorization header must have the form \
             ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.",
        ));
    };
    if terminator != "aws4_request" {
        let shown: String = terminator.chars().take(40).collect();
        return Err(AuthError::incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            shown.escape_debug()
        )));
    }
    if access_key_id.is_empty()
        || scope_date.len() != 8
        || !scope_date.bytes().all(|b| b.is_ascii_digit())
        || region.is_empty()
        || service.is_empty()
    {
        return Err(AuthError::incomplete(
            "Credential in the Authorization header must have the form \
             ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.",
        ));
    }
    Ok(Authorization {
        access_key_id,
        scope_date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// Checks `X-Amz-Date` against the clock.
fn check_skew(
    amz_date: &str,
    date_secs: i64,
    now: SystemTime,
    max_skew: Duration,
) -> Result<(), AuthError> {
    let now_secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    let skew = i64::try_from(max_skew.as_secs()).unwrap_or(i64::MAX);
    let skew_text = if skew % 60 == 0 {
        format!("{} min.", skew / 60)
    } else {
        format!("{skew} sec.")
    };
    let earliest = now_secs.saturating_sub(skew);
    let latest = now_secs.saturating_add(skew);
    if date_secs < earliest {
        return Err(AuthError::invalid(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - {skew_text})",
            format_amz_date(earliest),
            format_amz_date(now_secs)
        )));
    }
    if date_secs > latest {
        return Err(AuthError::invalid(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + {skew_text})",
            format_amz_date(latest),
            format_amz_date(now_secs)
        )));
    }
    Ok(())
}

/// Signs the request again with aws-sigv4: returns the `SignedHeaders` it computed and the
/// signature. `None` when aws-sigv4 cannot sign it (a header or path it refuses).
#[allow(clippy::too_many_arguments)]
fn resign(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    signed: &[&str],
    body: &[u8],
    time: SystemTime,
    credential: &Credential,
    auth: &Authorization<'_>,
) -> Option<(String, String)> {
    // Exactly the listed headers, every value as received. x-amz-date is added by the signer
    // from `time` (which formats back to the received value).
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for &name in signed {
        if seen.contains(&name) || name == X_AMZ_DATE {
            continue;
        }
        seen.push(name);
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        for value in headers.get_all(&header) {
            pairs.push((name, std::str::from_utf8(value.as_bytes()).ok()?));
        }
    }
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(Vec::new());
    // Include: with Exclude, aws-sigv4 drops an x-amz-security-token header from the signed
    // headers even when the request lists it. The identity carries no token, so Include adds
    // none of its own.
    settings.session_token_mode = SessionTokenMode::Include;
    settings.signature_location = SignatureLocation::Headers;
    settings.percent_encoding_mode = PercentEncodingMode::Double;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Enabled;
    settings.expires_in = None;
    let identity = aws_credential_types::Credentials::new(
        auth.access_key_id,
        credential.secret(),
        None,
        None,
        "iamc-gateway",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(time)
        .settings(settings)
        .build()
        .ok()?
        .into();
    if !path_and_query.starts_with('/') {
        return None;
    }
    let request = SignableRequest::new(
        method,
        path_and_query,
        pairs.into_iter(),
        SignableBody::Bytes(body),
    )
    .ok()?;
    let (instructions, signature) = sign(request, &params).ok()?.into_parts();
    let authorization = instructions
        .headers()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value)?;
    let computed = authorization
        .split(',')
        .find_map(|p| p.trim().strip_prefix("SignedHeaders="))?;
    Some((computed.to_string(), signature))
}

/// Compares two byte strings in time that depends only on their lengths.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Parses `YYYYMMDDTHHMMSSZ` (UTC) into seconds since the Unix epoch; `None` unless it is
/// exactly that, with a real date and time.
pub(crate) fn parse_amz_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = b.get(from..to)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (hour, minute, second) = (num(9, 11)?, num(11, 13)?, num(13, 15)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(
        crate::ast::value::days_from_civil(year, month, day) * 86_400
            + hour * 3600
            + minute * 60
            + second,
    )
}

/// Formats seconds since the Unix epoch as `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format_amz_date(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::ast::value::civil_from_days(i128::from(days));
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The `SystemTime` of seconds since the Unix epoch.
fn system_time(secs: i64) -> Option<SystemTime> {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

#[cfg(test)]
mod tests;
