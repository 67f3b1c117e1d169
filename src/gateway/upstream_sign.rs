//! Signing forwarded requests with the gateway's own credentials (`--sign-upstream`).
//!
//! Clients sign with keys only the gateway knows (its credentials file), so a real Kinesis
//! endpoint would refuse their signatures. With an [`UpstreamSigner`], the gateway drops the
//! client's `Authorization`, `X-Amz-Date` and `X-Amz-Security-Token` and signs the request it
//! forwards (after the account rewrite) with AWS Signature Version 4, using `aws-sigv4` with
//! its defaults, as the AWS SDK for Rust signs. Without one, the client's signature is passed
//! through unchanged, which suits an upstream that does not check signatures (kinesalite).

use std::fmt;
use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use hyper::header::{HeaderName, HeaderValue};
use hyper::HeaderMap;

/// The credentials the gateway signs forwarded requests with.
#[derive(Clone)]
pub struct UpstreamSigner {
    access_key_id: String,
    secret: String,
    session_token: Option<String>,
}

impl fmt::Debug for UpstreamSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamSigner")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Headers of the client's signature, which a re-signed request does not carry.
const CLIENT_AUTH: [&str; 4] = [
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// The environment lacks the credentials [`UpstreamSigner::from_env`] reads.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "signing upstream requests needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the \
     environment ({} not set or empty)",
    .missing.join(" and ")
)]
pub struct NoEnvCredentials {
    /// The variables that are not set, or empty.
    pub missing: Vec<&'static str>,
}

impl UpstreamSigner {
    /// A signer with these credentials.
    pub fn new(
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
        session_token: Option<String>,
    ) -> UpstreamSigner {
        UpstreamSigner {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            session_token,
        }
    }

    /// The credentials of the environment, as the AWS SDKs read them: `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and, when set, `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Result<UpstreamSigner, NoEnvCredentials> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => {
                Ok(UpstreamSigner::new(id, secret, get("AWS_SESSION_TOKEN")))
            }
            (id, secret) => Err(NoEnvCredentials {
                missing: [
                    id.is_none().then_some("AWS_ACCESS_KEY_ID"),
                    secret.is_none().then_some("AWS_SECRET_ACCESS_KEY"),
                ]
                .into_iter()
                .flatten()
                .collect(),
            }),
        }
    }

    /// Replaces the client's signature in `headers` by the gateway's, for a POST of `body` to
    /// `path_and_query` on `host`, scoped to `region` and `service`, at `now`.
    #[allow(clippy::too_many_arguments)]
    pub fn sign(
        &self,
        headers: &mut HeaderMap,
        host: &str,
        path_and_query: &str,
        body: &[u8],
        region: &str,
        service: &str,
        now: SystemTime,
    ) -> Result<(), String> {
        for h in CLIENT_AUTH {
            headers.remove(h);
        }
        let host_value =
            HeaderValue::from_str(host).map_err(|e| format!("upstream host `{host}`: {e}"))?;
        headers.insert(hyper::header::HOST, host_value);
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let identity = aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret,
            self.session_token.clone(),
            None,
            "iamc-gateway-upstream",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("cannot sign the upstream request: {e}"))?
            .into();
        let request = SignableRequest::new(
            "POST",
            path_and_query,
            pairs.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| format!("cannot sign the upstream request: {e}"))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| format!("cannot sign the upstream request: {e}"))?
            .into_parts();
        for (name, value) in instructions.headers() {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("signer header `{name}`: {e}"))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| format!("signer header value: {e}"))?;
            headers.insert(name, value);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::gateway::credentials::Credentials;
    use crate::gateway::sigv4::{verify, Auth, VerifyOptions};

    /// The gateway's own verifier accepts what the upstream signer signs: the two agree on
    /// SigV4, and the client's signature is gone.
    #[test]
    fn a_resigned_request_verifies_with_the_upstream_credentials() {
        let signer =
            UpstreamSigner::new("AKIAUPSTREAM00000001", "upstreamSecret", Some("tok".into()));
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        headers.insert(
            "x-amz-target",
            HeaderValue::from_static("Kinesis_20131202.PutRecord"),
        );
        headers.insert(
            "authorization",
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIACLIENT/x"),
        );
        headers.insert("x-amz-date", HeaderValue::from_static("20200101T000000Z"));
        let body = br#"{"StreamName":"orders","Data":"aGk=","PartitionKey":"k"}"#;
        let now = SystemTime::now();
        signer
            .sign(
                &mut headers,
                "kinesis.us-east-1.amazonaws.com",
                "/",
                body,
                "us-east-1",
                "kinesis",
                now,
            )
            .unwrap();
        let auth = headers["authorization"].to_str().unwrap();
        assert!(auth.contains("Credential=AKIAUPSTREAM00000001/"), "{auth}");
        assert_eq!(headers["x-amz-security-token"], "tok");

        let creds = Credentials::from_str(
            r#"{"version": 1, "keys": {"AKIAUPSTREAM00000001": {"secret": "upstreamSecret",
                "principal": "arn:aws:iam::111122223333:user/gateway", "session_token": "tok"}}}"#,
        )
        .unwrap();
        let got = verify(
            "POST",
            "/",
            &headers,
            body,
            now,
            &creds,
            &VerifyOptions::kinesis("us-east-1"),
        )
        .unwrap();
        assert!(
            matches!(got, Auth::Signed { credential, .. } if credential.principal.ends_with("user/gateway"))
        );
        // A changed body no longer verifies.
        assert!(verify(
            "POST",
            "/",
            &headers,
            b"{}",
            now,
            &creds,
            &VerifyOptions::kinesis("us-east-1")
        )
        .is_err());
    }

    #[test]
    fn debug_redacts() {
        let s = format!(
            "{:?}",
            UpstreamSigner::new("AKIA", "very-secret", Some("tok-secret".into()))
        );
        assert!(
            !s.contains("very-secret") && !s.contains("tok-secret"),
            "{s}"
        );
    }
}
