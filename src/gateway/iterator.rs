//! Stateless shard iterators: the gateway hands a client, in place of the upstream's shard
//! iterator, a token that carries the upstream iterator and the stream's ARN, authenticated
//! with HMAC-SHA-256 under a key every replica shares. Any replica (or the same one after a
//! restart) reads the stream back from the token to authorize `GetRecords`, and forwards the
//! upstream iterator; a token that was not made under the key, or was changed, is refused.
//!
//! The token is `i1.` + base64url(ARN `\n` upstream iterator) + `.` + base64url(MAC), the MAC
//! taken over a domain label and the payload. It says nothing secret: the ARN is the client's
//! own, and the upstream iterator is what the client would hold without the gateway.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The token's prefix (its format's version).
const PREFIX: &str = "i1.";
/// What the MAC is taken over before the payload, so a MAC made for something else with the
/// same key never passes.
const DOMAIN: &[u8] = b"iamc gateway shard iterator v1\n";
/// The shortest key taken, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The key the replicas share, kept as the MAC keyed with it (the domain label taken).
#[derive(Clone)]
pub struct IteratorKey(Hmac<Sha256>);

impl std::fmt::Debug for IteratorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IteratorKey(..)")
    }
}

/// Why a client's shard iterator is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a token of this gateway's format.
    Format,
    /// The MAC does not match: made under another key, or changed.
    Mac,
}

impl IteratorKey {
    /// A key from its bytes: at least [`MIN_KEY_BYTES`].
    pub fn new(bytes: Vec<u8>) -> Result<IteratorKey, String> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the shard-iterator key has {} bytes; it needs at least {MIN_KEY_BYTES}",
                bytes.len()
            ));
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&bytes)
            .map_err(|e| format!("the shard-iterator key is not usable: {e}"))?;
        mac.update(DOMAIN);
        Ok(IteratorKey(mac))
    }

    /// A new random key (64 hexadecimal digits, 32 random bytes), as stored.
    pub fn random_text() -> Result<String, String> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| format!("no random bytes for a key: {e}"))?;
        Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A key read from a file or a stored value: its bytes, surrounding white space removed.
    pub fn from_text(text: &[u8]) -> Result<IteratorKey, String> {
        let start = text
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(text.len());
        let end = text
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(start, |e| e + 1);
        IteratorKey::new(text[start..end].to_vec())
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(payload);
        mac
    }

    /// The token for `upstream` (the upstream's iterator) on the stream `stream_arn`.
    pub fn seal(&self, stream_arn: &str, upstream: &str) -> String {
        let payload = format!("{stream_arn}\n{upstream}");
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The stream ARN and the upstream iterator a token carries, when it was made under this key
    /// and not changed.
    pub fn open(&self, token: &str) -> Result<(String, String), Refused> {
        let rest = token.strip_prefix(PREFIX).ok_or(Refused::Format)?;
        let (payload, tag) = rest.split_once('.').ok_or(Refused::Format)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| Refused::Format)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refused::Format)?;
        self.mac(&payload)
            .verify_slice(&tag)
            .map_err(|_| Refused::Mac)?;
        let text = String::from_utf8(payload).map_err(|_| Refused::Format)?;
        let (arn, upstream) = text.split_once('\n').ok_or(Refused::Format)?;
        Ok((arn.to_string(), upstream.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ARN: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";

    fn key(b: u8) -> IteratorKey {
        IteratorKey::new(vec![b; 32]).unwrap()
    }

    #[test]
    fn a_token_opens_under_its_key_only() {
        let t = key(1).seal(ARN, "AAAA/upstream+iterator==");
        assert_eq!(
            key(1).open(&t).unwrap(),
            (ARN.to_string(), "AAAA/upstream+iterator==".to_string())
        );
        assert_eq!(key(2).open(&t), Err(Refused::Mac));
    }

    #[test]
    fn a_changed_token_is_refused() {
        let t = key(1).seal(ARN, "it");
        let (payload, tag) = t.strip_prefix(PREFIX).unwrap().split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode(format!("{}\nit", ARN.replace("orders", "secret")));
        assert_eq!(
            key(1).open(&format!("{PREFIX}{other}.{tag}")),
            Err(Refused::Mac)
        );
        assert_eq!(
            key(1).open(&format!("{PREFIX}{payload}.")),
            Err(Refused::Mac)
        );
        assert_eq!(key(1).open("it"), Err(Refused::Format));
        assert_eq!(key(1).open("i1.!!.??"), Err(Refused::Format));
    }

    #[test]
    fn short_keys_are_refused_and_text_is_trimmed() {
        assert!(IteratorKey::new(vec![0; 31]).is_err());
        let text = IteratorKey::random_text().unwrap();
        assert_eq!(text.len(), 64);
        let k = IteratorKey::from_text(format!("  {text}\n").as_bytes()).unwrap();
        let same = IteratorKey::new(text.into_bytes()).unwrap();
        assert!(same.open(&k.seal(ARN, "it")).is_ok());
    }
}
