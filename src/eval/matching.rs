//! Matching one statement's Action, Resource and Principal elements against a request
//! (spec §2). These functions are the reference: plain, and read beside the spec.

use crate::arn::Arn;
use crate::ast::{
    ActionElement, ArnForm, Effect, PolicyType, PrincipalElement, PrincipalValue, ResourceElement,
    Template,
};
use crate::request::{Caller, Context};
use crate::semantics::{
    resource_reading, NotPrincipalModel, ResourceReading, Semantics, BARE_ROLE_CALLER_IS_SESSION,
};

/// Spec §2.1: `Action` matches when any pattern matches; `NotAction` when none does. The
/// request action is given lower-cased (actions ignore case).
// INVARIANT: NotAction inverts the match of its own element only, never the statement's effect.
pub fn action_matches(el: &ActionElement, action_lc: &str) -> bool {
    action_matches_split(el, action_lc, action_lc.find(':'))
}

/// [`action_matches`] with the position of the action's colon already known.
pub fn action_matches_split(el: &ActionElement, action_lc: &str, colon: Option<usize>) -> bool {
    let split = colon.and_then(|i| Some((action_lc.get(..i)?, action_lc.get(i + 1..)?)));
    let any = match split {
        Some((svc, name)) => el.patterns.iter().any(|p| p.matches_parts(svc, name)),
        None => el.patterns.iter().any(|p| p.matches_lc(action_lc)),
    };
    any != el.negated
}

/// Spec §2.2: `Resource` matches when any pattern matches; `NotResource` when none does.
/// A missing element (allowed only in resource-based policies) means "this resource".
/// The request resource `*` (wildcard-only actions) is matched only by the literal `*`.
/// Short ARNs and wildcards in the resource type are read as
/// [`resource_reading`] says for a statement of `effect` in a policy of type `ty`.
/// Keys that a variable needed but the context lacked are pushed to `missing` (where the
/// pattern's literal prefix matches the resource).
pub fn resource_matches(
    el: Option<&ResourceElement>,
    ty: PolicyType,
    effect: Effect,
    resource: &str,
    ctx: &Context,
    missing: &mut Vec<String>,
) -> bool {
    let Some(el) = el else { return true };
    let mut any = false;
    for p in &el.patterns {
        if resource == "*" {
            if p.is_star() {
                any = true;
            }
            continue;
        }
        let written = |missing: &mut Vec<String>| glob_matches(&p.template, resource, ctx, missing);
        let completed = |missing: &mut Vec<String>| match &p.form {
            ArnForm::Short { completed, .. } => glob_matches(completed, resource, ctx, missing),
            _ => false,
        };
        if match resource_reading(&p.form, ty, effect, el.negated) {
            ResourceReading::Glob => written(missing),
            ResourceReading::Completed => completed(missing),
            ResourceReading::Nothing => false,
            ResourceReading::Either => written(missing) || completed(missing),
            ResourceReading::Both => written(missing) && completed(missing),
        } {
            any = true;
        }
    }
    any != el.negated
}

/// Whether one resource template matches `resource`. A template whose variable has no value
/// and no default matches nothing (spec §4.3); its keys count as missing only where the
/// pattern could have matched: the resource starts with the text before the first wildcard or
/// variable (so the answer does not depend on how statements are found).
fn glob_matches(t: &Template, resource: &str, ctx: &Context, missing: &mut Vec<String>) -> bool {
    match t.resolve(|k| ctx.variable(k)) {
        Some(glob) => glob.matches(resource),
        None => {
            if resource.starts_with(&t.literal_prefix()) {
                missing.extend(
                    t.variable_keys()
                        .filter(|k| ctx.variable(k).is_none())
                        .map(str::to_string),
                );
            }
            false
        }
    }
}

/// How a resource-policy principal matched the caller; decides which implicit denies can still
/// withhold the Allow in the same account (spec §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantClass {
    /// `"*"` / `{"AWS":"*"}` (or an Allow with NotPrincipal): only explicit denies limit it.
    Wildcard,
    /// The caller's own ARN (user, role, role session, federated user, service).
    Direct,
    /// A role session matched through its role's ARN: limited by boundary and session policy.
    ViaRole,
    /// The caller's account: the account's own IAM policies must allow too.
    Account,
}

/// Spec §2.3: how one principal value matches the caller, if it does.
pub fn principal_value_matches(v: &PrincipalValue, caller: &Caller) -> Option<GrantClass> {
    match v {
        PrincipalValue::Anyone => Some(GrantClass::Wildcard),
        PrincipalValue::Service(s) => match caller {
            Caller::Service { name } if name == s => Some(GrantClass::Direct),
            _ => None,
        },
        PrincipalValue::Federated(_) | PrincipalValue::CanonicalUser(_) => None,
        PrincipalValue::Aws(s) => aws_principal_matches(s, caller),
    }
}

fn aws_principal_matches(value: &str, caller: &Caller) -> Option<GrantClass> {
    let account = caller.account()?;
    // The account forms: a bare 12-digit id, or `arn:PARTITION:iam::ACCOUNT:root`.
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return (value == account).then_some(GrantClass::Account);
    }
    // Unique ids (AIDA…, AROA…) are not known from a caller ARN: no match.
    let arn = Arn::parse(value).ok()?;
    if Some(arn.partition()) != caller.partition() || arn.account() != account {
        return None;
    }
    match (arn.service(), arn.resource()) {
        ("iam", "root") => Some(GrantClass::Account),
        ("iam", r) if r.starts_with("user/") => {
            // User names are case-sensitive in Principal (spec §1.6).
            (caller.arn().as_deref() == Some(value)).then_some(GrantClass::Direct)
        }
        ("iam", r) if r.starts_with("role/") => match caller {
            Caller::Role { .. } => {
                (caller.arn().as_deref() == Some(value)).then_some(if BARE_ROLE_CALLER_IS_SESSION {
                    GrantClass::ViaRole
                } else {
                    GrantClass::Direct
                })
            }
            Caller::RoleSession { role_name, .. } => {
                // Session ARNs carry no role path: compare role names. IAM role names are
                // unique ignoring case (spec §2.3).
                let named = r.rsplit('/').next().unwrap_or("");
                named
                    .eq_ignore_ascii_case(role_name)
                    .then_some(GrantClass::ViaRole)
            }
            _ => None,
        },
        ("sts", r) if r.starts_with("assumed-role/") || r.starts_with("federated-user/") => {
            (caller.arn().as_deref() == Some(value)).then_some(GrantClass::Direct)
        }
        _ => None,
    }
}

/// Spec §2.3/§2.4: whether a statement's Principal/NotPrincipal matches the caller, and how.
/// Statements of policy types without principals pass `None` and always match (as `Direct`
/// is meaningless there, callers ignore the class).
pub fn principal_matches(
    el: Option<&PrincipalElement>,
    effect: Effect,
    caller: &Caller,
    sem: &Semantics,
) -> Option<GrantClass> {
    let el = el?;
    if !el.negated {
        return el
            .values
            .iter()
            .filter_map(|v| principal_value_matches(v, caller))
            .min();
    }
    let layered = match sem.not_principal {
        NotPrincipalModel::Layered => true,
        NotPrincipalModel::Lenient => false,
        NotPrincipalModel::Safe => effect == Effect::Deny,
    };
    let exempt = if layered {
        layered_exempt(&el.values, caller)
    } else {
        el.values
            .iter()
            .any(|v| principal_value_matches(v, caller).is_some())
    };
    (!exempt).then_some(GrantClass::Wildcard)
}

/// The layered reading of NotPrincipal (spec §2.4): the caller is exempt only when each of its
/// identities is listed: a session's ARN, its role and its account; a user's ARN and account;
/// a role's ARN and account; the root user's account. Anonymous callers are exempt only by `*`.
fn layered_exempt(values: &[PrincipalValue], caller: &Caller) -> bool {
    if values.contains(&PrincipalValue::Anyone) {
        return true;
    }
    let classes: Vec<GrantClass> = values
        .iter()
        .filter_map(|v| principal_value_matches(v, caller))
        .collect();
    let has = |c: GrantClass| classes.contains(&c);
    match caller {
        Caller::Anonymous => false,
        Caller::Service { .. } => has(GrantClass::Direct),
        Caller::Root { .. } => has(GrantClass::Account),
        Caller::RoleSession { .. } => {
            has(GrantClass::Direct) && has(GrantClass::ViaRole) && has(GrantClass::Account)
        }
        Caller::User { .. } | Caller::Role { .. } | Caller::FederatedUser { .. } => {
            has(GrantClass::Direct) && has(GrantClass::Account)
        }
    }
}
