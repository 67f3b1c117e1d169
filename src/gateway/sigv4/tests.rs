//! Tests of `sigv4`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use hyper::http::HeaderValue;

/// The clock of the golden fixtures (src/gateway/testdata/sigv4_golden.py).
const NOW: &str = "20261126T134000Z";

const CREDS: &str = r#"{
      "version": 1,
      "keys": {
        "AKIAPRODUCER00000001": {
          "secret": "producer-secret-key",
          "principal": "arn:aws:iam::111122223333:user/producer"
        },
        "ASIASESSION000000001": {
          "secret": "session-secret-key",
          "session_token": "FwoGZXIvYXdzEBYaDH+token/with=chars",
          "principal": "arn:aws:sts::111122223333:assumed-role/Reader/alice"
        }
      }
    }"#;

const BODY_PORT: &str = r#"{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"p1"}"#;
const AUTH_PORT: &str = "AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=6a250de6cf840a63a8bad81304725f411c8c62772e50f2e45297f6eca2007f77";
const BODY_TOKEN: &str = r#"{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"p2"}"#;
const AUTH_TOKEN: &str = "AWS4-HMAC-SHA256 Credential=ASIASESSION000000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=be042a4a18f2ad481d01b6a68642645bdc3d9ee92799cad1a4e91bbae30881a7";
const TOKEN: &str = "FwoGZXIvYXdzEBYaDH+token/with=chars";
const BODY_UTF8: &str =
    r#"{"StreamName": "orders", "Data": "aGk=", "PartitionKey": "clé  ünïcode 日本 €"}"#;
const AUTH_UTF8: &str = "AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=b884f707d35b449a22d2be0e89182814d564dbd88e59fb3affcb4118f7b75fd4";

fn at(date: &str) -> SystemTime {
    system_time(parse_amz_date(date).unwrap()).unwrap()
}

fn creds() -> Credentials {
    Credentials::from_str(CREDS).unwrap()
}

fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// The request botocore signed with a port in the URL, as the HTTP client sends it.
fn port_request() -> HeaderMap {
    header_map(&[
        ("Host", "127.0.0.1:4568"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
        ("X-Amz-Date", NOW),
        ("Authorization", AUTH_PORT),
        ("User-Agent", "Boto3/1.35.99 md/Botocore#1.35.99"),
        ("Content-Length", "62"),
        ("Accept-Encoding", "identity"),
    ])
}

fn token_request() -> HeaderMap {
    header_map(&[
        ("Host", "127.0.0.1:4568"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
        ("X-Amz-Date", NOW),
        ("X-Amz-Security-Token", TOKEN),
        ("Authorization", AUTH_TOKEN),
    ])
}

fn check_at(headers: &HeaderMap, body: &str, now: SystemTime) -> Result<String, AuthError> {
    let creds = creds();
    verify(
        "POST",
        "/",
        headers,
        body.as_bytes(),
        now,
        &creds,
        &VerifyOptions::default(),
    )
    .map(|auth| match auth {
        Auth::Anonymous => "anonymous".to_string(),
        Auth::Signed { credential } => credential.access_key_id.clone(),
    })
}

fn check(headers: &HeaderMap, body: &str) -> Result<String, AuthError> {
    check_at(headers, body, at(NOW))
}

/// `headers` with `name` set to `value` (replacing it).
fn with(mut headers: HeaderMap, name: &str, value: &str) -> HeaderMap {
    headers.insert(
        HeaderName::from_bytes(name.as_bytes()).unwrap(),
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

fn without(mut headers: HeaderMap, name: &str) -> HeaderMap {
    headers.remove(name);
    headers
}

fn err(code: &'static str, message: &str) -> Result<String, AuthError> {
    Err(AuthError::new(code, message))
}

fn mismatch() -> Result<String, AuthError> {
    Err(AuthError::mismatch())
}

fn code(r: Result<String, AuthError>) -> &'static str {
    r.expect_err("refused").code
}

#[test]
fn golden_botocore_port_in_host() {
    assert_eq!(
        check(&port_request(), BODY_PORT),
        Ok("AKIAPRODUCER00000001".into())
    );
}

#[test]
fn golden_botocore_session_token() {
    assert_eq!(
        check(&token_request(), BODY_TOKEN),
        Ok("ASIASESSION000000001".into())
    );
}

#[test]
fn golden_botocore_utf8_body_default_port() {
    let headers = header_map(&[
        ("Host", "kinesis.us-east-1.amazonaws.com"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
        ("X-Amz-Date", NOW),
        ("Authorization", AUTH_UTF8),
    ]);
    assert_eq!(
        check(&headers, BODY_UTF8),
        Ok("AKIAPRODUCER00000001".into())
    );
    // The port is part of the signed host.
    let with_port = with(headers, "host", "kinesis.us-east-1.amazonaws.com:443");
    assert_eq!(check(&with_port, BODY_UTF8), mismatch());
}

#[test]
fn anonymous_without_authorization() {
    let headers = without(port_request(), "authorization");
    assert_eq!(check(&headers, BODY_PORT), Ok("anonymous".into()));
    assert_eq!(check(&HeaderMap::new(), ""), Ok("anonymous".into()));
}

#[test]
fn unsigned_headers_may_change() {
    let headers = with(port_request(), "user-agent", "curl/8");
    let headers = with(headers, "x-forwarded-for", "10.0.0.1");
    assert!(check(&headers, BODY_PORT).is_ok());
}

#[test]
fn tampered_body_header_or_host_is_refused() {
    let body = BODY_PORT.replace("p1", "p9");
    assert_eq!(check(&port_request(), &body), mismatch());
    assert_eq!(check(&port_request(), ""), mismatch());
    let target = with(
        port_request(),
        "x-amz-target",
        "Kinesis_20131202.DeleteStream",
    );
    assert_eq!(check(&target, BODY_PORT), mismatch());
    let host = with(port_request(), "host", "127.0.0.1:4569");
    assert_eq!(check(&host, BODY_PORT), mismatch());
    // A signed header sent twice: both values are signed, so it no longer matches.
    let mut twice = port_request();
    twice.append(
        "x-amz-target",
        HeaderValue::from_static("Kinesis_20131202.PutRecord"),
    );
    assert_eq!(check(&twice, BODY_PORT), mismatch());
    // A signed header missing.
    let gone = without(port_request(), "content-type");
    assert_eq!(check(&gone, BODY_PORT), mismatch());
    // Other method or path.
    let creds = creds();
    let opts = VerifyOptions::default();
    let r = verify(
        "PUT",
        "/",
        &port_request(),
        BODY_PORT.as_bytes(),
        at(NOW),
        &creds,
        &opts,
    );
    assert_eq!(r.unwrap_err(), AuthError::mismatch());
    let r = verify(
        "POST",
        "/x",
        &port_request(),
        BODY_PORT.as_bytes(),
        at(NOW),
        &creds,
        &opts,
    );
    assert_eq!(r.unwrap_err(), AuthError::mismatch());
    let r = verify(
        "POST",
        "/?a=b",
        &port_request(),
        BODY_PORT.as_bytes(),
        at(NOW),
        &creds,
        &opts,
    );
    assert_eq!(r.unwrap_err(), AuthError::mismatch());
    // A signature of a wrong length, in capitals, or changed by one digit.
    for sig in [
        "6a250de6",
        "6A250DE6CF840A63A8BAD81304725F411C8C62772E50F2E45297F6ECA2007F77",
        "6a250de6cf840a63a8bad81304725f411c8c62772e50f2e45297f6eca2007f78",
    ] {
        let auth = AUTH_PORT.replace(
            "6a250de6cf840a63a8bad81304725f411c8c62772e50f2e45297f6eca2007f77",
            sig,
        );
        let headers = with(port_request(), "authorization", &auth);
        assert_eq!(check(&headers, BODY_PORT), mismatch(), "{sig}");
    }
}

#[test]
fn signed_headers_must_be_exactly_what_was_signed() {
    // (A list without x-amz-target is refused earlier, as incomplete: see
    // `x_amz_date_and_host_are_required`.)
    for list in [
        "host;content-type;x-amz-date;x-amz-target",
        "content-type;host;user-agent;x-amz-date;x-amz-target",
        "content-type;host;x-amz-date;x-amz-target;x-amz-target",
        "Content-Type;host;x-amz-date;x-amz-target",
    ] {
        let auth = AUTH_PORT.replace("content-type;host;x-amz-date;x-amz-target", list);
        let headers = with(port_request(), "authorization", &auth);
        assert_eq!(check(&headers, BODY_PORT), mismatch(), "{list}");
    }
}

#[test]
fn wrong_secret_is_refused() {
    let creds = Credentials::from_str(&CREDS.replace("producer-secret-key", "other")).unwrap();
    let r = verify(
        "POST",
        "/",
        &port_request(),
        BODY_PORT.as_bytes(),
        at(NOW),
        &creds,
        &VerifyOptions::default(),
    );
    assert_eq!(r.unwrap_err(), AuthError::mismatch());
}

#[test]
fn unknown_key_or_bad_token_is_unrecognized() {
    let unrecognized = || err(UNRECOGNIZED_CLIENT, INVALID_TOKEN_MESSAGE);
    let auth = AUTH_PORT.replace("AKIAPRODUCER00000001", "AKIAUNKNOWN000000001");
    let headers = with(port_request(), "authorization", &auth);
    assert_eq!(check(&headers, BODY_PORT), unrecognized());
    // The token of a key that has one: missing, wrong, sent twice.
    let missing = without(token_request(), "x-amz-security-token");
    assert_eq!(check(&missing, BODY_TOKEN), unrecognized());
    let wrong = with(
        token_request(),
        "x-amz-security-token",
        "FwoGZXIvYXdzEBYaDH+other",
    );
    assert_eq!(check(&wrong, BODY_TOKEN), unrecognized());
    let mut twice = token_request();
    twice.append("x-amz-security-token", HeaderValue::from_static(TOKEN));
    assert_eq!(check(&twice, BODY_TOKEN), unrecognized());
    // A token on a key that has none.
    let extra = with(port_request(), "x-amz-security-token", TOKEN);
    assert_eq!(check(&extra, BODY_PORT), unrecognized());
}

#[test]
fn stale_and_future_timestamps() {
    // Exactly 5 minutes either way is accepted.
    assert!(check_at(&port_request(), BODY_PORT, at("20261126T134500Z")).is_ok());
    assert!(check_at(&port_request(), BODY_PORT, at("20261126T133500Z")).is_ok());
    assert_eq!(
        check_at(&port_request(), BODY_PORT, at("20261126T134501Z")),
        err(
            INVALID_SIGNATURE,
            "Signature expired: 20261126T134000Z is now earlier than 20261126T134001Z \
                 (20261126T134501Z - 5 min.)"
        )
    );
    assert_eq!(
        check_at(&port_request(), BODY_PORT, at("20261126T133459Z")),
        err(
            INVALID_SIGNATURE,
            "Signature not yet current: 20261126T134000Z is still later than \
                 20261126T133959Z (20261126T133459Z + 5 min.)"
        )
    );
    let old = with(port_request(), "x-amz-date", "20261126T130000Z");
    assert_eq!(
        check(&old, BODY_PORT),
        err(
            INVALID_SIGNATURE,
            "Signature expired: 20261126T130000Z is now earlier than 20261126T133500Z \
                 (20261126T134000Z - 5 min.)"
        )
    );
    // Another skew, not whole minutes; a clock before 1970.
    let creds = creds();
    let opts = VerifyOptions {
        max_skew: Duration::from_secs(90),
        ..VerifyOptions::default()
    };
    let r = verify(
        "POST",
        "/",
        &port_request(),
        BODY_PORT.as_bytes(),
        at("20261126T134131Z"),
        &creds,
        &opts,
    );
    assert_eq!(
        r.unwrap_err().message,
        "Signature expired: 20261126T134000Z is now earlier than 20261126T134001Z \
             (20261126T134131Z - 90 sec.)"
    );
    let r = verify(
        "POST",
        "/",
        &port_request(),
        BODY_PORT.as_bytes(),
        UNIX_EPOCH - Duration::from_secs(86_400),
        &creds,
        &opts,
    );
    assert!(r
        .unwrap_err()
        .message
        .starts_with("Signature not yet current"));
    let r = verify(
        "POST",
        "/",
        &port_request(),
        BODY_PORT.as_bytes(),
        UNIX_EPOCH + Duration::from_secs(1 << 40),
        &creds,
        &opts,
    );
    assert!(r.unwrap_err().message.starts_with("Signature expired"));
}

#[test]
fn scope_must_name_the_gateway_region_service_and_date() {
    let scoped = |from: &str, to: &str| {
        let auth = AUTH_PORT.replace(from, to);
        check(&with(port_request(), "authorization", &auth), BODY_PORT)
    };
    assert_eq!(
        scoped("/us-east-1/", "/eu-west-1/"),
        err(
            INVALID_SIGNATURE,
            "Credential should be scoped to a valid region."
        )
    );
    assert_eq!(
        scoped("/kinesis/", "/s3/"),
        err(
            INVALID_SIGNATURE,
            "Credential should be scoped to correct service: 'kinesis'."
        )
    );
    assert_eq!(
        scoped("/20261126/", "/20261125/"),
        err(
            INVALID_SIGNATURE,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of \
                 date from HTTP: '20261125' != '20261126', from 'X-Amz-Date'."
        )
    );
    assert_eq!(
        scoped("/aws4_request", "/aws4_reqest"),
        err(
            INCOMPLETE_SIGNATURE,
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
                 'aws4_reqest'."
        )
    );
    for (from, to) in [
        ("/us-east-1/kinesis/", "/us-east-1/"),
        ("/20261126/", "/2026-11-26/"),
        ("AKIAPRODUCER00000001/", "/"),
        ("/kinesis/aws4_request", "/kinesis/x/aws4_request"),
    ] {
        assert_eq!(code(scoped(from, to)), INCOMPLETE_SIGNATURE, "{to}");
    }
    // The region option is honoured.
    let creds = creds();
    let r = verify(
        "POST",
        "/",
        &port_request(),
        BODY_PORT.as_bytes(),
        at(NOW),
        &creds,
        &VerifyOptions::kinesis("eu-west-1"),
    );
    assert_eq!(
        r.unwrap_err().message,
        "Credential should be scoped to a valid region."
    );
}

#[test]
fn malformed_authorization_is_incomplete() {
    let auth = |value: &str| check(&with(port_request(), "authorization", value), BODY_PORT);
    assert_eq!(
            auth("AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target"),
            err(INCOMPLETE_SIGNATURE, "Authorization header requires 'Signature' parameter.")
        );
    assert_eq!(
        auth("AWS4-HMAC-SHA256"),
        err(
            INCOMPLETE_SIGNATURE,
            "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization header requires \
                 'SignedHeaders' parameter."
        )
    );
    assert_eq!(
        auth("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host;x-amz-date, Signature=ab"),
        err(
            INCOMPLETE_SIGNATURE,
            "Authorization header requires 'Credential' parameter."
        )
    );
    let bearer = auth("Bearer abc").unwrap_err();
    assert_eq!(bearer.code, INCOMPLETE_SIGNATURE);
    assert!(bearer
        .message
        .contains("'AWS4-HMAC-SHA256' algorithm, not 'Bearer'"));
    assert_eq!(code(auth("")), INCOMPLETE_SIGNATURE);
    assert_eq!(
        code(auth(
            &AUTH_PORT.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
        )),
        INCOMPLETE_SIGNATURE
    );
    assert_eq!(
        code(auth(&AUTH_PORT.replace(", Signature=", ", Signature"))),
        INCOMPLETE_SIGNATURE
    );
    assert_eq!(
        code(auth(&format!("{AUTH_PORT}, Signature=ab"))),
        INCOMPLETE_SIGNATURE
    );
    assert_eq!(
        code(auth(&format!("{AUTH_PORT}, Extra=1"))),
        INCOMPLETE_SIGNATURE
    );
    // Extra spaces and a trailing comma are fine.
    assert!(auth(&format!("  {}, ", AUTH_PORT.replace(", ", " ,  "))).is_ok());
    // host and x-amz-date must be signed.
    assert_eq!(
        auth(&AUTH_PORT.replace(";host;", ";")),
        err(
            INCOMPLETE_SIGNATURE,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    );
    assert_eq!(
        auth(&AUTH_PORT.replace(";x-amz-date;", ";")),
        err(
            INCOMPLETE_SIGNATURE,
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
        )
    );
    // Two Authorization headers.
    let mut two = port_request();
    two.append("authorization", HeaderValue::from_static(AUTH_PORT));
    assert_eq!(code(check(&two, BODY_PORT)), INCOMPLETE_SIGNATURE);
    // Not UTF-8.
    let mut latin1 = port_request();
    latin1.insert(
        "authorization",
        HeaderValue::from_bytes(b"AWS4-HMAC-SHA256 \xe9").unwrap(),
    );
    assert_eq!(code(check(&latin1, BODY_PORT)), INCOMPLETE_SIGNATURE);
}

#[test]
fn x_amz_date_and_host_are_required() {
    let no_date = without(port_request(), "x-amz-date");
    assert_eq!(
        check(&no_date, BODY_PORT),
        err(
            INCOMPLETE_SIGNATURE,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
                 header."
        )
    );
    let date_only = with(no_date, "date", "Thu, 26 Nov 2026 13:40:00 GMT");
    let e = check(&date_only, BODY_PORT).unwrap_err();
    assert_eq!(e.code, INCOMPLETE_SIGNATURE);
    assert!(
        e.message.contains("only by the 'Date' header"),
        "{}",
        e.message
    );
    for bad in [
        "20261126T134000",
        "2026-11-26T13:40:00Z",
        "20261131T134000Z",
        "20260229T134000Z",
        "20261126T244000Z",
        "20261126T136000Z",
        "+0261126T134000Z",
        "20261126t134000Z",
    ] {
        let e = check(&with(port_request(), "x-amz-date", bad), BODY_PORT).unwrap_err();
        assert_eq!(e.code, INCOMPLETE_SIGNATURE, "{bad}");
        assert!(e
            .message
            .starts_with("Date must be in ISO-8601 'basic format'. Got '"));
    }
    // X-Amz-Target present but not signed.
    let req = port_request();
    let auth = req["authorization"]
        .to_str()
        .unwrap()
        .replace(";x-amz-target", "");
    assert!(!auth.contains("x-amz-target"), "{auth}");
    let unsigned_target = with(req, "authorization", &auth);
    let e = check(&unsigned_target, BODY_PORT).unwrap_err();
    assert_eq!(e.code, INCOMPLETE_SIGNATURE);
    assert!(
        e.message
            .starts_with("'X-Amz-Target' must be a 'SignedHeader'"),
        "{}",
        e.message
    );
    let mut two = port_request();
    two.append("x-amz-date", HeaderValue::from_static(NOW));
    assert_eq!(code(check(&two, BODY_PORT)), INCOMPLETE_SIGNATURE);
    let no_host = without(port_request(), "host");
    assert_eq!(
        check(&no_host, BODY_PORT),
        err(
            INCOMPLETE_SIGNATURE,
            "The request has no Host header, which the signature covers."
        )
    );
}

#[test]
fn presigned_urls_are_not_supported() {
    let creds = creds();
    let opts = VerifyOptions::default();
    for path in [
        "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F&X-Amz-Signature=ab",
        "/?x-amz-signature=ab",
        "/?a=b&X-Amz-Credential",
    ] {
        let headers = header_map(&[("Host", "127.0.0.1:4568")]);
        let e = verify("GET", path, &headers, b"", at(NOW), &creds, &opts).unwrap_err();
        assert_eq!(e.code, INCOMPLETE_SIGNATURE, "{path}");
        assert!(
            e.message.contains("not supported by this gateway"),
            "{}",
            e.message
        );
    }
    let headers = header_map(&[("Host", "127.0.0.1:4568")]);
    assert!(matches!(
        verify(
            "GET",
            "/?a=X-Amz-Signature",
            &headers,
            b"",
            at(NOW),
            &creds,
            &opts
        ),
        Ok(Auth::Anonymous)
    ));
}

#[test]
fn garbage_never_panics() {
    let creds = creds();
    let opts = VerifyOptions::default();
    let values = [
            "AWS4-HMAC-SHA256 ,,,,",
            "AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=",
            "AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date;%%;\u{7f}, Signature=zz",
            "AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/99991231/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256\tCredential===",
            "=",
            " ",
        ];
    for value in values {
        for (path, date) in [
            ("/", NOW),
            ("*", NOW),
            ("/%zz/../..//", NOW),
            ("/", "99991231T235959Z"),
            ("/", "00000101T000000Z"),
        ] {
            let Ok(v) = HeaderValue::from_str(value) else {
                continue;
            };
            let mut headers = with(port_request(), "x-amz-date", date);
            headers.insert("authorization", v);
            for now in [at(NOW), at(date), UNIX_EPOCH] {
                let _ = verify("POST", path, &headers, b"x", now, &creds, &opts);
            }
        }
    }
    // A valid signature over an odd path is verified, not refused for the path.
    let _ = verify(
        "POST",
        "*",
        &port_request(),
        BODY_PORT.as_bytes(),
        at(NOW),
        &creds,
        &opts,
    );
}

#[test]
fn dates_round_trip() {
    for date in [
        "19700101T000000Z",
        "20000229T235959Z",
        "20261126T134000Z",
        "21000301T000000Z",
        "99991231T235959Z",
        "00000101T000000Z",
        "19691231T235959Z",
    ] {
        let secs = parse_amz_date(date).unwrap();
        assert_eq!(format_amz_date(secs), date);
    }
    assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
    assert_eq!(parse_amz_date("20261126T134000Z"), Some(1_795_700_400));
    assert_eq!(parse_amz_date("19000229T000000Z"), None);
    assert_eq!(
        system_time(1_795_700_400),
        Some(UNIX_EPOCH + Duration::from_secs(1_795_700_400))
    );
}

#[test]
fn errors_display_their_code() {
    let e = AuthError::mismatch();
    assert!(e
        .to_string()
        .starts_with("InvalidSignatureException: The request signature"));
    assert_eq!(VerifyOptions::kinesis("eu-west-1").service, "kinesis");
    assert_eq!(VerifyOptions::default().max_skew, Duration::from_secs(300));
}

/// A PutRecord as the AWS SDK for JavaScript v3 signs it over HTTP/2: `:authority` signed
/// instead of `host` (src/gateway/testdata/sigv4_golden_h2.js). The gateway keeps the authority
/// as `Host`.
fn js_h2_request() -> HeaderMap {
    header_map(&[
        ("Host", "127.0.0.1:4568"),
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", "Kinesis_20131202.PutRecord"),
        ("amz-sdk-invocation-id", "6f1c2d3e-0000-4000-8000-000000000001"),
        ("content-length", "61"),
        ("X-Amz-Date", NOW),
        (
            "x-amz-content-sha256",
            "7bbefee2a78b3e91821c6e5511e1d8fcd71e1c6c27fbbe739b7bed73e80e4995",
        ),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAPRODUCER00000001/20261126/us-east-1/kinesis/aws4_request, SignedHeaders=:authority;amz-sdk-invocation-id;content-length;content-type;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=9e4f35c77a3a2bcd6f44b3f5038beb4bcd0673d54945e7ff1a104c93a40b0595"),
    ])
}

#[test]
fn golden_js_sdk_v3_http2_authority() {
    let body = r#"{"StreamName":"orders","Data":"aGVsbG8=","PartitionKey":"p1"}"#;
    assert_eq!(
        check(&js_h2_request(), body),
        Ok("AKIAPRODUCER00000001".into())
    );
    // The authority, the body and a signed header each count.
    let other_host = with(js_h2_request(), "host", "127.0.0.1:4569");
    assert_eq!(code(check(&other_host, body)), "InvalidSignatureException");
    assert_eq!(
        code(check(&js_h2_request(), &body.replace("p1", "p2"))),
        "InvalidSignatureException"
    );
    let target = with(
        js_h2_request(),
        "x-amz-target",
        "Kinesis_20131202.DeleteStream",
    );
    assert_eq!(code(check(&target, body)), "InvalidSignatureException");
    let missing = without(js_h2_request(), "amz-sdk-invocation-id");
    assert_eq!(code(check(&missing, body)), "InvalidSignatureException");
}
