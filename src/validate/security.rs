//! Security warnings: grants broader than they look.
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM180` | security-warning | `Allow` with `NotAction`: every other action of every service, ones AWS adds later included. |
//! | `IAM181` | security-warning | `Allow` with `NotResource`: every other resource. |
//! | `IAM182` | security-warning | `Allow` with `NotPrincipal`: everyone else, anonymous callers included. |
//! | `IAM183` | security-warning | An `Allow` on a stream name prefix (`stream/orders*`): it also matches `orders-archive`, `orders2` and their consumers (spec §7.2). A pattern ending in a separator (`stream/orders-*`) reads as a family of streams and is not flagged. |
//! | `IAM184` | security-warning | An `Allow` on a wildcard stream pattern (`stream/*`) with actions that also act on consumers (`TagResource`, `PutResourcePolicy`, …) but no consumer action (`SubscribeToShard`, …): the grant reaches every consumer of those streams too. |
//! | `IAM185` | security-warning | A resource policy that allows write access to principals of other accounts (or to everyone, with no condition on the caller's account or organization). Writing records (`PutRecord`, `PutRecords`) is what a stream policy shares and is not flagged; deleting, re-sharding, tagging or changing the policy is. |
//! | `IAM186` | security-warning | `ForAllValues:` in an `Allow` without `"Null": {key: "false"}` in the same statement: a request without the key passes (spec §3.11). |

use crate::arn::{is_account_id, ArnPattern};
use crate::ast::{Effect, PolicyType, PrincipalValue, SetQualifier, Statement};
use crate::catalog::{AccessLevel, ResourceType};
use crate::diag::{Code, Diagnostic, Severity};

use super::resources::{possible_types, shape};
use super::{at, at_condition, at_item, list_names, Cx};

pub(super) fn check(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    for (_, stmt, acts) in cx.statements() {
        if stmt.effect != Effect::Allow {
            continue;
        }
        if stmt.action.negated {
            out.push(
                Diagnostic::new(
                    Code::AllowNotAction,
                    Severity::SecurityWarning,
                    "Allow with NotAction allows every action not listed, of every service, including actions AWS adds later",
                    at(stmt, "NotAction"),
                )
                .with_help("list the actions to allow in Action; keep NotAction for Deny statements"),
            );
        }
        if let Some(r) = &stmt.resource {
            if r.negated {
                out.push(
                    Diagnostic::new(
                        Code::AllowNotResource,
                        Severity::SecurityWarning,
                        "Allow with NotResource allows the actions on every resource not listed, of every account and service",
                        at(stmt, "NotResource"),
                    )
                    .with_help("list the resources to allow in Resource"),
                );
            }
        }
        if let Some(p) = &stmt.principal {
            if p.negated && cx.ty.has_principal() {
                out.push(
                    Diagnostic::new(
                        Code::AllowNotPrincipal,
                        Severity::SecurityWarning,
                        "Allow with NotPrincipal allows every principal not listed, anonymous callers included",
                        at(stmt, "NotPrincipal"),
                    )
                    .with_help("name the principals to allow in Principal"),
                );
            }
        }
        stream_patterns(stmt, acts.known.as_deref(), out);
        cross_account_write(cx, stmt, acts.known.as_deref(), out);
        for_all_values(stmt, out);
    }
}

/// `IAM183`, `IAM184`.
fn stream_patterns(
    stmt: &Statement,
    known: Option<&[&'static crate::catalog::ActionInfo]>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(r) = &stmt.resource else {
        return;
    };
    if r.negated {
        return;
    }
    let n = r.patterns.len();
    for (i, p) in r.patterns.iter().enumerate() {
        let sh = shape(p);
        let Some((head, rest)) = sh.split_once(":stream/") else {
            continue;
        };
        if !head.contains(":kinesis:") {
            continue;
        }
        // IAM183: `stream/<name prefix>*`.
        if let Some(prefix) = rest.strip_suffix('*') {
            let plain = !prefix.is_empty()
                && !prefix.contains(['*', '?', '/', ':'])
                && prefix
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
            if plain {
                out.push(
                    Diagnostic::new(
                        Code::StreamPrefixPattern,
                        Severity::SecurityWarning,
                        format!(
                            "\"{}\" matches every stream whose name starts with \"{prefix}\" (\"{prefix}-archive\", \"{prefix}2\", …) and all their consumers, not only the stream \"{prefix}\"",
                            p.raw
                        ),
                        at_item(stmt, "Resource", i, n),
                    )
                    .with_help(format!(
                        "write \"{head}:stream/{prefix}\" for the stream and \"{head}:stream/{prefix}/consumer/*\" for its consumers"
                    )),
                );
            }
        }
        // IAM184: a wildcard stream pattern that also reaches consumers.
        let Some(infos) = known else {
            continue;
        };
        let types = possible_types(&sh).unwrap_or_default();
        if !(types.contains(&ResourceType::Stream) && types.contains(&ResourceType::Consumer)) {
            continue;
        }
        let takes =
            |a: &&&crate::catalog::ActionInfo, t: ResourceType| a.resources.types().contains(&t);
        let consumer_only = infos
            .iter()
            .any(|a| takes(&a, ResourceType::Consumer) && !takes(&a, ResourceType::Stream));
        let both: Vec<String> = infos
            .iter()
            .filter(|a| takes(a, ResourceType::Consumer) && takes(a, ResourceType::Stream))
            .map(|a| a.full_name())
            .collect();
        if consumer_only || both.is_empty() {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::StreamWildcardGrantsConsumers,
                Severity::SecurityWarning,
                format!(
                    "\"{}\" also matches the consumers of those streams, so {} {} allowed on every consumer too",
                    p.raw,
                    list_names(&both, 3),
                    if both.len() == 1 { "is" } else { "are" }
                ),
                at_item(stmt, "Resource", i, n),
            )
            .with_help("list the stream ARNs, or add a Deny for the same actions on \"…:stream/*/consumer/*\""),
        );
    }
}

/// The 12-digit account of an ARN, or of an account id.
fn account_of(s: &str) -> Option<&str> {
    let acct = if s.starts_with("arn:") {
        ArnPattern::parse(s).account()?
    } else {
        s
    };
    is_account_id(acct).then_some(acct)
}

/// Condition keys that confine a grant to some accounts or principals.
const CALLER_KEYS: &[&str] = &[
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:username",
];

/// `IAM185`.
fn cross_account_write(
    cx: &Cx<'_>,
    stmt: &Statement,
    known: Option<&[&'static crate::catalog::ActionInfo]>,
    out: &mut Vec<Diagnostic>,
) {
    if !matches!(cx.ty, PolicyType::Resource | PolicyType::KinesisResource) {
        return;
    }
    let Some(p) = &stmt.principal else {
        return;
    };
    if p.negated {
        return;
    }
    // The write actions granted (records excepted).
    let writes: Vec<String> = match known {
        Some(infos) => infos
            .iter()
            .filter(|a| {
                matches!(
                    a.access_level,
                    AccessLevel::Write | AccessLevel::TaggingWrite
                )
            })
            .filter(|a| a.shareable.is_none())
            .map(|a| a.full_name())
            .collect(),
        None => {
            let all = stmt.action.negated
                || stmt
                    .action
                    .patterns
                    .iter()
                    .any(|a| a.raw == "*" || a.raw.ends_with(":*"));
            if all {
                vec![if stmt.action.negated {
                    "every action not listed".to_string()
                } else {
                    "every action".to_string()
                }]
            } else {
                Vec::new()
            }
        }
    };
    if writes.is_empty() {
        return;
    }
    // The resource's account: the attached ARN's, or the one all Resource ARNs name.
    let owner = cx.attached_to.and_then(account_of).or_else(|| {
        let r = stmt.resource.as_ref()?;
        let accounts: Vec<&str> = r
            .patterns
            .iter()
            .map(|p| account_of(&p.raw))
            .collect::<Option<Vec<_>>>()?;
        let first = *accounts.first()?;
        accounts.iter().all(|a| *a == first).then_some(first)
    });
    let confined = stmt
        .conditions
        .iter()
        .any(|c| CALLER_KEYS.contains(&c.key_lc.as_str()));
    let mut who: Vec<String> = Vec::new();
    for v in &p.values {
        match v {
            PrincipalValue::Anyone if !confined => who.push("everyone (\"*\")".into()),
            PrincipalValue::Aws(a) => {
                if let (Some(acct), Some(owner)) = (account_of(a), owner) {
                    if acct != owner && !who.iter().any(|w| w == acct) {
                        who.push(acct.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    if who.is_empty() {
        return;
    }
    out.push(
        Diagnostic::new(
            Code::CrossAccountWrite,
            Severity::SecurityWarning,
            format!(
                "this statement grants write access ({}) to principals of other accounts: {}",
                list_names(&writes, 3),
                who.join(", ")
            ),
            at(stmt, "Principal"),
        )
        .with_help("share read access and record writes only, or confine the grant with an aws:PrincipalOrgID condition"),
    );
}

/// `IAM186`.
fn for_all_values(stmt: &Statement, out: &mut Vec<Diagnostic>) {
    for c in &stmt.conditions {
        if c.operator.qualifier != Some(SetQualifier::ForAllValues) {
            continue;
        }
        let guarded = stmt.conditions.iter().any(|g| {
            g.operator.base == crate::ast::OperatorBase::Null
                && g.key_lc == c.key_lc
                && g.values
                    .iter()
                    .all(|v| v.parsed == crate::ast::Parsed::Null(false))
        });
        if guarded {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::ForAllValuesWithoutNull,
                Severity::SecurityWarning,
                format!(
                    "{} in an Allow also holds when the request has no {} at all, so such a request is allowed",
                    c.operator.name(),
                    c.key
                ),
                at_condition(c),
            )
            .with_help(format!(
                "add \"Null\": {{\"{}\": \"false\"}} to the same statement",
                c.key
            )),
        );
    }
}
