//! The gateway's credentials file: which access keys exist, their secrets, and who they are.
//!
//! The gateway verifies SigV4 signatures itself ([`super::sigv4`]), so it must know every
//! access key a client may sign with. The file is JSON:
//!
//! ```json
//! {
//!   "version": 1,
//!   "keys": {
//!     "AKIAPRODUCER00000001": {
//!       "secret": "producer-secret-key",
//!       "principal": "arn:aws:iam::111122223333:user/producer",
//!       "tags": { "team": "ingest" }
//!     },
//!     "ASIASESSION000000001": {
//!       "secret": "session-secret-key",
//!       "session_token": "FwoGZXIvYXdzEBYaDH…",
//!       "principal": "arn:aws:sts::111122223333:assumed-role/Reader/alice",
//!       "session_policy": { "Version": "2012-10-17", "Statement": [ … ] }
//!     }
//!   }
//! }
//! ```
//!
//! | Field | Meaning |
//! | --- | --- |
//! | `version` | Required, `1`. |
//! | `keys` | Required object; each key is an access key id (16 to 128 characters, `A-Z` and `0-9`). |
//! | `keys.*.secret` | Required, non-empty: the secret access key. |
//! | `keys.*.principal` | Required: who signs with this key. An IAM user ARN, an account root ARN (`arn:aws:iam::ACCOUNT:root`), an assumed-role session ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) or a federated-user ARN (`arn:aws:sts::ACCOUNT:federated-user/NAME`). Not `anonymous`, a service principal or a role ARN (a role signs nothing; its sessions do). |
//! | `keys.*.tags` | Optional object, string to string: the principal's tags (`aws:PrincipalTag/…`); keys distinct ignoring ASCII case. |
//! | `keys.*.session_token` | Optional: when set, a request signed with this key must carry `X-Amz-Security-Token` equal to it (temporary credentials). Printable ASCII, no spaces. |
//! | `keys.*.session_policy` | Optional IAM JSON policy: the session policy of an assumed-role or federated-user session. Validated as a session policy. |
//!
//! `null` for an optional field is the same as leaving it out. Unknown fields are errors.
//!
//! The file is read with the span-preserving JSON reader, so every error names its JSON pointer
//! and line:column, and every error is reported, not only the first. Besides the reader's own
//! `IAM001` (syntax), `IAM002` (duplicate key) and `IAM003` (nesting bound) and the policy
//! checks' `IAM0xx`/`IAM1xx` codes (re-pointed under the key's `session_policy`), the codes are:
//!
//! | Code | Meaning |
//! | --- | --- |
//! | `IAM400` | The file cannot be read (missing, not a file, not UTF-8) or is larger than [`MAX_CREDENTIALS_BYTES`] (16 MiB). |
//! | `IAM401` | A field has the wrong JSON type or an invalid value (version, access key id, empty secret, session token, empty tag key). |
//! | `IAM402` | Unknown field; the pointer names it. |
//! | `IAM403` | A required field is missing (`version`, `keys`, `secret`, `principal`). |
//! | `IAM404` | `principal` is not a principal that can sign (unparsable, anonymous, a service, a role ARN). |
//! | `IAM405` | `session_policy` on a principal that is not a session (an IAM user or the root user). |
//! | `IAM406` | Two tag keys of one principal differ only in ASCII case. |
//!
//! Codes `IAM407` to `IAM409` are reserved for this file.
//!
//! Secrets and session tokens never appear in `Debug` output nor in diagnostics.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::ast::{Loc, PolicyDoc, PolicyType};
use crate::diag::{Code, Diagnostic};
use crate::parse::json::reader::{
    child_pointer, parse_json, value_end, JsonKey, JsonNode, JsonValue, Span,
};
use crate::parse::json::walk::{self, Codes, Fields, ReadError, Walker};
use crate::parse::{policy_from_node, Limits};
use crate::request::Caller;
use crate::validate::check_policy;

/// Largest credentials file: 16 MiB.
pub const MAX_CREDENTIALS_BYTES: usize = 16 * 1024 * 1024;

/// Fields of the top-level object.
const TOP_FIELDS: &[&str] = &["version", "keys"];
/// Fields of an entry of `keys`.
const KEY_FIELDS: &[&str] = &[
    "secret",
    "principal",
    "tags",
    "session_token",
    "session_policy",
];
/// Nesting the file adds above a session policy (`/keys/AKID/session_policy`).
const FILE_DEPTH: usize = 3;

/// One access key: its secret, and the principal that signs with it.
#[derive(Clone)]
pub struct Credential {
    /// The access key id (`AKIA…`, `ASIA…`).
    pub access_key_id: String,
    /// The secret access key (see [`Credential::secret`]).
    secret: String,
    /// The session token a request signed with this key must carry in `X-Amz-Security-Token`.
    pub session_token: Option<String>,
    /// The principal ARN, as written.
    pub principal: String,
    /// The principal, parsed.
    pub caller: Caller,
    /// The principal's tags.
    pub tags: BTreeMap<String, String>,
    /// The session policy (assumed-role and federated-user sessions only), with id
    /// `credentials/{access_key_id}/session-policy`.
    pub session_policy: Option<Arc<PolicyDoc>>,
}

impl Credential {
    /// The secret access key.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("principal", &self.principal)
            .field("tags", &self.tags)
            .field(
                "session_policy",
                &self.session_policy.as_ref().map(|d| d.id.clone()),
            )
            .finish()
    }
}

/// The access keys the gateway knows, by access key id.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    keys: BTreeMap<String, Credential>,
    warnings: Vec<Diagnostic>,
}

impl Credentials {
    /// Loads a credentials file (at most [`MAX_CREDENTIALS_BYTES`]). Every diagnostic's message
    /// starts with the file's name.
    ///
    /// Returns every error found (followed by the warnings found on the way) when the file is
    /// invalid.
    pub fn load(path: &Path) -> Result<Credentials, Vec<Diagnostic>> {
        let name = path.display().to_string();
        let text = read_bounded(path).map_err(|msg| {
            vec![Diagnostic::error(
                Code::CredentialsUnreadable,
                format!("{name}: {msg}"),
                Loc::default(),
            )]
        })?;
        Credentials::from_str(&text).map_err(|mut found| {
            for d in &mut found {
                d.message = format!("{name}: {}", d.message);
            }
            found
        })
    }

    /// Reads credentials from the JSON text of a credentials file.
    ///
    /// Returns every error found (followed by the warnings found on the way) when the text is
    /// invalid.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Credentials, Vec<Diagnostic>> {
        if text.len() > MAX_CREDENTIALS_BYTES {
            return Err(vec![Diagnostic::error(
                Code::CredentialsUnreadable,
                format!(
                    "the credentials file is {} bytes, more than the bound of \
                     {MAX_CREDENTIALS_BYTES} bytes",
                    text.len()
                ),
                Loc::default(),
            )]);
        }
        let policy_limits = Limits::default();
        let limits = Limits {
            max_document_bytes: MAX_CREDENTIALS_BYTES,
            max_depth: policy_limits.max_depth + FILE_DEPTH,
            ..policy_limits
        };
        let root = parse_json(text, &limits).map_err(|d| vec![d])?;
        let mut reader = Reader {
            text,
            limits: policy_limits,
            w: Walker::new(Codes {
                wrong_type: Code::CredentialsWrongType,
                unknown_field: Code::CredentialsUnknownField,
            }),
            warnings: Vec::new(),
        };
        let keys = reader.file(&root);
        let Reader {
            w: Walker { errors, .. },
            warnings,
            ..
        } = reader;
        if errors.is_empty() {
            Ok(Credentials { keys, warnings })
        } else {
            let mut all = errors;
            all.extend(warnings);
            Err(all)
        }
    }

    /// The credential of an access key id.
    pub fn get(&self, access_key_id: &str) -> Option<&Credential> {
        self.keys.get(access_key_id)
    }

    /// Every credential, ordered by access key id.
    pub fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.keys.values()
    }

    /// How many access keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The warnings found while reading (from the checks of session policies).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }
}

/// Reads a file of at most [`MAX_CREDENTIALS_BYTES`] as UTF-8; the size is checked before
/// reading. The error is a message without the file name.
fn read_bounded(path: &Path) -> Result<String, String> {
    walk::read_bounded(path, MAX_CREDENTIALS_BYTES).map_err(|e| match e {
        ReadError::Io(e) => format!("cannot read the credentials file: {e}"),
        ReadError::NotAFile => "cannot read the credentials file: it is not a file".into(),
        ReadError::TooBig(_) => {
            format!("the credentials file is more than the bound of {MAX_CREDENTIALS_BYTES} bytes")
        }
        ReadError::NotUtf8(e) => format!("the credentials file is not UTF-8 text: {e}"),
    })
}

/// 16 to 128 characters, `A-Z` and `0-9`.
fn valid_access_key_id(id: &str) -> bool {
    (16..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Non-empty printable ASCII without spaces: what can travel in a header unchanged.
fn valid_token(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Walks the file's tree, collecting every error.
struct Reader<'a> {
    /// The file's text (for the size of session policies).
    text: &'a str,
    /// Bounds of one session policy.
    limits: Limits,
    w: Walker,
    warnings: Vec<Diagnostic>,
}

impl Reader<'_> {
    /// The whole file.
    fn file(&mut self, root: &JsonNode) -> BTreeMap<String, Credential> {
        let mut out = BTreeMap::new();
        let Some(top) = self.w.object(root, "", TOP_FIELDS, "the credentials file") else {
            return out;
        };
        match top.get("version") {
            None => self.w.error_help(
                Code::CredentialsMissingField,
                "the credentials file has no `version` (it is required)",
                "add \"version\": 1",
                "",
                root.span,
            ),
            Some((v, ptr)) => {
                if !matches!(&v.value, JsonValue::Number(n) if n == "1") {
                    self.w.error_help(
                        Code::CredentialsWrongType,
                        "unsupported credentials file `version`: this iamc reads version 1",
                        "write \"version\": 1",
                        &ptr,
                        v.span,
                    );
                }
            }
        }
        let Some((keys, kptr)) = top.get("keys") else {
            self.w.error_help(
                Code::CredentialsMissingField,
                "the credentials file has no `keys` (it is required)",
                "add \"keys\": {\"AKIA…\": {\"secret\": …, \"principal\": …}}",
                "",
                root.span,
            );
            return out;
        };
        let JsonValue::Object(members) = &keys.value else {
            self.w.wrong_type("`keys`", "an object", keys, &kptr);
            return out;
        };
        for (key, entry) in members {
            let ptr = child_pointer(&kptr, &key.name);
            if let Some(c) = self.key(key, entry, &ptr) {
                out.insert(c.access_key_id.clone(), c);
            }
        }
        out
    }

    /// One entry of `keys`. Reports everything wrong with it before giving up.
    fn key(&mut self, key: &JsonKey, node: &JsonNode, pointer: &str) -> Option<Credential> {
        let akid = key.name.as_str();
        let mut ok = true;
        if !valid_access_key_id(akid) {
            self.w.error(
                Code::CredentialsWrongType,
                format!("`{akid}` is not an access key id (16 to 128 characters, A-Z and 0-9)"),
                pointer,
                key.span,
            );
            ok = false;
        }
        let f = self.w.object(node, pointer, KEY_FIELDS, "an access key")?;

        let secret = match f.get("secret") {
            None => {
                self.w.error(
                    Code::CredentialsMissingField,
                    format!("access key `{akid}` has no `secret` (it is required)"),
                    pointer,
                    node.span,
                );
                None
            }
            Some((v, sptr)) => match self.w.string(v, &sptr, "`secret`") {
                Some("") => {
                    self.w.error(
                        Code::CredentialsWrongType,
                        "`secret` must not be empty",
                        &sptr,
                        v.span,
                    );
                    None
                }
                s => s,
            },
        };

        let principal = match f.get("principal") {
            None => {
                self.w.error(
                    Code::CredentialsMissingField,
                    format!("access key `{akid}` has no `principal` (it is required)"),
                    pointer,
                    node.span,
                );
                None
            }
            Some((v, pptr)) => self
                .w
                .string(v, &pptr, "`principal`")
                .and_then(|p| self.principal(p, &pptr, v.span).map(|c| (p, c))),
        };

        let session_token = match f.get("session_token") {
            None => None,
            Some((v, _)) if v.value == JsonValue::Null => None,
            Some((v, tptr)) => match self.w.string(v, &tptr, "`session_token`") {
                Some(t) if valid_token(t) => Some(t.to_string()),
                Some(_) => {
                    self.w.error(
                        Code::CredentialsWrongType,
                        "`session_token` must be non-empty printable ASCII without spaces (it \
                         travels in the X-Amz-Security-Token header)",
                        &tptr,
                        v.span,
                    );
                    ok = false;
                    None
                }
                None => {
                    ok = false;
                    None
                }
            },
        };

        let tags = self.tags(&f, &mut ok);

        let session_policy = match f.get("session_policy") {
            None => None,
            Some((v, _)) if v.value == JsonValue::Null => None,
            Some((v, pptr)) => {
                let is_session = matches!(
                    principal,
                    Some((_, Caller::RoleSession { .. } | Caller::FederatedUser { .. }))
                );
                if principal.is_some() && !is_session {
                    self.w.error_help(
                        Code::CredentialsSessionPolicy,
                        format!(
                            "access key `{akid}`: a session policy applies only to an \
                             assumed-role or federated-user session, not to this principal"
                        ),
                        "use a principal arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION or \
                         arn:aws:sts::ACCOUNT:federated-user/NAME, or remove `session_policy`",
                        &pptr,
                        v.span,
                    );
                    ok = false;
                }
                let doc = self.session_policy(akid, v, &pptr);
                if doc.is_none() {
                    ok = false;
                }
                doc
            }
        };

        let (Some(secret), Some((principal, caller))) = (secret, principal) else {
            return None;
        };
        if !ok {
            return None;
        }
        Some(Credential {
            access_key_id: akid.to_string(),
            secret: secret.to_string(),
            session_token,
            principal: principal.to_string(),
            caller,
            tags,
            session_policy,
        })
    }

    /// A principal that can sign requests.
    fn principal(&mut self, text: &str, pointer: &str, span: Span) -> Option<Caller> {
        let help = "a principal is arn:aws:iam::ACCOUNT:user/NAME, arn:aws:iam::ACCOUNT:root, \
                    arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION or \
                    arn:aws:sts::ACCOUNT:federated-user/NAME";
        let why = match Caller::parse(text) {
            Ok(
                c @ (Caller::User { .. }
                | Caller::Root { .. }
                | Caller::RoleSession { .. }
                | Caller::FederatedUser { .. }),
            ) => return Some(c),
            Ok(Caller::Anonymous) => "an access key cannot belong to the anonymous principal".into(),
            Ok(Caller::Service { .. }) => {
                "an access key cannot belong to a service principal".into()
            }
            Ok(Caller::Role { .. }) => "a role signs no requests itself; give the ARN of one of \
                                        its sessions (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)"
                .into(),
            Err(e) => e.to_string(),
        };
        self.w.error_help(
            Code::CredentialsBadPrincipal,
            format!("bad `principal` `{text}`: {why}"),
            help,
            pointer,
            span,
        );
        None
    }

    /// `tags`: string -> string, keys distinct ignoring ASCII case.
    fn tags(&mut self, f: &Fields<'_>, ok: &mut bool) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some((v, ptr)) = f.get("tags") else {
            return out;
        };
        let members = match &v.value {
            JsonValue::Null => return out,
            JsonValue::Object(m) => m,
            _ => {
                self.w.wrong_type("`tags`", "an object", v, &ptr);
                *ok = false;
                return out;
            }
        };
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (key, value) in members {
            let tptr = child_pointer(&ptr, &key.name);
            if key.name.is_empty() {
                self.w.error(
                    Code::CredentialsWrongType,
                    "a tag key must not be empty",
                    &tptr,
                    key.span,
                );
                *ok = false;
                continue;
            }
            if let Some(other) = seen.insert(key.name.to_ascii_lowercase(), &key.name) {
                self.w.error(
                    Code::CredentialsTagCase,
                    format!(
                        "tag keys `{other}` and `{}` differ only in case; condition keys ignore \
                         case",
                        key.name
                    ),
                    &tptr,
                    key.span,
                );
                *ok = false;
                continue;
            }
            match self.w.string(value, &tptr, "a tag value") {
                Some(s) => {
                    out.insert(key.name.clone(), s.to_string());
                }
                None => *ok = false,
            }
        }
        out
    }

    /// `session_policy`: built, checked as a session policy, findings re-pointed under
    /// `pointer`.
    fn session_policy(
        &mut self,
        akid: &str,
        node: &JsonNode,
        pointer: &str,
    ) -> Option<Arc<PolicyDoc>> {
        if !matches!(node.value, JsonValue::Object(_)) {
            self.w.wrong_type(
                "`session_policy`",
                "a policy document (an object)",
                node,
                pointer,
            );
            return None;
        }
        let bytes = value_end(self.text, node.span.offset).saturating_sub(node.span.offset);
        let policy = match policy_from_node(node, bytes, &self.limits) {
            Ok(p) => p,
            Err(found) => {
                self.report(found, pointer, node.span);
                return None;
            }
        };
        let found = check_policy(&policy, PolicyType::Session, None);
        let failed = found.iter().any(Diagnostic::is_error);
        self.report(found, pointer, node.span);
        if failed {
            return None;
        }
        Some(PolicyDoc::new(
            format!("credentials/{akid}/session-policy"),
            PolicyType::Session,
            policy,
        ))
    }

    /// Files a policy's findings under `pointer`; whole-policy findings go to the document.
    fn report(&mut self, found: Vec<Diagnostic>, pointer: &str, span: Span) {
        for mut d in found {
            d.loc.pointer = format!("{pointer}{}", d.loc.pointer);
            if d.loc.line == 0 {
                d.loc.line = span.line;
                d.loc.column = span.column;
            }
            if d.is_error() {
                self.w.errors.push(d);
            } else {
                self.warnings.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests;
