//! JSON tree -> [`Policy`]: every rule of spec §1.10 that does not depend on the policy type.
//!
//! The builder collects all errors it finds (it does not stop at the first) and returns an AST
//! only when there are none. Each error carries a JSON pointer relative to the policy
//! document's root (`/Statement/1/Condition/StringEquals/aws:username`; `/Statement` when
//! `Statement` is a single object) and the line/column of the offending node in the source
//! text. Rules that depend on the policy type (Principal required or forbidden, Resource
//! required, the Kinesis profile, …) are checked later by [`crate::validate`].
//!
//! # Codes
//!
//! | Code | Meaning |
//! | --- | --- |
//! | `IAM001` | Not valid JSON (syntax error, position of the offending character). |
//! | `IAM002` | Duplicate key in a JSON object (at any level); names both positions. |
//! | `IAM003` | A bound of [`Limits`] is exceeded (document size, nesting depth, statements, list items). |
//! | `IAM004` | A string holds a character outside TAB, LF, CR and U+0020–U+00FF. |
//! | `IAM010` | Unknown element (top-level or statement key); names are exact and case-sensitive. |
//! | `IAM011` | Wrong JSON type for an element (e.g. a number where a string is expected). |
//! | `IAM012` | `Version` is neither `"2012-10-17"` nor `"2008-10-17"`. |
//! | `IAM013` | `Statement` is missing or an empty array. |
//! | `IAM014` | Duplicate `Sid` within the policy. |
//! | `IAM015` | `Effect` is missing or not exactly `"Allow"` / `"Deny"`. |
//! | `IAM016` | `Action`/`NotAction`: both given, neither given, or empty. |
//! | `IAM017` | Invalid action value (no service prefix, several colons, bad service, empty name, whitespace or comma). |
//! | `IAM018` | `Resource`/`NotResource`: both given, or empty. |
//! | `IAM019` | Invalid resource value (not `*` or an ARN, bad partition, empty or wildcard service, policy variable before the resource part). |
//! | `IAM020` | `Principal`/`NotPrincipal`: both given, empty, or not `"*"` / an object. |
//! | `IAM021` | Invalid principal value (unknown principal type, partial wildcard, malformed AWS principal). |
//! | `IAM022` | `Condition` block of the wrong shape (array, null or nested object where a value is expected, empty value list). |
//! | `IAM023` | Unknown or invalid condition operator. |
//! | `IAM024` | Condition key not of the form `prefix:name`. |
//! | `IAM025` | Condition value not valid for its operator (number, date, CIDR, base64, boolean, `Null`). |

use std::collections::HashMap;

use super::walk::loc;

use crate::ast::{
    value::{decode_base64, parse_bool},
    ActionElement, ActionPattern, ArnForm, Cidr, Condition, ConditionValue, Decimal, Effect,
    Family, Instant, Operator, Parsed, Policy, PrincipalElement, PrincipalValue, ResourceElement,
    ResourcePattern, Statement, Template, TemplateMode, Version,
};
use crate::catalog;
use crate::diag::{Code, Diagnostic};
use crate::glob::Glob;
use crate::parse::json::reader::{child_pointer, parse_json, JsonKey, JsonNode, JsonValue, Span};
use crate::parse::Limits;

/// Elements allowed at the top level of a policy document.
const TOP_LEVEL_ELEMENTS: &[&str] = &["Version", "Id", "Statement"];

/// Elements allowed in a statement.
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Keys allowed in a `Principal` object.
const PRINCIPAL_TYPES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

/// Partitions a resource ARN may name (a partition with a wildcard is accepted too).
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Prefixes of IAM unique ids, which stored policies may show instead of ARNs (spec §1.6).
const UNIQUE_ID_PREFIXES: &[&str] = &["AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ASIA", "AKIA"];

/// Reads `text` as JSON and builds the policy it holds.
///
/// Returns every error found (at least one) when the document is not a valid policy.
pub fn parse_policy(text: &str, limits: &Limits) -> Result<Policy, Vec<Diagnostic>> {
    let node = parse_json(text, limits).map_err(|d| vec![d])?;
    policy_from_node(&node, text.len(), limits)
}

/// Builds a policy from an already-read JSON node, e.g. one embedded in a larger file such as a
/// store. Pointers in errors are relative to `node`; lines and columns are those of the file the
/// node was read from. `source_bytes` is the size of the policy's text (recorded in
/// [`Policy::source_bytes`] and checked against `Limits::max_document_bytes`).
pub fn policy_from_node(
    node: &JsonNode,
    source_bytes: usize,
    limits: &Limits,
) -> Result<Policy, Vec<Diagnostic>> {
    let mut b = Builder {
        limits,
        errors: Vec::new(),
        version: Version::Absent,
    };
    if source_bytes > limits.max_document_bytes {
        b.error(
            Code::BoundExceeded,
            format!(
                "the policy is {source_bytes} bytes, more than the bound max_document_bytes = {}",
                limits.max_document_bytes
            ),
            "",
            node.span,
        );
        return Err(b.errors);
    }
    b.check_characters(node);
    let policy = b.policy(node, source_bytes);
    let mut errors = b.errors;
    match policy {
        Some(p) if errors.is_empty() => Ok(p),
        _ => {
            if errors.is_empty() {
                // Every path that gives up reports why; this is only a safety net.
                errors.push(Diagnostic::error(
                    Code::WrongElementType,
                    "the document is not a valid policy",
                    loc("", node.span),
                ));
            }
            errors.sort_by_key(|d| (d.loc.line, d.loc.column));
            Err(errors)
        }
    }
}

/// The nearest known name to a misspelt element, if it is close: same name in another case,
/// a plural, or a small typo (`Statment`).
fn suggest(name: &str, known: &[&'static str]) -> Option<&'static str> {
    let lower = name.to_lowercase();
    if let Some(k) = known.iter().find(|k| k.to_lowercase() == lower) {
        return Some(k);
    }
    if let Some(k) = known
        .iter()
        .find(|k| lower.strip_suffix('s') == Some(&k.to_lowercase()))
    {
        return Some(k);
    }
    if lower.chars().count() > 32 {
        return None;
    }
    known
        .iter()
        .map(|k| (crate::diag::edit_distance(&lower, &k.to_lowercase()), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Whether `c` may appear in a policy document (spec §1.1).
fn allowed_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
}

/// A string of a multi-value element, with where it is.
struct Item<'n> {
    text: &'n str,
    pointer: String,
    span: Span,
}

struct Builder<'l> {
    limits: &'l Limits,
    errors: Vec<Diagnostic>,
    version: Version,
}

impl Builder<'_> {
    fn error(&mut self, code: Code, msg: impl Into<String>, pointer: &str, span: Span) {
        self.errors
            .push(Diagnostic::error(code, msg, loc(pointer, span)));
    }

    fn error_help(
        &mut self,
        code: Code,
        msg: impl Into<String>,
        help: impl Into<String>,
        pointer: &str,
        span: Span,
    ) {
        self.errors
            .push(Diagnostic::error(code, msg, loc(pointer, span)).with_help(help));
    }

    /// Checks a list's length against `Limits::max_list_items`; reports `IAM003` when over.
    fn within_list_bound(&mut self, what: &str, len: usize, pointer: &str, span: Span) -> bool {
        if len <= self.limits.max_list_items {
            return true;
        }
        let msg = format!(
            "{what} has {len} values, more than the bound max_list_items = {}",
            self.limits.max_list_items
        );
        self.error(Code::BoundExceeded, msg, pointer, span);
        false
    }

    fn wrong_type(&mut self, what: &str, expected: &str, node: &JsonNode, pointer: &str) {
        let msg = format!("{what} must be {expected}, found {}", node.kind_name());
        self.error(Code::WrongElementType, msg, pointer, node.span);
    }

    /// Rejects characters outside TAB, LF, CR and U+0020–U+00FF in every key and string.
    fn check_characters(&mut self, root: &JsonNode) {
        let check = |b: &mut Self, s: &str, pointer: &str, span: Span| {
            if let Some(c) = s.chars().find(|c| !allowed_char(*c)) {
                b.error_help(
                    Code::InvalidCharacter,
                    format!(
                        "the character U+{:04X} is not allowed in a policy document",
                        u32::from(c)
                    ),
                    "IAM accepts only TAB, LF, CR and the characters U+0020 to U+00FF",
                    pointer,
                    span,
                );
            }
        };
        // An explicit stack: the depth is bounded by the reader, but no recursion is needed.
        let mut stack: Vec<(&JsonNode, String)> = vec![(root, String::new())];
        while let Some((node, pointer)) = stack.pop() {
            match &node.value {
                JsonValue::String(s) => check(self, s, &pointer, node.span),
                JsonValue::Array(items) => {
                    for (i, item) in items.iter().enumerate().rev() {
                        stack.push((item, child_pointer(&pointer, &i.to_string())));
                    }
                }
                JsonValue::Object(members) => {
                    for (k, v) in members.iter().rev() {
                        let p = child_pointer(&pointer, &k.name);
                        check(self, &k.name, &p, k.span);
                        stack.push((v, p));
                    }
                }
                JsonValue::Null | JsonValue::Bool(_) | JsonValue::Number(_) => {}
            }
        }
    }

    fn unknown_element(
        &mut self,
        key: &JsonKey,
        pointer: &str,
        known: &[&'static str],
        place: &str,
    ) {
        let msg = match suggest(&key.name, known) {
            Some(s) => format!(
                "unknown {place} element \"{}\"; did you mean \"{s}\"?",
                key.name
            ),
            None => format!("unknown {place} element \"{}\"", key.name),
        };
        self.error_help(
            Code::UnknownElement,
            msg,
            format!(
                "element names are exact and case-sensitive; allowed: {}",
                known.join(", ")
            ),
            pointer,
            key.span,
        );
    }

    fn policy(&mut self, node: &JsonNode, source_bytes: usize) -> Option<Policy> {
        let JsonValue::Object(members) = &node.value else {
            self.wrong_type("a policy document", "a JSON object", node, "");
            return None;
        };
        let (mut version, mut id, mut statement) = (None, None, None);
        for (k, v) in members {
            let pointer = child_pointer("", &k.name);
            match k.name.as_str() {
                "Version" => version = Some(v),
                "Id" => id = Some(v),
                "Statement" => statement = Some(v),
                _ => self.unknown_element(k, &pointer, TOP_LEVEL_ELEMENTS, "top-level"),
            }
        }

        // Version first: it decides how `${...}` is read everywhere else.
        if let Some(v) = version {
            self.version = match v.as_str() {
                Some("2012-10-17") => Version::V2012_10_17,
                Some("2008-10-17") => Version::V2008_10_17,
                _ => {
                    let found = match v.as_str() {
                        Some(s) => format!("\"{s}\""),
                        None => format!("a {}", v.kind_name()),
                    };
                    self.error(
                        Code::InvalidVersion,
                        format!("Version must be \"2012-10-17\" or \"2008-10-17\", found {found}"),
                        "/Version",
                        v.span,
                    );
                    Version::Absent
                }
            };
        }

        let id = match id {
            Some(v) => match v.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    self.wrong_type("Id", "a string", v, "/Id");
                    None
                }
            },
            None => None,
        };

        let Some(st) = statement else {
            self.error(
                Code::MissingStatement,
                "the policy has no Statement (it is required)",
                "",
                node.span,
            );
            return None;
        };
        let mut sids: HashMap<&str, String> = HashMap::new();
        let (statements, single) = match &st.value {
            JsonValue::Object(_) => (vec![self.statement(st, "/Statement", &mut sids)], true),
            JsonValue::Array(items) => {
                if items.is_empty() {
                    self.error(
                        Code::MissingStatement,
                        "Statement must hold at least one statement",
                        "/Statement",
                        st.span,
                    );
                    return None;
                }
                if items.len() > self.limits.max_statements {
                    self.error(
                        Code::BoundExceeded,
                        format!(
                            "the policy has {} statements, more than the bound max_statements = {}",
                            items.len(),
                            self.limits.max_statements
                        ),
                        "/Statement",
                        st.span,
                    );
                    return None;
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let pointer = format!("/Statement/{i}");
                    if matches!(item.value, JsonValue::Object(_)) {
                        out.push(self.statement(item, &pointer, &mut sids));
                    } else {
                        self.wrong_type("a statement", "a JSON object", item, &pointer);
                        out.push(None);
                    }
                }
                (out, false)
            }
            _ => {
                self.wrong_type(
                    "Statement",
                    "a statement object or an array of statement objects",
                    st,
                    "/Statement",
                );
                return None;
            }
        };
        let statements: Option<Vec<Statement>> = statements.into_iter().collect();
        Some(Policy {
            version: self.version,
            id,
            statements: statements?,
            single_statement: single,
            source_bytes,
        })
    }

    /// Builds one statement from an object node; `None` when it has errors (all reported).
    fn statement<'n>(
        &mut self,
        node: &'n JsonNode,
        ptr: &str,
        sids: &mut HashMap<&'n str, String>,
    ) -> Option<Statement> {
        let JsonValue::Object(members) = &node.value else {
            return None;
        };
        let before = self.errors.len();
        let mut el: HashMap<&str, (&JsonKey, &JsonNode)> = HashMap::new();
        for (k, v) in members {
            if STATEMENT_ELEMENTS.contains(&k.name.as_str()) {
                el.insert(k.name.as_str(), (k, v));
            } else {
                let pointer = child_pointer(ptr, &k.name);
                self.unknown_element(k, &pointer, STATEMENT_ELEMENTS, "statement");
            }
        }
        let p = |name: &str| child_pointer(ptr, name);

        // Sid: a string, unique within the policy.
        let sid = match el.get("Sid") {
            Some((_, v)) => match v.as_str() {
                Some(s) => {
                    let here = p("Sid");
                    if let Some(first) = sids.get(s) {
                        let msg = format!(
                            "Statement IDs (Sid) in a policy must be unique: \"{s}\" is used twice (first at {first})"
                        );
                        self.error(Code::DuplicateSid, msg, &here, v.span);
                    } else {
                        sids.insert(s, here);
                    }
                    Some(std::sync::Arc::from(s))
                }
                None => {
                    self.wrong_type("Sid", "a string", v, &p("Sid"));
                    None
                }
            },
            None => None,
        };

        // Effect: required, exactly "Allow" or "Deny".
        let effect = match el.get("Effect") {
            Some((_, v)) => match v.as_str() {
                Some("Allow") => Some(Effect::Allow),
                Some("Deny") => Some(Effect::Deny),
                Some(other) => {
                    let help = if other.eq_ignore_ascii_case("allow")
                        || other.eq_ignore_ascii_case("deny")
                    {
                        "Effect is case-sensitive: write \"Allow\" or \"Deny\""
                    } else {
                        "Effect is \"Allow\" or \"Deny\""
                    };
                    self.error_help(
                        Code::InvalidEffect,
                        format!("Effect must be exactly \"Allow\" or \"Deny\", found \"{other}\""),
                        help,
                        &p("Effect"),
                        v.span,
                    );
                    None
                }
                None => {
                    self.wrong_type(
                        "Effect",
                        "the string \"Allow\" or \"Deny\"",
                        v,
                        &p("Effect"),
                    );
                    None
                }
            },
            None => {
                self.error(
                    Code::InvalidEffect,
                    "the statement has no Effect (it is required)",
                    ptr,
                    node.span,
                );
                None
            }
        };

        // Principal / NotPrincipal: at most one.
        let principal = match (el.get("Principal"), el.get("NotPrincipal")) {
            (Some(_), Some((k, _))) => {
                self.error(
                    Code::InvalidPrincipalElement,
                    "a statement may have Principal or NotPrincipal, not both",
                    &p("NotPrincipal"),
                    k.span,
                );
                None
            }
            (Some((_, v)), None) => self.principal(v, &p("Principal"), false),
            (None, Some((_, v))) => self.principal(v, &p("NotPrincipal"), true),
            (None, None) => None,
        };

        // Action / NotAction: exactly one, non-empty.
        let action = match (el.get("Action"), el.get("NotAction")) {
            (Some(_), Some((k, _))) => {
                self.error(
                    Code::InvalidActionElement,
                    "a statement may have Action or NotAction, not both",
                    &p("NotAction"),
                    k.span,
                );
                None
            }
            (Some((_, v)), None) => self.actions(v, &p("Action"), "Action", false),
            (None, Some((_, v))) => self.actions(v, &p("NotAction"), "NotAction", true),
            (None, None) => {
                self.error(
                    Code::InvalidActionElement,
                    "Policy statement must contain actions: Action or NotAction is required",
                    ptr,
                    node.span,
                );
                None
            }
        };

        // Resource / NotResource: at most one (whether one is required depends on the type).
        let resource = match (el.get("Resource"), el.get("NotResource")) {
            (Some(_), Some((k, _))) => {
                self.error(
                    Code::InvalidResourceElement,
                    "a statement may have Resource or NotResource, not both",
                    &p("NotResource"),
                    k.span,
                );
                None
            }
            (Some((_, v)), None) => self.resources(v, &p("Resource"), "Resource", false),
            (None, Some((_, v))) => self.resources(v, &p("NotResource"), "NotResource", true),
            (None, None) => None,
        };

        let conditions = match el.get("Condition") {
            Some((_, v)) => self.conditions(v, &p("Condition")),
            None => Some(Vec::new()),
        };

        if self.errors.len() > before {
            return None;
        }
        Some(Statement {
            sid,
            effect: effect?,
            principal,
            action: action?,
            resource,
            conditions: conditions?,
            loc: loc(ptr, node.span),
        })
    }

    /// A string or a non-empty array of strings (the two forms mean the same, spec §1.1).
    fn string_list<'n>(
        &mut self,
        node: &'n JsonNode,
        ptr: &str,
        element: &str,
        empty_code: Code,
    ) -> Option<Vec<Item<'n>>> {
        match &node.value {
            JsonValue::String(s) => Some(vec![Item {
                text: s,
                pointer: ptr.to_string(),
                span: node.span,
            }]),
            JsonValue::Array(items) => {
                if items.is_empty() {
                    self.error(
                        empty_code,
                        format!("{element} must not be empty"),
                        ptr,
                        node.span,
                    );
                    return None;
                }
                if !self.within_list_bound(element, items.len(), ptr, node.span) {
                    return None;
                }
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let pointer = child_pointer(ptr, &i.to_string());
                    match item.as_str() {
                        Some(text) => out.push(Item {
                            text,
                            pointer,
                            span: item.span,
                        }),
                        None => {
                            self.wrong_type(
                                &format!("each {element} value"),
                                "a string",
                                item,
                                &pointer,
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
            _ => {
                self.wrong_type(element, "a string or an array of strings", node, ptr);
                None
            }
        }
    }
}

mod conditions;
mod elements;

#[cfg(test)]
mod tests;
