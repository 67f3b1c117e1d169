//! Resources: ARNs that cannot name what the statement's actions act on.
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM160` | warning | A malformed Kinesis ARN: no or a malformed region, an account that is not 12 digits, a resource type Kinesis does not have (`streams/x`), a name with characters a stream cannot have. It never matches. |
//! | `IAM161` | warning | An ARN of another service than the statement's actions act on (`arn:aws:s3:::b` for `kinesis:PutRecord`). |
//! | `IAM162` | warning | An ARN of a resource type no action of the statement takes (`kinesis:SubscribeToShard`, which takes a consumer, on a stream ARN). |
//! | `IAM163` | warning | A wildcard-only action (`kinesis:ListStreams`) whose statement lists only specific resources: such an action is authorized against `"*"` (spec §2.2 rule 7), so it never matches. |
//!
//! `IAM161`–`IAM163` run only on statements whose actions are all in the catalog; a statement
//! that also names other services could mean their resources. A policy variable counts as a
//! wildcard here. Kinesis resource policies have their own, stricter rules (`IAM115`, `IAM116`).

use crate::arn::{is_account_id, Arn, ArnPattern};
use crate::ast::{ArnForm, Effect, PolicyType, ResourcePattern, Statement};
use crate::catalog::{self, ActionInfo, ResourceRequirement, ResourceType};
use crate::diag::{Code, Diagnostic, Severity};
use crate::semantics::{resource_reading, ResourceReading};

use super::{at_item, list_names, nearest, Cx};

/// The pattern as text, each policy variable written as `*` (it can stand for anything); a
/// short ARN completed with `*` in its missing fields, as AWS reads it in identity-based
/// policies (spec §2.2 rule 4; `IAM164`/`IAM165` say how it is read elsewhere).
pub(crate) fn shape(p: &ResourcePattern) -> String {
    match &p.form {
        ArnForm::Short { completed, .. } => completed.shape(),
        _ => p.template.shape(),
    }
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// The service of an ARN pattern, when it is written out (`None` for `*`).
pub(crate) fn service_of(shape: &str) -> Option<&str> {
    if !shape.starts_with("arn:") {
        return None;
    }
    let s = ArnPattern::parse(shape).service()?;
    (!has_wildcard(s) && !s.is_empty()).then_some(s)
}

/// The catalog resource types a pattern can match. `None`: it could be anything (`*`, or a
/// wildcard where the service or the resource type is written). `Some(empty)`: none of the
/// catalog's types (another service's ARN, or a malformed one).
pub(crate) fn possible_types(shape: &str) -> Option<Vec<ResourceType>> {
    // The split of a full ARN pattern: its fields may hold wildcards or be empty.
    let Ok(arn) = Arn::parse(shape) else {
        return if has_wildcard(shape) {
            None
        } else {
            Some(Vec::new())
        };
    };
    if has_wildcard(arn.service()) {
        return None;
    }
    if arn.service() != "kinesis" && arn.service() != "kms" {
        return Some(Vec::new());
    }
    let r = arn.resource();
    if r.starts_with(['*', '?']) {
        return None;
    }
    let token = r.split('/').next().unwrap_or("");
    if has_wildcard(token) {
        return None;
    }
    Some(match (arn.service(), token) {
        ("kms", "key") => vec![ResourceType::KmsKey],
        ("kinesis", "channel") if r.len() > "channel/".len() => vec![ResourceType::Channel],
        ("kinesis", "stream") => match r.strip_prefix("stream/") {
            Some(rest) if !rest.is_empty() => stream_types(rest),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    })
}

/// What `stream/<rest>` can match: a stream (a name has no `/`), a consumer
/// (`NAME/consumer/CNAME:TS`), or both when a `*` can reach past the name.
fn stream_types(rest: &str) -> Vec<ResourceType> {
    let literal_head: &str = rest.split(['*', '?']).next().unwrap_or("");
    if literal_head.contains('/') || rest.contains("/consumer/") {
        return vec![ResourceType::Consumer];
    }
    if rest.contains('*') {
        return vec![ResourceType::Stream, ResourceType::Consumer];
    }
    if rest.contains('/') {
        return Vec::new();
    }
    vec![ResourceType::Stream]
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`: two letters, words, a number.
fn looks_like_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    parts.len() >= 3
        && first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
        && parts
            .iter()
            .skip(1)
            .take(parts.len() - 2)
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Why a Kinesis ARN pattern can never match a Kinesis resource, if it cannot.
fn malformed_kinesis(shape: &str) -> Option<String> {
    let Ok(arn) = Arn::parse(shape) else {
        return (!has_wildcard(shape))
            .then(|| "it has fewer than the six parts of an ARN (arn:partition:kinesis:region:account:resource)".to_string());
    };
    if arn.service() != "kinesis" {
        return None;
    }
    if !has_wildcard(arn.region()) {
        if arn.region().is_empty() {
            return Some("it has no region, and every Kinesis resource is in one".into());
        }
        if !looks_like_region(arn.region()) {
            return Some(format!(
                "\"{}\" is not a region (such as us-east-1)",
                arn.region()
            ));
        }
    }
    let account_ok = is_account_id(arn.account());
    if !has_wildcard(arn.account()) && !account_ok {
        return Some(format!(
            "the account \"{}\" is not a 12-digit account id",
            arn.account()
        ));
    }
    let r = arn.resource();
    if r.starts_with(['*', '?']) {
        return None;
    }
    let token = r.split('/').next().unwrap_or("");
    if has_wildcard(token) {
        return None;
    }
    match token {
        "stream" => {
            let rest = r.strip_prefix("stream/").unwrap_or("");
            if rest.is_empty() {
                return Some("it names no stream (stream/NAME)".into());
            }
            if let Some(c) = rest
                .chars()
                .find(|c| !name_char(*c) && !matches!(c, '*' | '?' | '/' | ':'))
            {
                return Some(format!(
                    "'{c}' cannot appear in a stream or consumer name (letters, digits, '_', '.', '-')"
                ));
            }
            if has_wildcard(rest) {
                return None;
            }
            let ok = match rest.split_once('/') {
                None => rest.len() <= 128 && !rest.contains(':'),
                Some((stream, consumer)) => {
                    let tail = consumer
                        .strip_prefix("consumer/")
                        .and_then(|c| c.split_once(':'));
                    !stream.is_empty()
                        && tail.is_some_and(|(name, ts)| {
                            !name.is_empty()
                                && name.chars().all(name_char)
                                && !ts.is_empty()
                                && ts.bytes().all(|b| b.is_ascii_digit())
                        })
                }
            };
            (!ok).then(|| {
                "it is neither a stream (stream/NAME) nor a consumer (stream/NAME/consumer/CONSUMER:TIMESTAMP)".to_string()
            })
        }
        "channel" => {
            (r.len() <= "channel/".len()).then(|| "it names no channel (channel/ID)".into())
        }
        other => {
            let near = nearest(other, ["stream", "channel"]);
            Some(match near {
                Some(n) => {
                    format!("\"{other}\" is not a Kinesis resource type; did you mean \"{n}\"?")
                }
                None => format!(
                    "\"{other}\" is not a Kinesis resource type (stream, consumer, channel)"
                ),
            })
        }
    }
}

fn types_phrase(types: &[ResourceType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

pub(super) fn check(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    for (_, stmt, acts) in cx.statements() {
        let Some(res) = &stmt.resource else {
            continue;
        };
        let element = if res.negated {
            "NotResource"
        } else {
            "Resource"
        };
        let n = res.patterns.len();
        for (i, p) in res.patterns.iter().enumerate() {
            out.extend(form_finding(cx.ty, stmt, res.negated, p, || {
                at_item(stmt, element, i, n)
            }));
            if p.is_star() || cx.ty == PolicyType::KinesisResource {
                continue;
            }
            if let Some(why) = malformed_kinesis(&shape(p)) {
                out.push(
                    Diagnostic::new(
                        Code::MalformedKinesisArn,
                        Severity::Warning,
                        format!(
                            "\"{}\" is not a valid Kinesis ARN: {why}; it never matches",
                            p.raw
                        ),
                        at_item(stmt, element, i, n),
                    )
                    .with_help(format!(
                        "a stream is {}, a consumer {}",
                        ResourceType::Stream.arn_format(),
                        ResourceType::Consumer.arn_format()
                    )),
                );
            }
        }
        if res.negated || cx.ty == PolicyType::KinesisResource {
            continue;
        }
        let Some(infos) = acts.known.as_deref() else {
            continue;
        };
        check_types(stmt, infos, out);
    }
    wildcard_only(cx, out);
}

/// `IAM164`, `IAM165`, `IAM187`: a pattern whose form AWS reads in a way the glob alone does
/// not say (spec §2.2 rule 4, §1.8), with how iamc reads it ([`resource_reading`]).
fn form_finding(
    ty: PolicyType,
    stmt: &Statement,
    negated: bool,
    p: &ResourcePattern,
    here: impl FnOnce() -> crate::ast::Loc,
) -> Option<Diagnostic> {
    if p.form == ArnForm::Plain {
        return None;
    }
    let here = here();
    let reading = match resource_reading(&p.form, ty, stmt.effect, negated) {
        ResourceReading::Glob => "as a glob, as written",
        ResourceReading::Completed => "completed",
        ResourceReading::Nothing => "as matching nothing",
        ResourceReading::Either => {
            "as matching what either the written or the completed form matches"
        }
        ResourceReading::Both => {
            "as matching only what both the written and the completed form match"
        }
    };
    let effect = match stmt.effect {
        Effect::Allow => "an Allow",
        Effect::Deny => "a Deny",
    };
    match &p.form {
        ArnForm::Plain => None,
        ArnForm::Short { completed, .. } => {
            let full = completed.shape();
            if matches!(
                ty,
                PolicyType::Identity | PolicyType::Boundary | PolicyType::Session | PolicyType::Scp
            ) {
                Some(
                    Diagnostic::new(
                        Code::ShortArnIdentity,
                        Severity::Warning,
                        format!(
                            "\"{}\" is a short ARN (fewer than six fields); AWS completes it with * in every missing field, so it means \"{full}\" (read {reading} in {effect})",
                            p.raw
                        ),
                        here,
                    )
                    .with_help(format!("write \"{full}\"")),
                )
            } else {
                Some(
                    Diagnostic::new(
                        Code::ShortArnResourcePolicy,
                        Severity::Error,
                        format!(
                            "\"{}\" is a short ARN (fewer than six fields); in a resource-based policy what AWS makes of it is not documented (iamc reads it {reading} in {effect})",
                            p.raw
                        ),
                        here,
                    )
                    .with_help(format!(
                        "write the full ARN, such as \"{full}\" or the ARN of the resource the policy is attached to"
                    )),
                )
            }
        }
        ArnForm::TypeWildcard => Some(
            Diagnostic::new(
                Code::WildcardResourceType,
                Severity::SecurityWarning,
                format!(
                    "\"{}\" has a wildcard in the resource type, which IAM does not allow; whether AWS refuses or ignores it is unverified, so iamc reads it {reading} in {effect}",
                    p.raw
                ),
                here,
            )
            .with_help("write the resource type out (stream/…, stream/NAME/consumer/…) and keep wildcards in the name"),
        ),
    }
}

/// `IAM161`, `IAM162` for one statement whose actions are all known.
fn check_types(stmt: &Statement, infos: &[&'static ActionInfo], out: &mut Vec<Diagnostic>) {
    let Some(res) = &stmt.resource else {
        return;
    };
    let scoped: Vec<&ActionInfo> = infos
        .iter()
        .copied()
        .filter(|a| a.resources != ResourceRequirement::WildcardOnly)
        .collect();
    if scoped.is_empty() {
        return;
    }
    let mut services: Vec<&str> = Vec::new();
    let mut taken: Vec<ResourceType> = Vec::new();
    for a in &scoped {
        for t in a.resources.types() {
            if !services.contains(&t.service()) {
                services.push(t.service());
            }
            if !taken.contains(t) {
                taken.push(*t);
            }
        }
    }
    let names: Vec<String> = scoped.iter().map(|a| a.full_name()).collect();
    let n = res.patterns.len();
    for (i, p) in res.patterns.iter().enumerate() {
        if p.is_star() {
            continue;
        }
        let sh = shape(p);
        let loc = || at_item(stmt, "Resource", i, n);
        if let Some(svc) = service_of(&sh) {
            if !services.iter().any(|s| s.eq_ignore_ascii_case(svc)) {
                out.push(
                    Diagnostic::new(
                        Code::ArnOfOtherService,
                        Severity::Warning,
                        format!(
                            "\"{}\" is a {svc} ARN, but the statement's actions ({}) act on {} resources; it never matches",
                            p.raw,
                            list_names(&names, 3),
                            services.join(" and ")
                        ),
                        loc(),
                    )
                    .with_help("move it to a statement with that service's actions, or fix the ARN"),
                );
                continue;
            }
        }
        let Some(types) = possible_types(&sh) else {
            continue;
        };
        if types.is_empty()
            || malformed_kinesis(&sh).is_some()
            || types.iter().any(|t| taken.contains(t))
        {
            continue;
        }
        let wants: Vec<String> = scoped
            .iter()
            .take(3)
            .map(|a| {
                format!(
                    "{} takes a {}",
                    a.full_name(),
                    types_phrase(a.resources.types())
                )
            })
            .collect();
        out.push(
            Diagnostic::new(
                Code::ResourceTypeNotTaken,
                Severity::Warning,
                format!(
                    "\"{}\" is a {} ARN, but no action of this statement acts on a {}; it never matches",
                    p.raw,
                    types_phrase(&types),
                    types_phrase(&types)
                ),
                loc(),
            )
            .with_help(wants.join("; ")),
        );
    }
}

/// `IAM163`: wildcard-only actions in a statement with only specific resources.
fn wildcard_only(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    if cx.ty == PolicyType::KinesisResource {
        return;
    }
    for (stmt, i, n, a) in cx.catalog_actions_on_specific_resources() {
        let matched = catalog::matching_actions(a);
        if matched.is_empty()
            || !matched
                .iter()
                .all(|m| m.resources == ResourceRequirement::WildcardOnly)
        {
            continue;
        }
        let names: Vec<String> = matched.iter().map(|m| m.full_name()).collect();
        out.push(
            Diagnostic::new(
                Code::WildcardOnlyActionOnResource,
                Severity::Warning,
                format!(
                    "{} acts on no resource: it is authorized against \"*\", so with only specific resources in Resource it never matches",
                    list_names(&names, 3)
                ),
                at_item(stmt, "Action", i, n),
            )
            .with_help("give it a statement of its own with \"Resource\": \"*\""),
        );
    }
}
