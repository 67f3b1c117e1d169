//! Requests: who asks (the caller), for what action, on which resource(s), with which context.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::arn::ArnPattern;
use crate::ast::Instant;

mod caller;

pub use caller::{Caller, CallerError};

/// The type a context value was given as. Operators read the text; typed values skip parsing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScalarKind {
    /// A string.
    String,
    /// A number (its text is the decimal form).
    Number,
    /// A boolean.
    Bool(bool),
    /// A date.
    Date(Instant),
    /// An IP address.
    Ip(IpAddr),
    /// Binary data (its text is the base64 form).
    Binary(Vec<u8>),
}

/// One context value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scalar {
    text: String,
    kind: ScalarKind,
}

impl Scalar {
    /// A string.
    pub fn string(s: impl Into<String>) -> Scalar {
        Scalar {
            text: s.into(),
            kind: ScalarKind::String,
        }
    }
    /// A number, from its decimal text.
    pub fn number(text: impl Into<String>) -> Scalar {
        Scalar {
            text: text.into(),
            kind: ScalarKind::Number,
        }
    }
    /// A boolean.
    pub fn bool(b: bool) -> Scalar {
        Scalar {
            text: if b { "true" } else { "false" }.into(),
            kind: ScalarKind::Bool(b),
        }
    }
    /// A date.
    pub fn date(d: Instant) -> Scalar {
        Scalar {
            text: d.to_string(),
            kind: ScalarKind::Date(d),
        }
    }
    /// An IP address.
    pub fn ip(ip: IpAddr) -> Scalar {
        Scalar {
            text: ip.to_string(),
            kind: ScalarKind::Ip(ip),
        }
    }
    /// Binary data.
    pub fn binary(bytes: Vec<u8>) -> Scalar {
        Scalar {
            text: encode_base64(&bytes),
            kind: ScalarKind::Binary(bytes),
        }
    }
    /// The text form, as string operators and policy variables see it.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The type it was given as.
    pub fn kind(&self) -> &ScalarKind {
        &self.kind
    }
}

fn encode_base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(A.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A context key's value: one value, or a list (a multi-valued key; may be empty).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContextValue {
    /// A single value.
    One(Scalar),
    /// A multi-valued key (`ArrayOf…`); an empty list is present but empty.
    Many(Vec<Scalar>),
}

impl ContextValue {
    /// Reads a JSON value: a string, number or boolean is one value, an array of those is a
    /// multi-valued key. `null` and objects are refused.
    pub fn from_json(v: &serde_json::Value) -> Result<ContextValue, RequestError> {
        fn scalar(v: &serde_json::Value) -> Result<Scalar, RequestError> {
            match v {
                serde_json::Value::String(s) => Ok(Scalar::string(s.clone())),
                serde_json::Value::Number(n) => Ok(Scalar::number(n.to_string())),
                serde_json::Value::Bool(b) => Ok(Scalar::bool(*b)),
                other => Err(RequestError::ContextValue(json_kind(other))),
            }
        }
        match v {
            serde_json::Value::Array(items) => Ok(ContextValue::Many(
                items.iter().map(scalar).collect::<Result<_, _>>()?,
            )),
            other => Ok(ContextValue::One(scalar(other)?)),
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        fn scalar(s: &Scalar) -> serde_json::Value {
            match s.kind() {
                ScalarKind::Bool(b) => serde_json::Value::Bool(*b),
                ScalarKind::Number => serde_json::from_str(s.text())
                    .unwrap_or_else(|_| serde_json::Value::String(s.text().into())),
                _ => serde_json::Value::String(s.text().into()),
            }
        }
        match self {
            ContextValue::One(s) => scalar(s),
            ContextValue::Many(v) => serde_json::Value::Array(v.iter().map(scalar).collect()),
        }
    }
}

/// Why a request, its context or its caller cannot be read. The messages are the ones the CLI
/// and the server show.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The principal.
    #[error(transparent)]
    Caller(#[from] CallerError),
    /// A context value of another JSON type (the type named).
    #[error("a context value is a string, number or boolean, or an array of them; got {0}")]
    ContextValue(&'static str),
    /// A context that is not a JSON object (the type named).
    #[error("the context is a JSON object, got {0}")]
    ContextNotObject(&'static str),
    /// A context key whose value cannot be read.
    #[error("context key `{key}`: {error}")]
    ContextKey {
        /// The key.
        key: String,
        /// Why.
        error: Box<RequestError>,
    },
    /// Two context keys that differ only in case.
    #[error("context keys `{old}` and `{key}` differ only in case; keys ignore case")]
    KeyCase {
        /// The key already there.
        old: String,
        /// The new one.
        key: String,
    },
    /// An empty action.
    #[error("the action is empty")]
    EmptyAction,
    /// An empty resource.
    #[error("the resource is empty (use `*` for actions that take none)")]
    EmptyResource,
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The request context: condition keys and their values. Key names ignore case (spec §3.13).
///
/// Keys set on the context itself come first; below them a context may have shared layers
/// (see [`Context::push_layer`]): the keys a store adds for a principal or a resource, built
/// once and shared by every request that names it, so completing a request copies nothing.
/// A key is read from the first place that has it, as if the layers' keys had been added with
/// [`Context::insert_default`].
#[derive(Clone, Debug, Default)]
pub struct Context {
    entries: BTreeMap<String, (String, ContextValue)>,
    layers: Vec<Arc<Context>>,
}

impl PartialEq for Context {
    fn eq(&self, other: &Context) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Context {}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Reads a JSON object of key -> value (see [`ContextValue::from_json`]).
    pub fn from_json(v: &serde_json::Value) -> Result<Context, RequestError> {
        let obj = v
            .as_object()
            .ok_or_else(|| RequestError::ContextNotObject(json_kind(v)))?;
        let mut ctx = Context::new();
        for (k, v) in obj {
            let value = ContextValue::from_json(v).map_err(|e| RequestError::ContextKey {
                key: k.clone(),
                error: Box::new(e),
            })?;
            ctx.insert_new(k, value)?;
        }
        Ok(ctx)
    }

    /// The (key as given, value) of a lower-cased key, wherever it is.
    fn entry(&self, key_lc: &str) -> Option<&(String, ContextValue)> {
        self.entries
            .get(key_lc)
            .or_else(|| self.layers.iter().find_map(|l| l.entry(key_lc)))
    }

    /// Sets a key, replacing any value under the same key ignoring case.
    pub fn insert(&mut self, key: &str, value: ContextValue) {
        self.entries
            .insert(key.to_lowercase(), (key.to_string(), value));
    }

    /// Sets a key that must not be there yet under any case (tag keys differing only in case
    /// are ambiguous, spec §3.13).
    pub fn insert_new(&mut self, key: &str, value: ContextValue) -> Result<(), RequestError> {
        let lc = key.to_lowercase();
        if let Some((old, _)) = self.entry(&lc) {
            return Err(RequestError::KeyCase {
                old: old.clone(),
                key: key.to_string(),
            });
        }
        self.entries.insert(lc, (key.to_string(), value));
        Ok(())
    }

    /// Sets a key only when it is absent.
    pub fn insert_default(&mut self, key: &str, value: ContextValue) {
        let lc = key.to_lowercase();
        if self.entry(&lc).is_none() {
            self.entries.insert(lc, (key.to_string(), value));
        }
    }

    /// Adds a shared layer below everything the context has: its keys count where the context
    /// lacks them (as [`Context::insert_default`] of each, without copying).
    pub fn push_layer(&mut self, layer: Arc<Context>) {
        if !layer.is_empty() {
            self.layers.push(layer);
        }
    }

    /// Looks a key up by its lower-cased name.
    pub fn get_lc(&self, key_lc: &str) -> Option<&ContextValue> {
        self.entry(key_lc).map(|(_, v)| v)
    }

    /// Looks a key up, ignoring case.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.get_lc(&key.to_lowercase())
    }

    /// The text of a single-valued key, as a policy variable reads it; `None` when the key is
    /// absent or multi-valued (multi-valued keys cannot be variables, spec §4.1).
    pub fn variable(&self, key_lc: &str) -> Option<&str> {
        match self.get_lc(key_lc)? {
            ContextValue::One(s) => Some(s.text()),
            ContextValue::Many(_) => None,
        }
    }

    /// Every (lower-cased key, (key as given, value)), each key once (where it is read from),
    /// ordered by lower-cased key.
    fn merged(&self) -> BTreeMap<&str, &(String, ContextValue)> {
        let mut out: BTreeMap<&str, &(String, ContextValue)> = BTreeMap::new();
        for (k, e) in &self.entries {
            out.insert(k, e);
        }
        for l in &self.layers {
            for (k, e) in l.merged() {
                out.entry(k).or_insert(e);
            }
        }
        out
    }

    /// Every (key as given, value), ordered by lower-cased key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        let all: Vec<(&str, &ContextValue)> = if self.layers.is_empty() {
            self.entries
                .values()
                .map(|(k, v)| (k.as_str(), v))
                .collect()
        } else {
            self.merged()
                .into_values()
                .map(|(k, v)| (k.as_str(), v))
                .collect()
        };
        all.into_iter()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        if self.layers.is_empty() {
            self.entries.len()
        } else {
            self.merged().len()
        }
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.layers.iter().all(|l| l.is_empty())
    }

    /// The context as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_string(), v.to_json()))
                .collect(),
        )
    }
}

/// One authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Who asks.
    pub caller: Caller,
    /// `service:Action`, any case.
    pub action: String,
    /// The resource ARN, or `*` for actions that take no resource.
    pub resource: String,
    /// Further resources of a multi-resource action (e.g. the KMS key of
    /// `kinesis:StartStreamEncryption`); each must be allowed too.
    pub extra_resources: Vec<String>,
    /// Condition keys.
    pub context: Context,
}

impl Request {
    /// A request with an empty context.
    pub fn new(caller: Caller, action: impl Into<String>, resource: impl Into<String>) -> Request {
        Request {
            caller,
            action: action.into(),
            resource: resource.into(),
            extra_resources: Vec::new(),
            context: Context::new(),
        }
    }

    /// Adds the keys AWS always sets that follow from the caller, where the request does not
    /// give them: `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
    /// `aws:username` (IAM users), `aws:userid` (root: the account id; federated users:
    /// `account:name`). Unique ids of users and roles are not known from an ARN.
    pub fn with_derived_keys(mut self) -> Request {
        self.derive_keys();
        self
    }

    /// In-place form of [`Request::with_derived_keys`].
    pub fn derive_keys(&mut self) {
        let c = &self.caller;
        let one = |s: String| ContextValue::One(Scalar::string(s));
        let mut add = Vec::new();
        if let Some(arn) = c.principal_arn() {
            add.push(("aws:PrincipalArn", one(arn)));
        }
        match c.account() {
            Some(a) => add.push(("aws:PrincipalAccount", one(a.to_string()))),
            None if *c == Caller::Anonymous => {
                add.push(("aws:PrincipalAccount", one("anonymous".into())))
            }
            None => {}
        }
        if let Some(t) = c.principal_type() {
            add.push(("aws:PrincipalType", one(t.into())));
        }
        match c {
            Caller::User { path_name, .. } => {
                let name = path_name.rsplit('/').next().unwrap_or(path_name);
                add.push(("aws:username", one(name.into())));
            }
            Caller::Root { account, .. } => add.push(("aws:userid", one(account.clone()))),
            Caller::FederatedUser { account, name, .. } => {
                add.push(("aws:userid", one(format!("{account}:{name}"))))
            }
            _ => {}
        }
        for (k, v) in add {
            self.context.insert_default(k, v);
        }
    }

    /// Adds `aws:CurrentTime` and `aws:EpochTime`, which AWS sets on every request, where the
    /// request does not give them: at the request's own time when it gives one of the two (as a
    /// date), so that the pair agrees; else at `now` (the clock). See [`time_keys`].
    pub fn add_time_keys(&mut self, now: std::time::SystemTime) {
        let given = ["aws:currenttime", "aws:epochtime"].iter().find_map(|k| {
            match self.context.get_lc(k) {
                Some(ContextValue::One(s)) => Instant::parse(s.text()),
                _ => None,
            }
        });
        let at = given.unwrap_or_else(|| Instant::from_system_time(now));
        for (k, v) in time_keys(at) {
            self.context.insert_default(k, v);
        }
    }

    /// The account of a resource ARN; for `*` or an ARN without account, the caller's (spec
    /// conformance README).
    pub fn resource_account<'a>(&'a self, resource: &'a str) -> Option<&'a str> {
        ArnPattern::parse(resource)
            .account()
            .filter(|a| !a.is_empty())
            .or_else(|| self.caller.account())
    }

    /// Every requested resource, primary first.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.resource.as_str())
            .chain(self.extra_resources.iter().map(|s| s.as_str()))
    }
}

/// `aws:CurrentTime` (a date) and `aws:EpochTime` (whole seconds) at `at`: the keys AWS gives
/// every request. The gateway sets them from its clock; `iamc authorize` and `iamc serve` add
/// them with [`Request::add_time_keys`].
pub fn time_keys(at: Instant) -> [(&'static str, ContextValue); 2] {
    [
        ("aws:CurrentTime", ContextValue::One(Scalar::date(at))),
        (
            "aws:EpochTime",
            ContextValue::One(Scalar::number(at.epoch_seconds().to_string())),
        ),
    ]
}

/// What a request looks like in JSON (request files, the conformance corpus).
///
/// Reading one refuses a field it does not know (`"Context"` for `"context"` would otherwise
/// drop the context, and a Deny that depends on it would not fire): the error names the field
/// and the nearest known one.
#[derive(Clone, Debug, Serialize)]
pub struct RequestJson {
    /// Optional id, echoed in the decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<serde_json::Value>,
    /// Principal ARN, `anonymous`, or a service principal.
    pub principal: String,
    /// `service:Action`.
    pub action: String,
    /// Resource ARN or `*`.
    pub resource: String,
    /// More resources for a multi-resource action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_resources: Vec<String>,
    /// Context keys.
    #[serde(default)]
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// The fields of a request, in the order they are documented.
pub const REQUEST_FIELDS: &[&str] = &[
    "id",
    "principal",
    "action",
    "resource",
    "extra_resources",
    "context",
];

/// The error for a field a JSON object of ours does not define: the field, the nearest defined
/// one (same name in another case, or at most two edits away), and the list. `what` names the
/// object (`a request`).
pub fn unknown_field_message(name: &str, what: &str, fields: &[&str]) -> String {
    let shown: String = name.chars().take(64).collect();
    match crate::parse::json::walk::suggest(name, fields) {
        Some(s) => format!(
            "unknown field `{shown}` in {what}; did you mean `{s}`? (fields: {})",
            fields.join(", ")
        ),
        None => format!(
            "unknown field `{shown}` in {what} (fields: {})",
            fields.join(", ")
        ),
    }
}

/// A key of a request object.
enum Field {
    Id,
    Principal,
    Action,
    Resource,
    ExtraResources,
    Context,
    Unknown(String),
}

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "id" => Field::Id,
                    "principal" => Field::Principal,
                    "action" => Field::Action,
                    "resource" => Field::Resource,
                    "extra_resources" => Field::ExtraResources,
                    "context" => Field::Context,
                    other => Field::Unknown(other.to_string()),
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

impl<'de> serde::Deserialize<'de> for RequestJson {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RequestJson, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RequestJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request: an object {\"principal\", \"action\", \"resource\", …}")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RequestJson, A::Error> {
                use serde::de::Error;
                fn once<T, E: Error>(
                    slot: &mut Option<T>,
                    v: T,
                    name: &'static str,
                ) -> Result<(), E> {
                    if slot.is_some() {
                        return Err(E::duplicate_field(name));
                    }
                    *slot = Some(v);
                    Ok(())
                }
                let mut id: Option<Option<serde_json::Value>> = None;
                let (mut principal, mut action, mut resource) = (None, None, None);
                let mut extra: Option<Vec<String>> = None;
                let mut context: Option<serde_json::Map<String, serde_json::Value>> = None;
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        Field::Id => once(&mut id, map.next_value()?, "id")?,
                        Field::Principal => once(&mut principal, map.next_value()?, "principal")?,
                        Field::Action => once(&mut action, map.next_value()?, "action")?,
                        Field::Resource => once(&mut resource, map.next_value()?, "resource")?,
                        Field::ExtraResources => {
                            once(&mut extra, map.next_value()?, "extra_resources")?
                        }
                        Field::Context => once(&mut context, map.next_value()?, "context")?,
                        Field::Unknown(name) => {
                            return Err(A::Error::custom(unknown_field_message(
                                &name,
                                "a request",
                                REQUEST_FIELDS,
                            )))
                        }
                    }
                }
                Ok(RequestJson {
                    id: id.flatten(),
                    principal: principal.ok_or_else(|| A::Error::missing_field("principal"))?,
                    action: action.ok_or_else(|| A::Error::missing_field("action"))?,
                    resource: resource.ok_or_else(|| A::Error::missing_field("resource"))?,
                    extra_resources: extra.unwrap_or_default(),
                    context: context.unwrap_or_default(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl RequestJson {
    /// Builds the request (without derived keys).
    pub fn to_request(&self) -> Result<Request, RequestError> {
        let caller = Caller::parse(&self.principal)?;
        let context = Context::from_json(&serde_json::Value::Object(self.context.clone()))?;
        if self.action.trim().is_empty() {
            return Err(RequestError::EmptyAction);
        }
        if self.resource.trim().is_empty() {
            return Err(RequestError::EmptyResource);
        }
        Ok(Request {
            caller,
            action: self.action.clone(),
            resource: self.resource.clone(),
            extra_resources: self.extra_resources.clone(),
            context,
        })
    }
}

#[cfg(test)]
mod tests;
