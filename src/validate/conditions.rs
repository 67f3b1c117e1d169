//! Conditions and policy variables: keys the actions never set, operators of the wrong type,
//! set qualifiers, and `${…}` where it is not a variable (spec §3, §4, §6).
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM170` | warning | A key none of the statement's actions supports: `aws:RequestTag/…` or `aws:TagKeys` on an action that takes no tags, a Kinesis key on another action (`kinesis:FisActionId` is `InjectApiError`'s), a key Kinesis does not define, another service's key. Checked only where every action is in the catalog. |
//! | `IAM171` | error | An operator of the wrong type for the key (`NumericEquals` on `aws:username`, `IpAddress` on `aws:CurrentTime`, `ArnLike` on `aws:PrincipalAccount`): no request value compares, so the condition never matches (a negated one always does). |
//! | `IAM172` | warning | A String operator (or `BinaryEquals`) on a key that is not a String or ARN (`StringEquals` on `aws:SourceIp`): it compares the text, not the address, date, number or boolean. |
//! | `IAM173` | warning | An `aws:` key that is no global condition key; names the nearest one. |
//! | `IAM174` | warning | A plain operator on a multi-valued key (`aws:TagKeys`, `aws:CalledVia`): it does not match a request with several values; use `ForAnyValue:` or `ForAllValues:` (spec §3.12). |
//! | `IAM175` | warning | `ForAnyValue:`/`ForAllValues:` on a single-valued key ("do not use", spec §3.11). |
//! | `IAM176` | warning | `${…}` in `Action`, `Principal` or a condition key, where variables are not allowed, or a variable of a multi-valued key: it is literal text (spec §4.1, §4.2). |
//! | `IAM177` | warning | `${…}` in a `2008-10-17` or Version-less policy: literal text, not a variable (spec §1.2). |
//! | `IAM178` | warning | No `Version`: the 2008 language applies, and IAM's CreatePolicy rejects the document (spec §1.2). RCPs report `IAM109` instead. |
//! | `IAM179` | warning | `"Null": {k: "true"}` (k absent) with a condition on k that needs it present: the statement never matches. |

use crate::ast::{
    Condition, Family, Parsed, PolicyType, SetQualifier, Statement, Template, TemplateMode, Version,
};
use crate::catalog::{self, KeyInfo, KeyType};
use crate::diag::{Code, Diagnostic, Severity};

use super::{
    action_name, at, at_condition, at_item, list_names, nearest, policy_loc, principal_name, Cx,
};

/// Whether `text` would hold a policy variable if the policy were `2012-10-17`.
fn has_variable(text: &str) -> bool {
    text.contains("${")
        && Template::parse(
            text,
            TemplateMode {
                wildcards: true,
                variables: true,
            },
        )
        .has_variables()
}

pub(super) fn check(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    let policy = cx.policy;
    if policy.version == Version::Absent && cx.ty != PolicyType::Rcp {
        out.push(
            Diagnostic::new(
                Code::NoVersion,
                Severity::Warning,
                "the policy has no Version: the 2008-10-17 language applies (policy variables are literal text), and IAM's CreatePolicy rejects such a document",
                policy_loc(""),
            )
            .with_help("add \"Version\": \"2012-10-17\" as the first element"),
        );
    }
    for (_, stmt, acts) in cx.statements() {
        variables(cx, stmt, out);
        for c in &stmt.conditions {
            key_rules(c, out);
            if let Some(infos) = acts.known.as_deref() {
                if !infos.is_empty() {
                    supported(c, infos, out);
                }
            }
        }
        null_contradictions(stmt, out);
    }
}

/// `IAM176`, `IAM177`.
fn variables(cx: &Cx<'_>, stmt: &Statement, out: &mut Vec<Diagnostic>) {
    let literal = |where_: &str| {
        format!("policy variables are not allowed in {where_}, so this \"${{…}}\" is literal text")
    };
    let n = stmt.action.patterns.len();
    for (i, a) in stmt.action.patterns.iter().enumerate() {
        if has_variable(&a.raw) {
            out.push(
                Diagnostic::new(
                    Code::VariableNotAllowed,
                    Severity::Warning,
                    format!("\"{}\": {}", a.raw, literal(action_name(stmt))),
                    at_item(stmt, action_name(stmt), i, n),
                )
                .with_help("name the actions; to vary by caller, use a condition"),
            );
        }
    }
    if let Some(p) = &stmt.principal {
        let texts = p.values.iter().filter_map(|v| match v {
            crate::ast::PrincipalValue::Anyone => None,
            crate::ast::PrincipalValue::Aws(t)
            | crate::ast::PrincipalValue::Service(t)
            | crate::ast::PrincipalValue::Federated(t)
            | crate::ast::PrincipalValue::CanonicalUser(t) => Some(t),
        });
        for t in texts {
            if has_variable(t) {
                out.push(
                    Diagnostic::new(
                        Code::VariableNotAllowed,
                        Severity::Warning,
                        format!("\"{t}\": {}", literal(principal_name(stmt))),
                        at(stmt, principal_name(stmt)),
                    )
                    .with_help(
                        "name the principal, or use \"*\" with an aws:PrincipalArn condition",
                    ),
                );
            }
        }
    }
    for c in &stmt.conditions {
        if has_variable(&c.key) {
            out.push(
                Diagnostic::new(
                    Code::VariableNotAllowed,
                    Severity::Warning,
                    format!("\"{}\": {}", c.key, literal("condition keys")),
                    at_condition(c),
                )
                .with_help("variables go in condition values, not keys"),
            );
        }
    }

    if cx.policy.version.has_variables() {
        // Variables of multi-valued keys.
        let multi = |keys: Vec<String>, loc: crate::ast::Loc, out: &mut Vec<Diagnostic>| {
            for k in keys {
                if catalog::condition_key(&k).is_some_and(|i| i.multi_valued) {
                    out.push(
                        Diagnostic::new(
                            Code::VariableNotAllowed,
                            Severity::Warning,
                            format!("${{{k}}}: {k} is multi-valued, and only single-valued keys can be policy variables"),
                            loc.clone(),
                        )
                        .with_help("test a multi-valued key with ForAnyValue:/ForAllValues: conditions instead"),
                    );
                }
            }
        };
        if let Some(r) = &stmt.resource {
            let element = if r.negated { "NotResource" } else { "Resource" };
            let n = r.patterns.len();
            for (i, p) in r.patterns.iter().enumerate() {
                let keys = p.template.variable_keys().map(str::to_string).collect();
                multi(keys, at_item(stmt, element, i, n), out);
            }
        }
        for c in &stmt.conditions {
            let keys = c
                .values
                .iter()
                .filter_map(|v| match &v.parsed {
                    Parsed::Text(t) => {
                        Some(t.variable_keys().map(str::to_string).collect::<Vec<_>>())
                    }
                    _ => None,
                })
                .flatten()
                .collect();
            multi(keys, at_condition(c), out);
        }
        return;
    }
    let version = match cx.policy.version {
        Version::Absent => "has no Version".to_string(),
        v => format!("is version {}", v.as_str().unwrap_or("?")),
    };
    let old = |text: &str| {
        format!("\"{text}\" is literal text: the policy {version}, where \"${{…}}\" is not a policy variable")
    };
    let help = "write \"Version\": \"2012-10-17\" to use policy variables";
    if let Some(r) = &stmt.resource {
        let element = if r.negated { "NotResource" } else { "Resource" };
        let n = r.patterns.len();
        for (i, p) in r.patterns.iter().enumerate() {
            if has_variable(&p.raw) {
                out.push(
                    Diagnostic::new(
                        Code::VariableInOldVersion,
                        Severity::Warning,
                        old(&p.raw),
                        at_item(stmt, element, i, n),
                    )
                    .with_help(help),
                );
            }
        }
    }
    for c in &stmt.conditions {
        if !matches!(
            c.operator.base.family(),
            Family::String | Family::Arn | Family::Bool
        ) {
            continue;
        }
        if let Some(v) = c.values.iter().find(|v| has_variable(&v.raw)) {
            out.push(
                Diagnostic::new(
                    Code::VariableInOldVersion,
                    Severity::Warning,
                    old(&v.raw),
                    at_condition(c),
                )
                .with_help(help),
            );
        }
    }
}

/// How an operator family fits a key type.
enum Fit {
    Ok,
    /// A String operator on a non-string key: compares text.
    TextOnly,
    /// Can never compare.
    Never,
}

fn fit(family: Family, ty: KeyType) -> Fit {
    use KeyType as K;
    let ok = match family {
        Family::Null => true,
        Family::String => {
            return if matches!(ty, K::String | K::Arn) {
                Fit::Ok
            } else {
                Fit::TextOnly
            }
        }
        Family::Arn => ty == K::Arn,
        Family::Numeric => matches!(ty, K::Numeric | K::DateOrNumeric),
        Family::Date => matches!(ty, K::Date | K::DateOrNumeric),
        Family::Bool => ty == K::Bool,
        Family::Ip => ty == K::IpAddress,
        // BinaryEquals compares the bytes of the request value: text keys have bytes.
        Family::Binary => {
            return if matches!(ty, K::String | K::Arn) {
                Fit::Ok
            } else {
                Fit::TextOnly
            }
        }
    };
    if ok {
        Fit::Ok
    } else {
        Fit::Never
    }
}

fn operators_for(ty: KeyType) -> &'static str {
    match ty {
        KeyType::String => "a String operator (StringEquals, StringLike, …)",
        KeyType::Arn => "an ARN operator (ArnLike, ArnEquals, …) or a String operator",
        KeyType::Bool => "Bool",
        KeyType::Date => "a Date operator (DateGreaterThan, …)",
        KeyType::Numeric => "a Numeric operator (NumericLessThan, …)",
        KeyType::IpAddress => "IpAddress or NotIpAddress",
        KeyType::DateOrNumeric => "a Date or Numeric operator",
    }
}

/// `IAM171`–`IAM175` for one condition.
fn key_rules(c: &Condition, out: &mut Vec<Diagnostic>) {
    let op = c.operator;
    let Some(info) = catalog::condition_key(&c.key) else {
        if c.key_lc.starts_with("aws:") {
            unknown_global(c, out);
        }
        return;
    };
    match fit(op.base.family(), info.ty) {
        Fit::Ok => {}
        Fit::TextOnly => out.push(
            Diagnostic::new(
                Code::StringOperatorOnTypedKey,
                Severity::Warning,
                format!(
                    "{} compares text or bytes, but {} is a {} key: the request value is compared as a string, not as {}",
                    op.name(),
                    c.key,
                    info.type_name(),
                    match info.ty {
                        KeyType::IpAddress => "an address in a range",
                        KeyType::Date | KeyType::DateOrNumeric => "a point in time",
                        KeyType::Numeric => "a number",
                        _ => "a boolean",
                    }
                ),
                at_condition(c),
            )
            .with_help(format!("use {}", operators_for(info.ty))),
        ),
        Fit::Never => out.push(
            Diagnostic::error(
                Code::OperatorTypeMismatch,
                format!(
                    "{} cannot compare {}, a {} key: the condition never matches{}",
                    op.name(),
                    c.key,
                    info.type_name(),
                    if op.base.is_negated() {
                        " as meant (negated, it always holds)"
                    } else {
                        ""
                    }
                ),
                at_condition(c),
            )
            .with_help(format!("use {}", operators_for(info.ty))),
        ),
    }
    if op.base.family() == Family::Null {
        return;
    }
    match (info.multi_valued, op.qualifier) {
        (true, None) => out.push(
            Diagnostic::new(
                Code::MultiValuedKeyWithoutQualifier,
                Severity::Warning,
                format!(
                    "{} is multi-valued, but {} has no set qualifier: it does not match a request that carries several values",
                    c.key,
                    op.name()
                ),
                at_condition(c),
            )
            .with_help(format!(
                "write ForAnyValue:{base} (some value matches) or ForAllValues:{base} (every value matches)",
                base = op.base.name()
            )),
        ),
        (false, Some(q)) => out.push(
            Diagnostic::new(
                Code::QualifierOnSingleValuedKey,
                Severity::Warning,
                format!(
                    "{} is single-valued: the set qualifier of {} is not meant for it{}",
                    c.key,
                    op.name(),
                    if q == SetQualifier::ForAllValues {
                        ", and ForAllValues: also holds when the key is absent"
                    } else {
                        ""
                    }
                ),
                at_condition(c),
            )
            .with_help(format!("write {}{}", op.base.name(), if op.if_exists { "IfExists" } else { "" })),
        ),
        _ => {}
    }
}

/// `IAM173`.
fn unknown_global(c: &Condition, out: &mut Vec<Diagnostic>) {
    let names: Vec<&str> = catalog::global_keys().iter().map(|k| k.name).collect();
    // For a tag key, compare the part up to the `/` with the prefixes.
    let probe = match c.key.split_once('/') {
        Some((head, _)) => format!("{head}/"),
        None => c.key.clone(),
    };
    let near = nearest(&probe, names.iter().copied());
    let help = match near {
        Some(n) if n.ends_with('/') => format!("did you mean \"{n}<tag-key>\"?"),
        Some(n) => format!("did you mean \"{n}\"?"),
        None => "check the global condition keys of the IAM User Guide".to_string(),
    };
    out.push(
        Diagnostic::new(
            Code::UnknownGlobalKey,
            Severity::Warning,
            format!(
                "\"{}\" is not a global condition key; a request never carries it",
                c.key
            ),
            at_condition(c),
        )
        .with_help(help),
    );
}

/// The global keys whose presence depends on the action (tags).
fn action_dependent(info: &KeyInfo) -> bool {
    matches!(
        info.name,
        "aws:RequestTag/" | "aws:ResourceTag/" | "aws:TagKeys"
    )
}

/// `IAM170`.
fn supported(c: &Condition, infos: &[&'static catalog::ActionInfo], out: &mut Vec<Diagnostic>) {
    let Some((prefix, _)) = c.key_lc.split_once(':') else {
        return;
    };
    let names: Vec<String> = infos.iter().map(|a| a.full_name()).collect();
    let message = if prefix == "aws" {
        match catalog::global_key(&c.key) {
            Some(info) if action_dependent(info) && !infos.iter().any(|a| a.lists_key(&c.key)) => {
                format!(
                    "{} is not set for {}: {}",
                    c.key,
                    list_names(&names, 3),
                    if names.len() == 1 {
                        "that action never carries it"
                    } else {
                        "those actions never carry it"
                    }
                )
            }
            _ => return,
        }
    } else if catalog::knows_service(prefix) {
        if infos.iter().any(|a| a.lists_key(&c.key)) {
            return;
        }
        match catalog::service_key(&c.key) {
            Some(_) => format!(
                "{} is not a condition key of {}: a request for {} never carries it",
                c.key,
                list_names(&names, 3),
                if names.len() == 1 { "it" } else { "them" }
            ),
            None => format!(
                "{prefix} defines no condition key {}; a request never carries it",
                c.key
            ),
        }
    } else {
        format!(
            "{} is a key of the {prefix} service, but the statement's actions ({}) are not: a request for them never carries it",
            c.key,
            list_names(&names, 3)
        )
    };
    let keys: Vec<String> = {
        let mut k: Vec<String> = Vec::new();
        for a in infos {
            for key in a.condition_keys {
                if !k.iter().any(|x| x == key) {
                    k.push((*key).to_string());
                }
            }
        }
        k
    };
    let help = if keys.is_empty() {
        "these actions support only the global condition keys".to_string()
    } else {
        format!(
            "these actions support the global keys and {}",
            list_names(&keys, 4)
        )
    };
    out.push(
        Diagnostic::new(
            Code::UnsupportedConditionKey,
            Severity::Warning,
            message,
            at_condition(c),
        )
        .with_help(help),
    );
}

/// `IAM179`.
fn null_contradictions(stmt: &Statement, out: &mut Vec<Diagnostic>) {
    for n in &stmt.conditions {
        let absent = n.operator.base.family() == Family::Null
            && !n.values.is_empty()
            && n.values.iter().all(|v| v.parsed == Parsed::Null(true));
        if !absent {
            continue;
        }
        let needs_present = stmt.conditions.iter().find(|c| {
            c.key_lc == n.key_lc
                && c.operator.base.family() != Family::Null
                && !c.operator.base.is_negated()
                && !c.operator.if_exists
                && c.operator.qualifier != Some(SetQualifier::ForAllValues)
        });
        if let Some(c) = needs_present {
            out.push(
                Diagnostic::new(
                    Code::NullContradiction,
                    Severity::Warning,
                    format!(
                        "\"Null\": {{\"{}\": \"true\"}} holds only when the key is absent, but {} on it holds only when it is present: the statement never matches",
                        n.key,
                        c.operator.name()
                    ),
                    at_condition(n),
                )
                .with_help(format!("drop one of the two, or write {}IfExists", c.operator.name())),
            );
        }
    }
}
