//! Stage 2: checks that depend on the policy type (spec §1.6, §1.8, §7.4, §7.5).
//!
//! The parser ([`crate::parse`]) has already enforced every rule that holds for all policy
//! types; [`check_policy`] adds the rules of one type: where `Principal` and `Resource` are
//! required or forbidden, the RCP restrictions, and the Kinesis resource-policy profile. It
//! returns errors and warnings; a policy is accepted when none of them is an error.
//!
//! Locations: the AST keeps the position of each statement, not of each element, so a finding
//! about an element carries the element's JSON pointer (`/Statement/0/Principal`, or
//! `/Statement/0/Action/2` when the element is a list of several values) with the line and
//! column of the **enclosing statement**. Findings about the whole policy (size, Version) have
//! no line.
//!
//! # Codes
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM101` | error | `Principal`/`NotPrincipal` in an identity policy, boundary, session policy or SCP. |
//! | `IAM102` | error | `Resource`/`NotResource` missing where the type requires one (all types checked here). |
//! | `IAM103` | error | `Sid` not ASCII letters and digits in an identity policy, boundary, session policy or SCP. |
//! | `IAM104` | error | `Principal`/`NotPrincipal` missing in a resource-based policy or RCP. |
//! | `IAM105` | error | RCP: `Principal` is not exactly `"*"`, or `NotPrincipal` is used. |
//! | `IAM106` | error | RCP: `Effect` is `Allow` outside the `RCPFullAWSAccess` statement (Allow `*` on `*`). |
//! | `IAM107` | error | RCP: `NotAction` is used. |
//! | `IAM108` | error | RCP: a `Deny` with `Action` `"*"`. |
//! | `IAM109` | error | RCP: `Version` is not `2012-10-17`. |
//! | `IAM110` | error | Kinesis resource policy: a wildcard (`*`, `?`) in an action. |
//! | `IAM111` | error | Kinesis resource policy: the principal `"*"` / `{"AWS": "*"}`. |
//! | `IAM112` | error | Kinesis resource policy: a `Service`, `Federated` or `CanonicalUser` principal. |
//! | `IAM113` | error | Kinesis resource policy: `NotPrincipal`, `NotAction` or `NotResource`. |
//! | `IAM114` | error | Kinesis resource policy: an action that cannot be shared (only eight can). |
//! | `IAM115` | error | Kinesis resource policy: a stream-level action on a consumer, or a consumer-level action on a stream. |
//! | `IAM116` | error | Kinesis resource policy: a `Resource` that is not the attached stream/consumer ARN, has a wildcard, or is not a stream/consumer ARN. |
//! | `IAM117` | error | Kinesis resource policy: larger than 20 KB (20,480 bytes of source; the exact AWS definition is unverified, spec §7.4). |
//! | `IAM118` | error | Kinesis resource policy: the ARN it is attached to is neither a stream nor a consumer ARN. |
//! | `IAM150` | warning | A `kinesis:` action without wildcards that names no known Kinesis action (IAM accepts it; it never matches). |
//!
//! Not checked yet: the IAM size limits of spec §7.5 (they count characters without whitespace,
//! which needs the source text, not the AST); role trust policies.

mod iam;
mod kinesis;

use crate::ast::{Loc, Policy, PolicyType, Statement};
use crate::diag::Diagnostic;
use crate::parse::json::reader::child_pointer;

/// Checks `policy` against the rules of policy type `ty`.
///
/// `attached_to` is the ARN of the resource a resource-based policy is attached to; for
/// [`PolicyType::KinesisResource`] it must be the stream or consumer ARN, and every `Resource`
/// must equal it. Returns errors and warnings (see the module docs for the codes); an empty list
/// means the policy is accepted as it is.
pub fn check_policy(policy: &Policy, ty: PolicyType, attached_to: Option<&str>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    match ty {
        PolicyType::Identity | PolicyType::Boundary | PolicyType::Session | PolicyType::Scp => {
            iam::check_iam(policy, ty, &mut out);
        }
        PolicyType::Resource => iam::check_resource(policy, &mut out),
        PolicyType::Rcp => iam::check_rcp(policy, &mut out),
        PolicyType::KinesisResource => {
            kinesis::check_kinesis_resource(policy, attached_to, &mut out)
        }
    }
    if ty != PolicyType::KinesisResource {
        // In a Kinesis resource policy an unknown action is already an error (IAM114).
        kinesis::warn_unknown_actions(policy, &mut out);
    }
    out
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

/// `Principal` or `NotPrincipal`, as written.
fn principal_name(stmt: &Statement) -> &'static str {
    match &stmt.principal {
        Some(p) if p.negated => "NotPrincipal",
        _ => "Principal",
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

#[cfg(test)]
mod tests {
    use super::*;
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

    pub(crate) fn assert_finding(found: &[Diagnostic], code: &str, pointer: &str) {
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
