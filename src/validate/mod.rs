//! Stage 2: the rules of each policy type and the lints (spec §1.6, §1.8, §3, §4, §6, §7).
//!
//! The parser ([`crate::parse`]) has already enforced every rule that holds for all policy
//! types (codes `IAM0xx`). [`check_policy`] adds the rules of one type (where `Principal` and
//! `Resource` are required or forbidden, the RCP restrictions, the Kinesis resource-policy
//! profile, IAM's size limits) and the lints that find policies IAM accepts but that do not do
//! what they seem to: unknown actions, ARNs no action of the statement takes, condition keys
//! the actions never set, operators of the wrong type, over-broad grants, statements that are
//! redundant or can never match. [`check_text`] does the same from source text, parse errors
//! included, with every finding placed on the line and column of the element it is about.
//!
//! A policy is accepted when no finding is an [`Severity::Error`](crate::diag::Severity); the
//! store ([`crate::store`]) refuses a policy with an error and keeps the rest as warnings.
//! Findings never panic, whatever the input; the pairwise comparison of statements is bounded
//! (500 statements, a fixed budget of steps).
//!
//! Locations: the AST keeps the position of each statement, not of each element, so
//! [`check_policy`] gives each finding the element's JSON pointer (`/Statement/0/Principal`, or
//! `/Statement/0/Action/2` when the element is a list of several values) with the line and
//! column of the **enclosing statement**; whole-policy findings (size, Version) have no line.
//! [`check_text`] and [`Locator`] map the pointer back to the element's own place.
//!
//! # Codes
//!
//! One table for every code the validator gives; each is tested in `tests/check.rs` by a policy
//! that triggers it and one that does not. [`Code`](crate::diag::Code) holds every code as data
//! (a test checks that this table agrees with it). The parser's
//! codes (`IAM0xx`) are listed in [`crate::parse::json::policy`], the store's (`IAM3xx`) in
//! [`crate::store`].
//!
//! | Code | Severity | Family | Meaning |
//! | --- | --- | --- | --- |
//! | `IAM101` | error | types | `Principal`/`NotPrincipal` in an identity policy, boundary, session policy or SCP. |
//! | `IAM102` | error | types | `Resource`/`NotResource` missing (every type checked here needs one). |
//! | `IAM103` | error | types | `Sid` not ASCII letters and digits in an identity policy, boundary, session policy or SCP. |
//! | `IAM104` | error | types | `Principal`/`NotPrincipal` missing in a resource-based policy or RCP. |
//! | `IAM105` | error | types | RCP: `Principal` is not exactly `"*"`, or `NotPrincipal` is used. |
//! | `IAM106` | error | types | RCP: `Effect` is `Allow` outside the `RCPFullAWSAccess` statement (Allow `*` on `*`). |
//! | `IAM107` | error | types | RCP: `NotAction` is used. |
//! | `IAM108` | error | types | RCP: a `Deny` with `Action` `"*"`. |
//! | `IAM109` | error | types | RCP: `Version` is not `2012-10-17`. |
//! | `IAM110` | error | kinesis | Kinesis resource policy: a wildcard (`*`, `?`) in an action. |
//! | `IAM111` | error | kinesis | Kinesis resource policy: the principal `"*"` / `{"AWS": "*"}`. |
//! | `IAM112` | error | kinesis | Kinesis resource policy: a `Service`, `Federated` or `CanonicalUser` principal. |
//! | `IAM113` | error | kinesis | Kinesis resource policy: `NotPrincipal`, `NotAction` or `NotResource`. |
//! | `IAM114` | error | kinesis | Kinesis resource policy: an action that cannot be shared (only eight can). |
//! | `IAM115` | error | kinesis | Kinesis resource policy: a stream-level action on a consumer, or a consumer-level action on a stream. |
//! | `IAM116` | error | kinesis | Kinesis resource policy: a `Resource` that is not the attached stream/consumer ARN, has a wildcard, or is not a stream/consumer ARN. |
//! | `IAM117` | error | kinesis | Kinesis resource policy: larger than 20 KB (20,480 bytes of source; the exact AWS definition is unverified, spec §7.4). |
//! | `IAM118` | error | kinesis | Kinesis resource policy: the ARN it is attached to is neither a stream nor a consumer ARN. |
//! | `IAM120` | error | sizes | Larger than IAM allows for the type (spec §7.5): identity 10,240, boundary 6,144, session 2,048, SCP and RCP 5,120, role trust 4,096 (2,048 unless raised) characters. |
//! | `IAM121` | warning | sizes | An identity policy over 6,144 characters: too large for a managed policy or a user's or group's inline policies; it fits only inline in a role. |
//! | `IAM130` | error | types | Role trust policy: `Resource` or `NotResource` (IAM: "Has prohibited field Resource"). |
//! | `IAM131` | error | types | Role trust policy: `NotPrincipal`. |
//! | `IAM132` | warning | types | Role trust policy: an action other than `sts:AssumeRole`, `sts:AssumeRoleWithSAML`, `sts:AssumeRoleWithWebIdentity`, `sts:TagSession`, `sts:SetSourceIdentity`, `sts:SetContext`: it never applies. |
//! | `IAM150` | warning | actions | An action of a catalog service (Kinesis) that does not exist, with the nearest name (IAM accepts it; it never matches). |
//! | `IAM151` | warning | actions | An unknown service prefix that is close to a known one (`kinesiss:`), with the nearest prefix. |
//! | `IAM152` | warning | actions | An action pattern with wildcards that matches no action of its (catalog) service. |
//! | `IAM153` | warning | actions | An action pattern (`kinesis:Update*`, `kinesis:List*`; not the whole-service `kinesis:*`) that covers wildcard-only actions, in an `Allow` with only specific resources: those actions are authorized against `"*"`, so the statement does not grant them (names those no statement grants on `"*"`; a pattern of wildcard-only actions only is `IAM163`). |
//! | `IAM160` | warning | resources | A malformed Kinesis ARN: region, account, resource type or name that no Kinesis resource can have (it never matches). |
//! | `IAM161` | warning | resources | An ARN of another service than the statement's actions act on (`arn:aws:s3:::b` for `kinesis:PutRecord`). |
//! | `IAM162` | warning | resources | An ARN of a resource type that no action of the statement takes (`SubscribeToShard` on a stream ARN). |
//! | `IAM163` | warning | resources | A wildcard-only action (`kinesis:ListStreams`) with only specific resources: it is authorized against `"*"`, so it never matches. |
//! | `IAM164` | warning | resources | A short ARN (fewer than six fields) in an identity policy, boundary, session policy or SCP: AWS completes it with `*` in every missing field; the finding shows the completed form. |
//! | `IAM165` | error | resources | A short ARN (fewer than six fields) in a resource-based policy or RCP, where AWS's reading is not documented. |
//! | `IAM170` | warning | conditions | A condition key that none of the statement's actions supports (`aws:RequestTag/…` on `PutRecord`, another service's key, an unknown Kinesis key). |
//! | `IAM171` | error | conditions | An operator of the wrong type for its key (`NumericEquals` on `aws:username`, `IpAddress` on `aws:CurrentTime`): it can never match. |
//! | `IAM172` | warning | conditions | A String (or `BinaryEquals`) operator on a key of another type (`StringEquals` on `aws:SourceIp`): it compares text, not addresses, dates or numbers. |
//! | `IAM173` | warning | conditions | An `aws:` key that is not a global condition key, with the nearest one. |
//! | `IAM174` | warning | conditions | An operator without `ForAnyValue:`/`ForAllValues:` on a multi-valued key (`aws:TagKeys`): it does not match a request that carries several values. |
//! | `IAM175` | warning | conditions | `ForAnyValue:`/`ForAllValues:` on a single-valued key. |
//! | `IAM176` | warning | conditions | A policy variable where variables are not allowed (Action, Principal, condition keys) or of a multi-valued key; it is literal text. |
//! | `IAM177` | warning | conditions | A policy variable in a `2008-10-17` or Version-less policy, where `${…}` is literal text. |
//! | `IAM178` | warning | conditions | No `Version`: the 2008 language applies, and IAM's CreatePolicy rejects the document. |
//! | `IAM179` | warning | conditions | A `Null` condition and another condition on the same key that can never hold together: the statement never matches. |
//! | `IAM180` | security-warning | security | `Allow` with `NotAction`: allows every other action of every service. |
//! | `IAM181` | security-warning | security | `Allow` with `NotResource`: allows every other resource. |
//! | `IAM182` | security-warning | security | `Allow` with `NotPrincipal`: allows everyone else, anonymous callers included. |
//! | `IAM183` | security-warning | security | A stream pattern with a name prefix (`stream/orders*`): it also matches other streams (`orders-archive`) and their consumers. |
//! | `IAM184` | security-warning | security | A wildcard stream pattern (`stream/*`) with actions that take consumers too (`TagResource`) but no consumer action: it also grants them on every consumer. |
//! | `IAM185` | security-warning | security | A resource policy that grants write access (other than writing records) to principals of other accounts, or to everyone. |
//! | `IAM186` | security-warning | security | `ForAllValues:` in an `Allow` without a `Null` guard: a request without the key passes. |
//! | `IAM187` | security-warning | security | A wildcard in the resource type of an ARN (`…:111122223333:*/orders`), which IAM does not allow: it never matches in an Allow and matches as a glob in a Deny. |
//! | `IAM190` | suggestion | redundancy | A statement made redundant by another statement of the same policy. |
//! | `IAM191` | suggestion | redundancy | A statement that can never match a request (no action, resource and condition can meet). |
//!
//! Severities follow IAM Access Analyzer: an **error** is a policy AWS (or, for its own fail-closed
//! rules, iamc) rejects, or a condition that can never work; a **security warning** grants more
//! than it seems to; a **warning** is accepted but probably not what was meant; a **suggestion**
//! could be simpler. Lints that depend on the catalog run only where every action of a statement
//! is in the catalog, so a statement that names other services is not second-guessed.

mod actions;
mod conditions;
mod iam;
mod kinesis;
mod locate;
mod redundancy;
mod resources;
mod security;
mod sizes;

#[cfg(feature = "cli")]
pub(crate) use crate::parse::json::reader::value_end;
pub use locate::{Locator, SourceSpan};

use crate::ast::{ActionPattern, Loc, Policy, PolicyType, Statement};
use crate::catalog::{self, ActionInfo};
use crate::diag::Diagnostic;
use crate::parse::json::reader::child_pointer;
use crate::parse::{parse_policy, Limits};

/// Checks `policy` against the rules of policy type `ty`, and lints it.
///
/// `attached_to` is the ARN of the resource a resource-based policy is attached to; for
/// [`PolicyType::KinesisResource`] it must be the stream or consumer ARN, and every `Resource`
/// must equal it. Returns every finding (see the module docs for the codes); the policy is
/// accepted when none is an error.
pub fn check_policy(policy: &Policy, ty: PolicyType, attached_to: Option<&str>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    match ty {
        PolicyType::Identity | PolicyType::Boundary | PolicyType::Session | PolicyType::Scp => {
            iam::check_iam(policy, ty, &mut out);
        }
        PolicyType::Resource => iam::check_resource(policy, &mut out),
        PolicyType::Rcp => iam::check_rcp(policy, &mut out),
        PolicyType::RoleTrust => iam::check_trust(policy, &mut out),
        PolicyType::KinesisResource => {
            kinesis::check_kinesis_resource(policy, attached_to, &mut out)
        }
    }
    let cx = Cx::new(policy, ty, attached_to);
    sizes::check(&cx, &mut out);
    actions::check(&cx, &mut out);
    resources::check(&cx, &mut out);
    conditions::check(&cx, &mut out);
    security::check(&cx, &mut out);
    redundancy::check(&cx, &mut out);
    out
}

/// Parses `text` and checks it as a policy of type `ty` ([`check_policy`]): every finding,
/// parse errors included, placed on the line and column of the element it is about.
pub fn check_text(text: &str, ty: PolicyType, attached_to: Option<&str>) -> Vec<Diagnostic> {
    // The text policy language: the same checks on the same AST; findings carry the
    // statement's line in the text.
    if crate::parse::Form::detect(text) == crate::parse::Form::Text {
        let mut found = match crate::parse::parse_text_policy(text, &Limits::default()) {
            Ok(p) => check_policy(&p, ty, attached_to),
            Err(errors) => errors,
        };
        found.sort_by_key(|d| (d.loc.line, d.loc.column, d.severity));
        return found;
    }
    let mut found = match parse_policy(text, &Limits::default()) {
        Ok(p) => {
            let mut found = check_policy(&p, ty, attached_to);
            let locator = Locator::new(text);
            for d in &mut found {
                locator.place(d);
            }
            found
        }
        Err(errors) => errors,
    };
    found.sort_by_key(|d| (d.loc.line, d.loc.column, d.severity));
    found
}

/// What a statement's `Action` means in the catalog.
pub(crate) struct StatementActions {
    /// The catalog actions the statement's `Action` matches, when every pattern is of a
    /// service the catalog covers (no `*`, no `NotAction`, no other service): then the
    /// statement can match no action outside this list. `None` otherwise.
    pub known: Option<Vec<&'static ActionInfo>>,
}

/// The policy being checked, with what the lints share.
pub(crate) struct Cx<'p> {
    pub policy: &'p Policy,
    pub ty: PolicyType,
    pub attached_to: Option<&'p str>,
    /// One per statement, in order.
    pub actions: Vec<StatementActions>,
}

impl<'p> Cx<'p> {
    fn new(policy: &'p Policy, ty: PolicyType, attached_to: Option<&'p str>) -> Cx<'p> {
        let actions = policy
            .statements
            .iter()
            .map(|s| StatementActions {
                known: known_actions(s),
            })
            .collect();
        Cx {
            policy,
            ty,
            attached_to,
            actions,
        }
    }

    /// The statements with their action analysis.
    pub fn statements(&self) -> impl Iterator<Item = (usize, &'p Statement, &StatementActions)> {
        self.policy
            .statements
            .iter()
            .zip(&self.actions)
            .enumerate()
            .map(|(i, (s, a))| (i, s, a))
    }

    /// The action patterns of the catalog's services in statements with a positive `Action`
    /// and only specific resources (a `Resource` without `"*"`), where wildcard-only actions
    /// never match (spec §2.2 rule 7): each with its statement, its index and the count of
    /// the statement's patterns (for [`at_item`]).
    pub fn catalog_actions_on_specific_resources(
        &self,
    ) -> impl Iterator<Item = (&'p Statement, usize, usize, &'p ActionPattern)> {
        self.policy
            .statements
            .iter()
            .filter(|stmt| {
                !stmt.action.negated
                    && stmt.resource.as_ref().is_some_and(|res| {
                        !res.negated && !res.patterns.iter().any(|p| p.is_star())
                    })
            })
            .flat_map(|stmt| {
                let n = stmt.action.patterns.len();
                stmt.action
                    .patterns
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.service.as_deref().is_some_and(catalog::knows_service))
                    .map(move |(i, a)| (stmt, i, n, a))
            })
    }
}

/// See [`StatementActions::known`].
fn known_actions(stmt: &Statement) -> Option<Vec<&'static ActionInfo>> {
    if stmt.action.negated {
        return None;
    }
    let mut out: Vec<&'static ActionInfo> = Vec::new();
    for a in &stmt.action.patterns {
        let service = a.service.as_deref()?;
        if !catalog::knows_service(service) {
            return None;
        }
        for info in catalog::matching_actions(a) {
            if !out.iter().any(|o| std::ptr::eq(*o, info)) {
                out.push(info);
            }
        }
    }
    Some(out)
}

/// The location of `element` of a statement: its pointer, with the statement's line and column.
fn at(stmt: &Statement, element: &str) -> Loc {
    Loc {
        pointer: child_pointer(&stmt.loc.pointer, element),
        line: stmt.loc.line,
        column: stmt.loc.column,
    }
}

/// The location of value `index` of a list element holding `len` values: the element itself
/// when it holds one value (the AST does not say whether it was written as an array).
fn at_item(stmt: &Statement, element: &str, index: usize, len: usize) -> Loc {
    let mut loc = at(stmt, element);
    if len > 1 {
        loc.pointer = child_pointer(&loc.pointer, &index.to_string());
    }
    loc
}

/// The location of a condition: its key, under its operator (the parser records the key's
/// own line and column).
fn at_condition(cond: &crate::ast::Condition) -> Loc {
    cond.loc.clone()
}

/// `Principal` or `NotPrincipal`, as written.
fn principal_name(stmt: &Statement) -> &'static str {
    match &stmt.principal {
        Some(p) if p.negated => "NotPrincipal",
        _ => "Principal",
    }
}

/// `Action` or `NotAction`, as written.
fn action_name(stmt: &Statement) -> &'static str {
    if stmt.action.negated {
        "NotAction"
    } else {
        "Action"
    }
}

/// The policy type in words, for messages: "an identity policy", "an SCP", …
fn type_phrase(ty: PolicyType) -> &'static str {
    match ty {
        PolicyType::Identity => "an identity policy",
        PolicyType::Boundary => "a permissions boundary",
        PolicyType::Session => "a session policy",
        PolicyType::Scp => "an SCP",
        PolicyType::Rcp => "an RCP",
        PolicyType::Resource => "a resource-based policy",
        PolicyType::KinesisResource => "a Kinesis resource policy",
        PolicyType::RoleTrust => "a role trust policy",
    }
}

/// A location for a finding about the whole policy.
fn policy_loc(pointer: &str) -> Loc {
    Loc {
        pointer: pointer.to_string(),
        line: 0,
        column: 0,
    }
}

/// The nearest of `candidates` to `word` ignoring ASCII case, when it is close enough to be a
/// likely typo: one edit for words of up to four characters, two up to twelve, three beyond.
fn nearest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let w = word.to_ascii_lowercase();
    let n = w.chars().count();
    if n == 0 || n > 64 {
        return None;
    }
    let max = match n {
        0..=4 => 1,
        5..=12 => 2,
        _ => 3,
    };
    candidates
        .into_iter()
        .filter(|c| c.chars().count() <= 64)
        .map(|c| (crate::diag::edit_distance(&w, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d > 0 && *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Lists up to `max` names, then "and N more".
fn list_names(names: &[String], max: usize) -> String {
    let mut s = names
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        s.push_str(&format!(" and {} more", names.len() - max));
    }
    s
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::parse::{parse_policy, Limits};

    /// Parses (which must succeed) and checks.
    pub(crate) fn check(text: &str, ty: PolicyType, attached_to: Option<&str>) -> Vec<Diagnostic> {
        match parse_policy(text, &Limits::default()) {
            Ok(p) => check_policy(&p, ty, attached_to),
            Err(e) => unreachable!(
                "{text} does not parse: {}",
                e.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        }
    }

    pub(crate) fn assert_finding(found: &[Diagnostic], code: Code, pointer: &str) {
        assert!(
            found
                .iter()
                .any(|d| d.code == code && d.loc.pointer == pointer),
            "expected {code} at {pointer:?}, got:\n{}",
            found
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    #[test]
    fn conformance_validation_corpus() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/conformance/validation/policies.json"
        );
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => unreachable!("cannot read {path}: {e}"),
        };
        let corpus: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => unreachable!("{path}: {e}"),
        };
        let Some(cases) = corpus.get("cases").and_then(|c| c.as_array()) else {
            unreachable!("{path} has no cases")
        };
        let mut failures = Vec::new();
        for case in cases {
            let field = |name: &str| case.get(name).and_then(|v| v.as_str());
            let id = field("id").unwrap_or("?");
            let doc = match (case.get("document"), field("document_text")) {
                (Some(d), _) => d.to_string(),
                (None, Some(t)) => t.to_string(),
                (None, None) => unreachable!("{id}: no document"),
            };
            let Some(ty) = field("policy_type").and_then(PolicyType::from_name) else {
                unreachable!("{id}: unknown policy_type")
            };
            let findings = match parse_policy(&doc, &Limits::default()) {
                Ok(p) => check_policy(&p, ty, field("attached_to")),
                Err(e) => e,
            };
            let errors = findings.iter().filter(|d| d.is_error()).count();
            let warnings = findings.len() - errors;
            let expect = field("expect").unwrap_or("?");
            let pass = match expect {
                "invalid" => errors > 0,
                "valid" => findings.is_empty(),
                "valid-with-warnings" => errors == 0 && warnings > 0,
                _ => false,
            };
            if !pass {
                failures.push(format!(
                    "{id} (expect {expect}):\n  {}",
                    findings
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join("\n  ")
                ));
            }
        }
        assert_eq!(cases.len(), 36);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
