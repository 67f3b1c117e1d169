//! Importing AWS account data into a store (`iamc import`): the output of
//! `aws iam get-account-authorization-details`, an organization's SCP and RCP hierarchy, and
//! Kinesis streams with their resource policies and tags. Several accounts merge into one store.
//!
//! This stage sits before the store: it reads what the AWS CLI prints, maps what the store
//! models, and reports everything else with its place (a [`Diagnostic`] with a code, the input
//! file in the message, a JSON pointer and a line and column). Nothing is guessed: an item that
//! cannot be mapped is skipped and reported. The store it writes is loaded back with
//! [`Store::from_str`] before it is returned, so it passes `iamc check`.
//!
//! # Inputs
//!
//! **Authorization details** ([`Importer::authorization_details`]): the JSON that
//! `aws iam get-account-authorization-details` prints (the CLI merges the pages), one file per
//! account. Read: `UserDetailList[]` (`UserName`, `Path`, `UserId`, `Arn`, `GroupList`,
//! `UserPolicyList[]{PolicyName, PolicyDocument}`, `AttachedManagedPolicies[]{PolicyArn}`,
//! `PermissionsBoundary{PermissionsBoundaryArn}`, `Tags[]{Key, Value}`), `GroupDetailList[]`
//! (`GroupName`, `Path`, `Arn`, `GroupPolicyList`, `AttachedManagedPolicies`), `RoleDetailList[]`
//! (`RoleName`, `Path`, `RoleId`, `Arn`, `RolePolicyList`, `AttachedManagedPolicies`,
//! `PermissionsBoundary`, `Tags`, `AssumeRolePolicyDocument`) and `Policies[]` (`Arn`,
//! `PolicyVersionList[]{Document, IsDefaultVersion}`). Other fields are ignored. A principal's
//! account is the account of its `Arn`. A policy document may be a JSON object (as the CLI and
//! boto3 print it), or a string holding the JSON, URL-encoded (RFC 3986, as the API returns it)
//! or not. A managed policy's document is its default version (`IsDefaultVersion: true`);
//! attached managed policies are looked up in the `Policies` of every file given, so an AWS
//! managed policy needs to be in one of them.
//!
//! **Organization** ([`Importer::organization`]): a JSON object documented here, which a script
//! fills from `aws organizations list-roots`, `list-children`, `list-policies-for-target` and
//! `describe-policy`:
//!
//! ```json
//! {
//!   "management_account": "999999999999",
//!   "policies": [
//!     { "PolicySummary": { "Id": "p-FullAWSAccess", "Name": "FullAWSAccess",
//!                          "Type": "SERVICE_CONTROL_POLICY" },
//!       "Content": "{\"Version\":\"2012-10-17\",\"Statement\":[…]}" }
//!   ],
//!   "root": {
//!     "id": "r-ab12", "policies": ["p-FullAWSAccess"],
//!     "children": [
//!       { "id": "ou-ab12-11111111", "policies": ["p-DenyDelete"],
//!         "children": [ { "account": "111122223333", "policies": ["p-FullAWSAccess"] } ] }
//!     ]
//!   }
//! }
//! ```
//!
//! `policies` holds what `aws organizations describe-policy --policy-id ID --query Policy`
//! prints (`Content` a JSON string or object). Each node of the tree is the root, an OU (`id`)
//! or an account (`account`, a leaf); `policies` lists the ids of the policies attached to it.
//! An account's SCP levels are the `SERVICE_CONTROL_POLICY` policies of each node from the root
//! to the account, one level per node; its RCP levels likewise with
//! `RESOURCE_CONTROL_POLICY`. Other policy types (tag, backup, AI opt-out, …) are not modeled:
//! reported (`IAM505`) and skipped. A level with no SCP (AWS requires one at every level once
//! SCPs are enabled) is reported and left out; a level with no RCP is left out silently (AWS
//! attaches `RCPFullAWSAccess` by default).
//!
//! **Kinesis** ([`Importer::kinesis`]): one JSON object per account and region, documented here,
//! combining `aws kinesis list-streams`, `get-resource-policy` and `list-tags-for-resource` for
//! each stream and consumer:
//!
//! ```json
//! { "streams": [
//!     { "StreamARN": "arn:aws:kinesis:us-east-2:111122223333:stream/orders",
//!       "Policy": "{\"Version\":\"2012-10-17\",…}",
//!       "Tags": [ { "Key": "env", "Value": "prod" } ],
//!       "Consumers": [ { "ConsumerARN": "arn:aws:kinesis:…:stream/orders/consumer/app:1674696300",
//!                        "Policy": null } ] } ] }
//! ```
//!
//! `Policy` is `get-resource-policy`'s `Policy` (a JSON string, an object, or absent/`null` for
//! none); `Tags` is `list-tags-for-resource`'s list, or an object `key -> value`.
//!
//! # Output
//!
//! [`Importer::finish`] gives the store's text: `store.json`, every document inline. Managed
//! policies become entries of `policies` named by their ARN (an ARN used as a boundary gets a
//! second entry, `ARN (boundary)`, of type `boundary`); inline policies stay under their
//! principal; SCPs and RCPs are named by their organization name. A role's trust policy
//! (`AssumeRolePolicyDocument`) becomes its `trust` (type `role-trust`).
//!
//! # Codes
//!
//! | Code | Meaning |
//! | --- | --- |
//! | `IAM500` | An input cannot be read or is not JSON (an error: nothing is written). |
//! | `IAM501` | A field has the wrong JSON type or an invalid value (name, path, account id, ARN); the item is skipped. |
//! | `IAM502` | A required field is missing (a name, an `Arn`, a stream ARN); the item is skipped. |
//! | `IAM503` | A policy document cannot be decoded, parsed or validated for its place (the inner code is in the message); it is skipped. |
//! | `IAM504` | A reference the inputs do not resolve (a managed policy not in any `Policies`, a policy without a default version, a group, an organization policy id); it is skipped. |
//! | `IAM505` | Something the store does not model: organization policy types other than SCPs and RCPs, a level with no SCP. |
//! | `IAM506` | The same principal, managed policy, organization policy name or resource twice with different content; the first is kept. |

mod details;
mod kinesis;
mod org;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::ast::{Loc, PolicyType};
use crate::diag::{Code, Diagnostic, Severity};
use crate::parse::json::reader::{child_pointer, parse_json, value_end, JsonNode, JsonValue, Span};
use crate::parse::{policy_from_node, Limits};
use crate::store::{valid_name, valid_path, Store};
use crate::validate::check_policy;

/// Largest input file, in bytes (1 GiB).
pub const MAX_INPUT_BYTES: usize = 1024 * 1024 * 1024;

/// What an import read and wrote, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    /// Accounts with principals.
    pub accounts: usize,
    /// IAM users written.
    pub users: usize,
    /// IAM groups written.
    pub groups: usize,
    /// IAM roles written.
    pub roles: usize,
    /// Managed policies written (each once, per type).
    pub managed_policies: usize,
    /// Inline policies written.
    pub inline_policies: usize,
    /// Role trust policies written.
    pub trust_policies: usize,
    /// Accounts with SCP or RCP levels.
    pub organization_accounts: usize,
    /// Streams and consumers written.
    pub resources: usize,
    /// Items skipped (each reported).
    pub skipped: usize,
}

/// The result of [`Importer::finish`].
#[derive(Debug)]
pub struct Imported {
    /// The store's text (`store.json`); `None` when the inputs had errors.
    pub store: Option<String>,
    /// What was reported: errors (an input that cannot be read) and warnings (skipped items).
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub stats: ImportStats,
}

/// A place in an input file.
#[derive(Clone, Debug)]
struct Place {
    /// The input file's name, as given.
    file: String,
    pointer: String,
    span: Span,
}

/// A policy document, decoded and checked to parse; validated when it is placed.
#[derive(Clone, Debug, PartialEq)]
struct Doc {
    /// The document as JSON.
    json: Value,
    /// Its text (for parsing and validating).
    text: String,
}

/// A user, group or role.
#[derive(Debug, Default)]
struct Principal {
    name: String,
    path: String,
    id: Option<String>,
    groups: Vec<(String, Place)>,
    attached: Vec<(String, Place)>,
    inline: Vec<(String, Doc, Place)>,
    boundary: Option<(String, Place)>,
    tags: Vec<(String, String)>,
    /// A role's trust policy.
    trust: Option<Doc>,
}

/// The principals of one account, by lower-cased name.
#[derive(Debug, Default)]
struct AccountOut {
    users: BTreeMap<String, Principal>,
    groups: BTreeMap<String, Principal>,
    roles: BTreeMap<String, Principal>,
}

/// A stream or consumer.
#[derive(Debug)]
struct ResourceOut {
    policy: Option<Value>,
    tags: Vec<(String, String)>,
}

/// SCP or RCP levels, root first: the ids of each level's policies.
type Levels = Vec<Vec<String>>;

/// An organization policy: its name, type and document.
#[derive(Debug)]
struct OrgPolicy {
    name: String,
    ty: PolicyType,
    doc: Doc,
}

/// Reads AWS account data and builds a store. Feed it inputs, then [`Importer::finish`].
#[derive(Debug, Default)]
pub struct Importer {
    diags: Vec<Diagnostic>,
    stats: ImportStats,
    accounts: BTreeMap<String, AccountOut>,
    /// Managed policies by ARN: the default version's document.
    managed: BTreeMap<String, (Doc, Place)>,
    /// Organization policies by id.
    org_policies: BTreeMap<String, OrgPolicy>,
    /// Ids of organization policies of a type the store does not model (reported once).
    org_unmodeled: Vec<String>,
    management_account: Option<String>,
    /// Per account: SCP and RCP levels, each a list of organization policy ids.
    org_levels: BTreeMap<String, (Levels, Levels)>,
    resources: BTreeMap<String, ResourceOut>,
}

impl Importer {
    /// An importer with nothing read.
    pub fn new() -> Importer {
        Importer::default()
    }

    /// A finding at `place`.
    fn report(&mut self, code: Code, msg: impl Into<String>, place: &Place) {
        let sev = code.severity();
        if sev != Severity::Error {
            self.stats.skipped += 1;
        }
        self.diags.push(Diagnostic::new(
            code,
            sev,
            format!("{}: {}", place.file, msg.into()),
            Loc {
                pointer: place.pointer.clone(),
                line: place.span.line,
                column: place.span.column,
            },
        ));
    }

    /// Parses an input file's text; an error is reported (`IAM500`) and gives `None`.
    fn parse_input(&mut self, file: &str, text: &str) -> Option<JsonNode> {
        let limits = Limits {
            max_document_bytes: MAX_INPUT_BYTES,
            max_depth: 128,
            ..Limits::default()
        };
        match parse_json(text, &limits) {
            Ok(n) => Some(n),
            Err(d) => {
                let place = Place {
                    file: file.to_string(),
                    pointer: d.loc.pointer.clone(),
                    span: Span {
                        offset: 0,
                        line: d.loc.line,
                        column: d.loc.column,
                    },
                };
                self.report(
                    Code::ImportUnreadable,
                    format!("not JSON: {}", d.message),
                    &place,
                );
                None
            }
        }
    }

    /// Reads a policy document at `place`: a JSON object, or a string holding JSON
    /// (URL-encoded or not). Its text must parse as a policy; validation waits for its place.
    fn document(&mut self, text: &str, node: &JsonNode, place: &Place) -> Option<Doc> {
        let doc_text = match &node.value {
            JsonValue::Object(_) => {
                let end = value_end(text, node.span.offset);
                text.get(node.span.offset..end)?.to_string()
            }
            JsonValue::String(s) if s.trim_start().starts_with('{') => s.clone(),
            JsonValue::String(s) => match percent_decode(s) {
                Some(d) => d,
                None => {
                    self.report(
                        Code::ImportBadDocument,
                        "the policy document is neither JSON nor URL-encoded UTF-8 JSON; skipped",
                        place,
                    );
                    return None;
                }
            },
            _ => {
                self.report(
                    Code::ImportWrongType,
                    format!(
                        "a policy document is an object or a string, not {}; skipped",
                        node.kind_name()
                    ),
                    place,
                );
                return None;
            }
        };
        let json = match serde_json::from_str::<Value>(&doc_text) {
            Ok(v) if v.is_object() => v,
            _ => {
                self.report(
                    Code::ImportBadDocument,
                    "the policy document (decoded) is not a JSON object; skipped",
                    place,
                );
                return None;
            }
        };
        Some(Doc {
            json,
            text: doc_text,
        })
    }

    /// Whether `doc` is a valid policy of type `ty` (attached to `arn`, for a resource policy);
    /// if not, reports the first error (`IAM503`).
    fn valid(&mut self, doc: &Doc, ty: PolicyType, arn: Option<&str>, place: &Place) -> bool {
        let limits = Limits::default();
        let first = match parse_json(&doc.text, &limits)
            .map_err(|d| vec![d])
            .and_then(|n| policy_from_node(&n, doc.text.len(), &limits))
        {
            Ok(p) => check_policy(&p, ty, arn).into_iter().find(|d| d.is_error()),
            Err(errors) => errors.into_iter().next(),
        };
        match first {
            None => true,
            Some(d) => {
                let inner = Place {
                    pointer: format!("{}{}", place.pointer, d.loc.pointer),
                    ..place.clone()
                };
                self.report(
                    Code::ImportBadDocument,
                    format!(
                        "not a valid {} policy, skipped: {}[{}] {} (at {} in the document)",
                        ty.as_str(),
                        d.severity.as_str(),
                        d.code,
                        d.message,
                        d.loc
                    ),
                    &inner,
                );
                false
            }
        }
    }

    /// Builds the store from everything read, and checks that it loads.
    pub fn finish(mut self) -> Imported {
        let store = if self.diags.iter().any(Diagnostic::is_error) {
            None
        } else {
            let v = self.build();
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            match Store::from_str(&text, None) {
                Ok(_) => Some(text),
                Err(errors) => {
                    // An importer bug: what it wrote does not load. Say so, with the store's
                    // own findings.
                    for mut d in errors.into_iter().filter(Diagnostic::is_error) {
                        d.message = format!("the imported store does not load: {}", d.message);
                        self.diags.push(d);
                    }
                    None
                }
            }
        };
        Imported {
            store,
            diagnostics: self.diags,
            stats: self.stats,
        }
    }

    /// The store JSON.
    fn build(&mut self) -> Value {
        let mut policies = Map::new();
        let accounts = self.build_accounts(&mut policies);
        let organization = self.build_organization(&mut policies);
        let mut resources = Map::new();
        for (arn, r) in std::mem::take(&mut self.resources) {
            let mut entry = Map::new();
            entry.insert("policy".into(), r.policy.unwrap_or(Value::Null));
            entry.insert("tags".into(), tags_json(&r.tags));
            resources.insert(arn, Value::Object(entry));
            self.stats.resources += 1;
        }
        let mut top = Map::new();
        top.insert("version".into(), Value::from(1));
        top.insert("policies".into(), Value::Object(policies));
        if let Some(o) = organization {
            top.insert("organization".into(), o);
        }
        top.insert("accounts".into(), Value::Object(accounts));
        top.insert("resources".into(), Value::Object(resources));
        Value::Object(top)
    }

    /// The name of managed policy `arn` as a policy of type `ty` in `policies`, adding it when
    /// it is not there; `None` (reported) when the inputs do not hold it or it is invalid.
    fn managed_ref(
        &mut self,
        arn: &str,
        ty: PolicyType,
        at: &Place,
        policies: &mut Map<String, Value>,
    ) -> Option<String> {
        let name = match ty {
            PolicyType::Boundary => format!("{arn} (boundary)"),
            _ => arn.to_string(),
        };
        if policies.contains_key(&name) {
            return Some(name);
        }
        let Some((doc, place)) = self.managed.get(arn).cloned() else {
            self.report(
                Code::ImportUnresolved,
                format!(
                    "managed policy `{arn}` is not in the `Policies` of any authorization-details \
                     input (for an AWS managed policy, dump without --filter or add \
                     AWSManagedPolicy); the attachment is skipped"
                ),
                at,
            );
            return None;
        };
        if !self.valid(&doc, ty, None, &place) {
            return None;
        }
        let mut entry = Map::new();
        entry.insert("type".into(), Value::from(ty.as_str()));
        entry.insert("document".into(), doc.json);
        policies.insert(name.clone(), Value::Object(entry));
        self.stats.managed_policies += 1;
        Some(name)
    }
}

/// `[{"Key","Value"}]` pairs as a store `tags` object.
fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// RFC 3986 percent-decoding (`%7B` -> `{`); `+` stays `+`, as IAM's encoding leaves it.
/// `None` when an escape is malformed or the result is not UTF-8. Written here rather than
/// taken from `percent-encoding`, whose decoder passes a malformed escape through unchanged:
/// a document that does not decode must be reported, not guessed.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            // Two hex digits exactly (`from_str_radix` would also take a sign: `%+1`).
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Member `key` of an object node, with its pointer.
fn member<'n>(node: &'n JsonNode, pointer: &str, key: &str) -> Option<(&'n JsonNode, String)> {
    match &node.value {
        JsonValue::Object(m) => m
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| (v, child_pointer(pointer, key))),
        _ => None,
    }
}

/// The string of member `key`, when it is one.
fn member_str<'n>(node: &'n JsonNode, key: &str) -> Option<&'n str> {
    match &member(node, "", key)?.0.value {
        JsonValue::String(s) => Some(s),
        _ => None,
    }
}

/// The items of member `key` when it is an array, with their pointers (absent or `null`: none).
fn member_items<'n>(node: &'n JsonNode, pointer: &str, key: &str) -> Vec<(&'n JsonNode, String)> {
    match member(node, pointer, key) {
        Some((
            JsonNode {
                value: JsonValue::Array(items),
                ..
            },
            p,
        )) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (n, child_pointer(&p, &i.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

/// The account of an ARN (`arn:aws:iam::111122223333:user/x` -> `111122223333`) when it is 12
/// digits.
fn arn_account(arn: &str) -> Option<&str> {
    let acct = arn.split(':').nth(4)?;
    (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then_some(acct)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_follows_rfc_3986() {
        assert_eq!(
            percent_decode("%7B%22a%22%3A%201%7D").unwrap(),
            "{\"a\": 1}"
        );
        assert_eq!(percent_decode("a+b%2Bc").unwrap(), "a+b+c");
        assert_eq!(percent_decode("%C3%A9").unwrap(), "é");
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("%4"), None);
        assert!(percent_decode("%7").is_none());
        assert!(percent_decode("%zz").is_none());
        assert!(percent_decode("%FF").is_none());
    }
}
