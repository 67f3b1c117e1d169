//! IAM's size limits per policy type (spec §7.5).
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM120` | error | Larger than the type allows: identity 10,240 (the largest inline quota, a role's), boundary 6,144 (a managed policy), session 2,048, SCP and RCP 5,120 characters. |
//! | `IAM121` | warning | An identity policy over 6,144 characters: only a role's inline policies can be that large. |
//!
//! IAM "does not count white space". The size is measured on the policy written compactly
//! from its AST: no whitespace outside strings, a list of one value written without brackets,
//! condition values as strings. That is never more than the source without whitespace (but
//! for a number or boolean written bare in a condition, which gains two quotes), and does not
//! depend on how the source is laid out; how AWS counts exactly is unverified (spec §7.5).
//! Kinesis resource policies have their own limit (`IAM117`).

use serde_json::{json, Map, Value};

use crate::ast::{Policy, PolicyType, PrincipalValue};
use crate::diag::{Code, Diagnostic, Severity};

use super::{policy_loc, type_phrase, Cx};

/// A customer-managed policy (and so a permissions boundary).
pub(crate) const MANAGED_POLICY_CHARS: usize = 6_144;
/// The largest identity policy: a role's inline policies together.
pub(crate) const ROLE_INLINE_CHARS: usize = 10_240;
/// A session policy.
pub(crate) const SESSION_POLICY_CHARS: usize = 2_048;
/// A role trust policy: 2,048 by default, raisable to 4,096 by a quota increase (spec §7.5,
/// unverified since 2023): the larger, so that no policy AWS may accept is refused.
pub(crate) const ROLE_TRUST_CHARS: usize = 4_096;
/// An SCP or RCP (unverified, spec §7.5).
pub(crate) const ORGANIZATION_POLICY_CHARS: usize = 5_120;

pub(super) fn check(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    let limit = match cx.ty {
        PolicyType::Identity => ROLE_INLINE_CHARS,
        PolicyType::Boundary => MANAGED_POLICY_CHARS,
        PolicyType::Session => SESSION_POLICY_CHARS,
        PolicyType::Scp | PolicyType::Rcp => ORGANIZATION_POLICY_CHARS,
        PolicyType::RoleTrust => ROLE_TRUST_CHARS,
        PolicyType::Resource | PolicyType::KinesisResource => return,
    };
    // A cheap bound first: the compact form is never longer than the source.
    if cx.policy.source_bytes <= MANAGED_POLICY_CHARS.min(limit) {
        return;
    }
    let size = compact_size(cx.policy);
    if size > limit {
        out.push(
            Diagnostic::error(
                Code::PolicyTooLarge,
                format!(
                    "{} can be at most {limit} characters (whitespace not counted); this one is {size}",
                    capitalize(type_phrase(cx.ty))
                ),
                policy_loc(""),
            )
            .with_help("split it into several policies, or merge statements that share actions or resources"),
        );
    } else if cx.ty == PolicyType::Identity && size > MANAGED_POLICY_CHARS {
        out.push(
            Diagnostic::new(
                Code::ManagedPolicyTooLarge,
                Severity::Warning,
                format!(
                    "this identity policy is {size} characters (whitespace not counted): more than a managed policy ({MANAGED_POLICY_CHARS}) or a user's inline policies (2048) may hold; only a role's inline policies ({ROLE_INLINE_CHARS}) fit it"
                ),
                policy_loc(""),
            )
            .with_help("split it into several managed policies"),
        );
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// One value, or a list of several.
fn one_or_many(mut v: Vec<Value>) -> Value {
    if v.len() == 1 {
        v.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(v)
    }
}

/// The number of characters of the policy written compactly (see the module docs).
pub(crate) fn compact_size(policy: &Policy) -> usize {
    let mut doc = Map::new();
    if let Some(v) = policy.version.as_str() {
        doc.insert("Version".into(), json!(v));
    }
    if let Some(id) = &policy.id {
        doc.insert("Id".into(), json!(id));
    }
    let mut statements = Vec::with_capacity(policy.statements.len());
    for s in &policy.statements {
        let mut m = Map::new();
        if let Some(sid) = &s.sid {
            m.insert("Sid".into(), json!(&**sid));
        }
        m.insert("Effect".into(), json!(s.effect.as_str()));
        if let Some(p) = &s.principal {
            let name = if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            let mut by_kind: Map<String, Value> = Map::new();
            let mut anyone = false;
            for v in &p.values {
                let (kind, text) = match v {
                    PrincipalValue::Anyone => {
                        anyone = true;
                        continue;
                    }
                    PrincipalValue::Aws(t) => ("AWS", t),
                    PrincipalValue::Service(t) => ("Service", t),
                    PrincipalValue::Federated(t) => ("Federated", t),
                    PrincipalValue::CanonicalUser(t) => ("CanonicalUser", t),
                };
                let entry = by_kind
                    .entry(kind.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = entry {
                    a.push(json!(text));
                }
            }
            let value = if anyone && by_kind.is_empty() {
                json!("*")
            } else {
                Value::Object(
                    by_kind
                        .into_iter()
                        .map(|(k, v)| match v {
                            Value::Array(a) => (k, one_or_many(a)),
                            other => (k, other),
                        })
                        .collect(),
                )
            };
            m.insert(name.into(), value);
        }
        let name = if s.action.negated {
            "NotAction"
        } else {
            "Action"
        };
        let actions = s.action.patterns.iter().map(|a| json!(a.raw)).collect();
        m.insert(name.into(), one_or_many(actions));
        if let Some(r) = &s.resource {
            let name = if r.negated { "NotResource" } else { "Resource" };
            let res = r.patterns.iter().map(|p| json!(p.raw)).collect();
            m.insert(name.into(), one_or_many(res));
        }
        if !s.conditions.is_empty() {
            let mut ops: Map<String, Value> = Map::new();
            for c in &s.conditions {
                let values = c.values.iter().map(|v| json!(v.raw)).collect();
                let entry = ops
                    .entry(c.operator.name())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(keys) = entry {
                    keys.insert(c.key.clone(), one_or_many(values));
                }
            }
            m.insert("Condition".into(), Value::Object(ops));
        }
        statements.push(Value::Object(m));
    }
    let st = if policy.single_statement {
        one_or_many(statements)
    } else {
        Value::Array(statements)
    };
    doc.insert("Statement".into(), st);
    Value::Object(doc).to_string().chars().count()
}
