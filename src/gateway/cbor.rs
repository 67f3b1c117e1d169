//! The Kinesis CBOR protocol (`Content-Type: application/x-amz-cbor-1.1`), the default of the
//! AWS SDK for Java v2 and the Kinesis Client Library: the same operations and fields as the
//! JSON protocol, encoded in CBOR (RFC 8949) with ciborium.
//!
//! - A request body is decoded whole into the JSON value the operation mapping reads
//!   ([`decode`]): text, numbers, booleans, arrays and maps with text keys; a blob (`Data`)
//!   becomes an empty string (authorization never reads it); a timestamp (tag 1 over epoch
//!   seconds, or over epoch milliseconds as the AWS SDKs write it) becomes its number. A body that is not exactly one well-formed CBOR item, or has a map key
//!   that is not text, or a key twice, is refused (`SerializationException`): the gateway
//!   never forwards a request it did not read as the upstream will.
//! - The body is forwarded as the client sent it; only where the gateway's account differs
//!   from the upstream's are the ARNs in its text strings rewritten ([`rewrite_accounts`]),
//!   which re-encodes the item with its blobs, tags (timestamps) and numbers as they were.
//! - The gateway's own answers (errors such as `AccessDeniedException`, the resource-policy
//!   calls) are encoded in CBOR for a CBOR client ([`to_cbor`]), `{"__type", "message"}` as
//!   Kinesis sends them.

use bytes::Bytes;
use ciborium::value::Value as Cbor;
use serde_json::{Map, Number, Value};

/// The content type of the protocol.
pub(super) const CBOR_11: &str = "application/x-amz-cbor-1.1";

/// CBOR's tag of an epoch date-time (RFC 8949: seconds; the AWS SDKs put epoch milliseconds
/// under it). The gateway reads through it and, when it re-encodes an item, keeps the tag and
/// the number as they were.
const EPOCH_TAG: u64 = 1;

/// Reads one CBOR item from the whole of `body`.
fn item(body: &[u8]) -> Result<Cbor, String> {
    let mut rest = body;
    let v: Cbor = ciborium::from_reader(&mut rest).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the first item", rest.len()));
    }
    Ok(v)
}

fn encode(v: &Cbor) -> Option<Bytes> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).ok()?;
    Some(Bytes::from(out))
}

/// The JSON value of a CBOR request body (see the module's documentation); the error says why
/// it cannot be read.
pub(super) fn decode(body: &[u8]) -> Result<Value, String> {
    match to_json(&item(body)?)? {
        v @ Value::Object(_) => Ok(v),
        _ => Err("the body is not a CBOR map".into()),
    }
}

fn to_json(v: &Cbor) -> Result<Value, String> {
    Ok(match v {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Text(s) => Value::String(s.clone()),
        // A blob: its bytes decide nothing.
        Cbor::Bytes(_) => Value::String(String::new()),
        Cbor::Integer(i) => {
            let i = i128::from(*i);
            if let Ok(n) = u64::try_from(i) {
                Value::Number(n.into())
            } else if let Ok(n) = i64::try_from(i) {
                Value::Number(n.into())
            } else {
                return Err(format!("the integer {i} is out of range"));
            }
        }
        Cbor::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Cbor::Tag(EPOCH_TAG, inner) => to_json(inner)?,
        Cbor::Tag(t, _) => return Err(format!("CBOR tag {t} is not used by Kinesis")),
        Cbor::Array(items) => Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Cbor::Map(pairs) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                let Cbor::Text(k) = k else {
                    return Err("a map key that is not text".into());
                };
                if m.insert(k.clone(), to_json(v)?).is_some() {
                    return Err(format!("the key `{k}` twice in one map"));
                }
            }
            Value::Object(m)
        }
        _ => return Err("an unsupported CBOR item".into()),
    })
}

/// A JSON value (the gateway's own answer) in CBOR.
pub(super) fn to_cbor(v: &Value) -> Option<Bytes> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).ok()?;
    Some(Bytes::from(out))
}

/// Replaces `:{from}:stream/` by `:{to}:stream/` in every text string of the item; a body
/// without one (or not CBOR) is passed on as is, without a copy.
pub(super) fn rewrite_accounts(body: Bytes, from: &str, to: &str) -> Bytes {
    if from == to {
        return body;
    }
    let needle = format!(":{from}:stream/");
    let with = format!(":{to}:stream/");
    let Ok(mut v) = item(&body) else {
        return body;
    };
    if !replace_text(&mut v, &needle, &with) {
        return body;
    }
    encode(&v).unwrap_or(body)
}

/// Replaces `needle` by `with` in every text string (not map keys); whether any changed.
fn replace_text(v: &mut Cbor, needle: &str, with: &str) -> bool {
    match v {
        Cbor::Text(s) if s.contains(needle) => {
            *s = s.replace(needle, with);
            true
        }
        Cbor::Array(items) => items
            .iter_mut()
            .fold(false, |changed, i| replace_text(i, needle, with) | changed),
        Cbor::Map(pairs) => pairs.iter_mut().fold(false, |changed, (_, i)| {
            replace_text(i, needle, with) | changed
        }),
        Cbor::Tag(_, inner) => replace_text(inner, needle, with),
        _ => false,
    }
}

/// An upstream error's `message` with the account `from` replaced by `to`, as
/// [`super::proxy`]'s JSON path does; other fields are not touched.
pub(super) fn rewrite_error_message(body: Bytes, from: &str, to: &str) -> Bytes {
    let Ok(mut v) = item(&body) else {
        return body;
    };
    let mut changed = false;
    if let Cbor::Map(pairs) = &mut v {
        for (k, val) in pairs.iter_mut() {
            let is_message = matches!(k, Cbor::Text(k) if k == "message" || k == "Message");
            if let (true, Cbor::Text(m)) = (is_message, val) {
                if m.contains(from) {
                    *m = m.replace(from, to);
                    changed = true;
                }
            }
        }
    }
    if changed {
        encode(&v).unwrap_or(body)
    } else {
        body
    }
}

/// The body with each top-level text field named in `fields` replaced by `f(its text)`;
/// `None` when it is not a map or has none of them.
pub(super) fn replace_text_fields(
    body: &[u8],
    fields: &[&str],
    f: impl Fn(&str) -> String,
) -> Option<Bytes> {
    let mut v = item(body).ok()?;
    let Cbor::Map(pairs) = &mut v else {
        return None;
    };
    let mut changed = false;
    for (k, val) in pairs.iter_mut() {
        let named = matches!(k, Cbor::Text(k) if fields.contains(&k.as_str()));
        if let (true, Cbor::Text(t)) = (named, val) {
            *t = f(t);
            changed = true;
        }
    }
    if changed {
        encode(&v)
    } else {
        None
    }
}

/// The body with `StreamName` set to `name` in its top-level map (the CBOR form of the JSON
/// path's `with_stream_name`); `None` when it is not a map.
pub(super) fn with_stream_name(body: &[u8], name: &str) -> Option<Bytes> {
    let mut v = item(body).ok()?;
    let Cbor::Map(pairs) = &mut v else {
        return None;
    };
    pairs.push((Cbor::Text("StreamName".into()), Cbor::Text(name.into())));
    encode(&v)
}

#[cfg(test)]
mod tests;
