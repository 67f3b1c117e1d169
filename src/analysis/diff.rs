//! `diff`: whether a new policy grants access the old one does not (IAM Access Analyzer's
//! CheckNoNewAccess), answered in two steps:
//!
//! 1. **Witnesses.** Concrete requests are drawn from the regions of the new policy's Allow
//!    statements and the old policy's Deny statements: the actions their patterns match (the
//!    catalog's, and a stand-in for actions it does not know), resources that their patterns
//!    match (each `*` filled with several texts), and contexts built from the constants of the
//!    conditions. Each is decided by the reference evaluator under both policies; one that the
//!    new policy allows and the old does not is **new access**, with that request as witness.
//! 2. **Proof.** Without a witness, "no new access" is claimed only when it is proved: every
//!    Allow statement of the new policy is covered by one of the old (actions, resources and
//!    principals included in the old statement's, by a sound glob-inclusion test, and the old
//!    statement's conditions all present in the new one), and every Deny statement of the old
//!    policy is covered by a Deny of the new. Otherwise the answer is **unknown**, with the
//!    statements that could not be proved: never a false "no new access".
//!
//! Both policies are read as one policy type. For identity-side types (identity, boundary,
//! session, SCP) a fixed caller asks; for resource-side types each principal the policies name
//! asks, plus one they do not.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::ast::{
    ActionElement, ArnForm, Condition, Effect, Inputs, Parsed, PolicyDoc, PolicyType,
    PrincipalElement, PrincipalValue, ResourceElement, ResourceSide, Statement,
};
use crate::catalog;
use crate::eval::matching::principal_matches;
use crate::eval::{reference, Outcome};
use crate::request::{Caller, ContextValue, Request, Scalar};
use crate::semantics::Semantics;

use super::what_can::witness;

/// The caller of identity-side policies, and the account resources are assumed to be in.
pub const DIFF_CALLER: &str = "arn:aws:iam::111122223333:user/iamc-diff";
/// A principal no policy names, for resource-side policies.
const OUTSIDER: &str = "arn:aws:iam::444455556666:user/iamc-outsider";
/// Most candidate requests tried.
pub const MAX_CANDIDATES: usize = 200_000;

/// A request the new policy allows and the old one does not.
#[derive(Clone, Debug, Serialize)]
pub struct Witness {
    /// The caller.
    pub principal: String,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The context keys it sets (besides those that follow from the caller).
    pub context: serde_json::Map<String, serde_json::Value>,
    /// The new policy's statements that allow it.
    pub allowed_by: Vec<String>,
}

/// A policy cut down to the statements that can match one caller's requests for one action
/// (the others cannot match them: principal and action do not depend on the rest of the
/// request), so that each candidate is decided over a few statements, not all of them.
struct Narrowed {
    doc: Arc<PolicyDoc>,
    /// The index in the whole policy of each statement kept.
    index: Vec<usize>,
}

impl Narrowed {
    /// The statements of `doc` whose principal can match `caller` (all without Principal).
    fn for_caller(doc: &PolicyDoc, caller: &Caller, sem: &Semantics) -> Vec<usize> {
        (0..doc.policy.statements.len())
            .filter(|&i| {
                let st = &doc.policy.statements[i];
                st.principal.is_none()
                    || principal_matches(st.principal.as_ref(), st.effect, caller, sem).is_some()
            })
            .collect()
    }

    /// `doc` cut to the statements of `of_caller` ([`Narrowed::for_caller`]) that can match
    /// `action`.
    fn of(doc: &Arc<PolicyDoc>, of_caller: &[usize], action: &str) -> Narrowed {
        let action_lc = action.to_ascii_lowercase();
        let mut index = Vec::new();
        let mut kept = Vec::new();
        for &i in of_caller {
            let st = &doc.policy.statements[i];
            if st.action.negated != st.action.patterns.iter().any(|p| p.matches_lc(&action_lc)) {
                index.push(i);
                kept.push(st.clone());
            }
        }
        let policy = crate::ast::Policy {
            version: doc.policy.version,
            id: doc.policy.id.clone(),
            statements: kept,
            single_statement: doc.policy.single_statement,
            source_bytes: doc.policy.source_bytes,
        };
        Narrowed {
            doc: PolicyDoc::new(doc.id.clone(), doc.ty, policy),
            index,
        }
    }

    /// Points `d`'s statement references back into the whole policy.
    fn restore(&self, d: &mut crate::Decision) {
        for s in d.determining.iter_mut() {
            if s.policy_id == self.doc.id {
                if let Some(i) = self.index.get(s.statement) {
                    s.statement = *i;
                }
            }
        }
    }
}

impl Witness {
    fn same_request(&self, o: &Witness) -> bool {
        self.principal == o.principal
            && self.action == o.action
            && self.resource == o.resource
            && self.context == o.context
    }
}

/// The witness `caller` asking `action` on `resource` with `ctx`, allowed by `d` under `doc`
/// (whose statements are named, not the stand-ins around it).
pub(super) fn witness_of(
    caller: &str,
    action: &str,
    resource: &str,
    ctx: &[(String, String)],
    d: &crate::Decision,
    doc: &PolicyDoc,
) -> Witness {
    Witness {
        principal: caller.to_string(),
        action: action.to_string(),
        resource: resource.to_string(),
        context: ctx
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
        allowed_by: d
            .determining
            .iter()
            .filter(|s| s.policy_id == doc.id)
            .map(|s| s.to_string())
            .collect(),
    }
}

/// The verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Proved: the new policy allows nothing the old one does not.
    NoNewAccess,
    /// A witness shows new access.
    NewAccess,
    /// Neither proved nor shown.
    Unknown,
}

/// The answer to `diff`.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    /// The verdict.
    pub verdict: Verdict,
    /// Requests that show new access (at most one per new Allow statement).
    pub witnesses: Vec<Witness>,
    /// Why the verdict is `unknown`: the statements not covered.
    pub unproved: Vec<String>,
    /// Candidate requests decided.
    pub candidates: usize,
}

/// Compares `old` and `new`, both read as policies of type `ty`.
pub fn diff(old: &Arc<PolicyDoc>, new: &Arc<PolicyDoc>, ty: PolicyType, sem: &Semantics) -> Diff {
    let resource_side = ty.has_principal();
    // Candidate requests.
    let mut regions: Vec<&Statement> = Vec::new();
    regions.extend(
        new.policy
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow),
    );
    regions.extend(
        old.policy
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Deny),
    );
    let constants = Constants::of(&[old, new]);
    // The callers of a region: those its statement's Principal names (a request in the
    // region matches it), or for identity-side types the one fixed caller.
    let callers_of = |stmt: &Statement| -> Vec<String> {
        if !resource_side {
            return vec![DIFF_CALLER.to_string()];
        }
        let mut v: Vec<String> = match &stmt.principal {
            Some(p) if !p.negated => p.values.iter().filter_map(principal_witness).collect(),
            _ => Vec::new(),
        };
        if v.is_empty() || stmt.principal.as_ref().is_some_and(|p| p.negated) {
            v.push(OUTSIDER.to_string());
        }
        v.sort();
        v.dedup();
        v
    };
    let mut witnesses: Vec<Witness> = Vec::new();
    let mut candidates = 0usize;
    let mut narrowed: HashMap<(String, String), (Narrowed, Narrowed)> = HashMap::new();
    let mut by_caller: HashMap<String, (Vec<usize>, Vec<usize>)> = HashMap::new();
    'regions: for stmt in &regions {
        let actions = action_witnesses(&stmt.action);
        let resources = resource_witnesses(stmt.resource.as_ref());
        let contexts = constants.contexts(&stmt.conditions);
        for caller in &callers_of(stmt) {
            for action in &actions {
                for resource in &resources {
                    for ctx in &contexts {
                        if candidates >= MAX_CANDIDATES {
                            break 'regions;
                        }
                        candidates += 1;
                        let Some(req) = request(caller, action, resource, ctx) else {
                            continue;
                        };
                        let (old_c, new_c) = by_caller.entry(caller.clone()).or_insert_with(|| {
                            (
                                Narrowed::for_caller(old, &req.caller, sem),
                                Narrowed::for_caller(new, &req.caller, sem),
                            )
                        });
                        let (old_n, new_n) = narrowed
                            .entry((caller.clone(), action.clone()))
                            .or_insert_with(|| {
                                (
                                    Narrowed::of(old, old_c, action),
                                    Narrowed::of(new, new_c, action),
                                )
                            });
                        let mut on_new = decide(&new_n.doc, ty, &req, sem);
                        if on_new.decision != Outcome::Allow {
                            continue;
                        }
                        if decide(&old_n.doc, ty, &req, sem).decision == Outcome::Allow {
                            continue;
                        }
                        new_n.restore(&mut on_new);
                        let w = witness_of(caller, action, resource, ctx, &on_new, new);
                        if !witnesses.iter().any(|o| o.same_request(&w)) {
                            witnesses.push(w);
                        }
                        // One witness per region is enough to show it.
                        continue 'regions;
                    }
                }
            }
        }
    }
    if !witnesses.is_empty() {
        return Diff {
            verdict: Verdict::NewAccess,
            witnesses,
            unproved: Vec::new(),
            candidates,
        };
    }
    let mut unproved = Vec::new();
    for (i, s) in new.policy.statements.iter().enumerate() {
        if s.effect == Effect::Allow
            && !old
                .policy
                .statements
                .iter()
                .any(|o| o.effect == Effect::Allow && covers(o, s))
        {
            unproved.push(format!(
                "new statement {i}{}: an Allow that no Allow of the old policy is proved to cover",
                sid(s)
            ));
        }
    }
    for (i, d) in old.policy.statements.iter().enumerate() {
        if d.effect == Effect::Deny
            && !new
                .policy
                .statements
                .iter()
                .any(|n| n.effect == Effect::Deny && covers(n, d))
        {
            unproved.push(format!(
                "old statement {i}{}: a Deny that no Deny of the new policy is proved to cover",
                sid(d)
            ));
        }
    }
    Diff {
        verdict: if unproved.is_empty() {
            Verdict::NoNewAccess
        } else {
            Verdict::Unknown
        },
        witnesses,
        unproved,
        candidates,
    }
}

fn sid(s: &Statement) -> String {
    s.sid
        .as_ref()
        .map(|x| format!(" ({x})"))
        .unwrap_or_default()
}

/// Decides `req` with `doc` as the only policy of its type (identity side: the identity
/// policy, with an allow-everything identity policy under a boundary, session policy or SCP;
/// resource side: the resource's policy, with the caller's identity allowing everything).
pub(super) fn decide(
    doc: &Arc<PolicyDoc>,
    ty: PolicyType,
    req: &Request,
    sem: &Semantics,
) -> crate::Decision {
    let mut inputs = Inputs::default();
    let all = allow_all();
    match ty {
        PolicyType::Identity => inputs.identity = vec![Arc::clone(doc)],
        PolicyType::Boundary => {
            inputs.identity = all.clone();
            inputs.boundary = Some(Arc::clone(doc));
        }
        PolicyType::Session => {
            inputs.identity = all.clone();
            inputs.session = Some(Arc::clone(doc));
        }
        PolicyType::Scp => {
            inputs.identity = all.clone();
            inputs.scps = vec![vec![Arc::clone(doc)]];
        }
        PolicyType::Rcp
        | PolicyType::Resource
        | PolicyType::KinesisResource
        | PolicyType::RoleTrust => {
            inputs.identity = all.clone();
            let mut side = ResourceSide {
                arn: req.resource.clone(),
                ..ResourceSide::default()
            };
            if ty == PolicyType::Rcp {
                side.rcps = vec![vec![Arc::clone(doc)]];
                side.policy = None;
            } else {
                side.policy = Some(Arc::clone(doc));
            }
            inputs.resources = vec![side];
        }
    }
    reference::evaluate(&inputs, req, sem)
}

static ALLOW_ALL: std::sync::OnceLock<Vec<Arc<PolicyDoc>>> = std::sync::OnceLock::new();

/// An identity policy that allows everything (parsed once): the stand-in for the policies
/// around the one under study (a boundary's identity policy, a resource-side policy's caller,
/// the own policies of a principal outside the store).
pub(super) fn allow_all() -> Vec<Arc<PolicyDoc>> {
    ALLOW_ALL
        .get_or_init(|| {
            let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
            crate::parse::parse_policy(text, &crate::parse::Limits::default())
                .map(|p| vec![PolicyDoc::new("allow-all", PolicyType::Identity, p)])
                .unwrap_or_default()
        })
        .clone()
}

pub(super) fn request(
    caller: &str,
    action: &str,
    resource: &str,
    ctx: &[(String, String)],
) -> Option<Request> {
    let caller = Caller::parse(caller).ok()?;
    let mut req = Request::new(caller, action, resource);
    for (k, v) in ctx {
        req.context
            .insert(k, ContextValue::One(Scalar::string(v.clone())));
    }
    Some(req.with_derived_keys())
}

/// A caller that a principal value names.
pub(super) fn principal_witness(v: &PrincipalValue) -> Option<String> {
    match v {
        PrincipalValue::Anyone => Some("arn:aws:iam::777788889999:user/iamc-anyone".into()),
        PrincipalValue::Service(s) => Some(s.clone()),
        PrincipalValue::Aws(s) if s.len() == 12 => Some(format!("arn:aws:iam::{s}:user/iamc-any")),
        PrincipalValue::Aws(s) if s.ends_with(":root") => {
            let account = s.split(':').nth(4)?;
            Some(format!("arn:aws:iam::{account}:user/iamc-any"))
        }
        PrincipalValue::Aws(s) if !s.contains('*') => Some(s.clone()),
        _ => None,
    }
}

/// Actions in an action element's region: the catalog's that match, a stand-in for unknown
/// ones, the literal ones.
fn action_witnesses(el: &ActionElement) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if el.negated {
        out.extend(catalog::actions().iter().map(|a| a.full_name()));
        out.push("iamcunknown:Action".into());
        out.push("sts:AssumeRole".into());
        return out;
    }
    for p in &el.patterns {
        if !p.raw.contains(['*', '?']) {
            out.push(p.raw.clone());
            continue;
        }
        out.extend(catalog::matching_actions(p).iter().map(|a| a.full_name()));
        out.push(witness(&p.raw).replace("iamc-any", "Iamcany"));
    }
    out.sort();
    out.dedup();
    out
}

/// Resources in a resource element's region: each pattern with its wildcards filled in several
/// ways; for NotResource or no element, a resource no pattern names.
pub(super) fn resource_witnesses(el: Option<&ResourceElement>) -> Vec<String> {
    const OTHER: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/iamc-unnamed";
    let mut out = Vec::new();
    match el {
        None => out.push(OTHER.to_string()),
        Some(el) if el.negated => out.push(OTHER.to_string()),
        Some(el) => {
            for p in &el.patterns {
                if p.raw == "*" {
                    out.push("*".to_string());
                    out.push(OTHER.to_string());
                    continue;
                }
                for fill in ["iamc-any", "", "zz9", "0"] {
                    out.push(p.raw.replace('*', fill).replace('?', "x"));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The constants of the policies' conditions, by key (lower-cased).
pub(super) struct Constants(std::collections::BTreeMap<String, Vec<String>>);

impl Constants {
    pub(super) fn of(docs: &[&Arc<PolicyDoc>]) -> Constants {
        let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for d in docs {
            for s in &d.policy.statements {
                for c in &s.conditions {
                    let e = m.entry(c.key.clone()).or_default();
                    for v in &c.values {
                        match &v.parsed {
                            Parsed::Number(_) => {
                                e.push(v.raw.clone());
                                if let Ok(n) = v.raw.parse::<i64>() {
                                    e.push((n - 1).to_string());
                                    e.push((n + 1).to_string());
                                }
                            }
                            _ => e.push(witness(&v.raw).replace("iamc-any", "")),
                        }
                    }
                    e.push("iamc-other".into());
                }
            }
        }
        for v in m.values_mut() {
            v.sort();
            v.dedup();
        }
        Constants(m)
    }

    /// Contexts for a statement's conditions: none set, then each combination of the
    /// constants of its keys (bounded).
    pub(super) fn contexts(&self, conditions: &[Condition]) -> Vec<Vec<(String, String)>> {
        let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
        let mut keys: Vec<&str> = conditions.iter().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            let Some(values) = self.0.get(k) else {
                continue;
            };
            let mut next = Vec::new();
            for ctx in &out {
                next.push(ctx.clone());
                for v in values {
                    let mut c = ctx.clone();
                    c.push((k.to_string(), v.clone()));
                    next.push(c);
                }
            }
            out = next;
            if out.len() > 512 {
                out.truncate(512);
            }
        }
        out
    }
}

/// Whether statement `big` matches every request `small` matches (sound, not complete).
fn covers(big: &Statement, small: &Statement) -> bool {
    principals_cover(big.principal.as_ref(), small.principal.as_ref())
        && actions_cover(&big.action, &small.action)
        && resources_cover(big.resource.as_ref(), small.resource.as_ref())
        && big.conditions.iter().all(|bc| {
            small.conditions.iter().any(|sc| {
                sc.operator == bc.operator && sc.key_lc == bc.key_lc && sc.values == bc.values
            })
        })
}

fn actions_cover(big: &ActionElement, small: &ActionElement) -> bool {
    let star = |e: &ActionElement| !e.negated && e.patterns.iter().any(|p| p.raw == "*");
    if star(big) {
        return true;
    }
    match (big.negated, small.negated) {
        (false, false) => small.patterns.iter().all(|s| {
            big.patterns
                .iter()
                .any(|b| glob_includes(&b.raw.to_ascii_lowercase(), &s.raw.to_ascii_lowercase()))
        }),
        // NotAction B covers NotAction S when B excludes less: every B pattern is within S's.
        (true, true) => big.patterns.iter().all(|b| {
            small
                .patterns
                .iter()
                .any(|s| glob_includes(&s.raw.to_ascii_lowercase(), &b.raw.to_ascii_lowercase()))
        }),
        _ => false,
    }
}

fn resources_cover(big: Option<&ResourceElement>, small: Option<&ResourceElement>) -> bool {
    let Some(big) = big else { return true };
    let star = !big.negated && big.patterns.iter().any(|p| p.raw == "*");
    if star {
        return true;
    }
    let Some(small) = small else { return false };
    // Patterns AWS reads in more than one way are proved only when written the same.
    let plain = |p: &crate::ast::ResourcePattern| p.form == ArnForm::Plain;
    match (big.negated, small.negated) {
        (false, false) => small.patterns.iter().all(|s| {
            big.patterns
                .iter()
                .any(|b| b.raw == s.raw || (plain(b) && plain(s) && glob_includes(&b.raw, &s.raw)))
        }),
        (true, true) => big.patterns.iter().all(|b| {
            small
                .patterns
                .iter()
                .any(|s| b.raw == s.raw || (plain(b) && plain(s) && glob_includes(&s.raw, &b.raw)))
        }),
        _ => false,
    }
}

fn principals_cover(big: Option<&PrincipalElement>, small: Option<&PrincipalElement>) -> bool {
    match (big, small) {
        (None, None) => true,
        (Some(b), Some(s)) if !b.negated && !s.negated => {
            b.values.contains(&PrincipalValue::Anyone)
                || s.values.iter().all(|v| b.values.contains(v))
        }
        (Some(b), Some(s)) => b == s,
        _ => false,
    }
}

/// A glob token: a character, `?`, `*`, or a policy variable `${…}` (opaque: equal only to
/// itself, since it stands for the same value on both sides).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Char(char),
    One,
    Star,
    Var(&'a str),
}

fn tokens(p: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut rest = p;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("${") {
            if let Some(end) = rest.find('}') {
                out.push(Tok::Var(&rest[..=end]));
                rest = &rest[end + 1..];
                continue;
            }
        }
        out.push(match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Char(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Whether every text glob `small` matches is matched by glob `big` (sound: `true` only when
/// it holds; it may answer `false` for some inclusions that hold).
pub fn glob_includes(big: &str, small: &str) -> bool {
    let b = tokens(big);
    let s = tokens(small);
    let (n, m) = (s.len(), b.len());
    // dp[i][j]: b[j..] covers s[i..].
    let mut dp = vec![vec![false; m + 1]; n + 1];
    dp[n][m] = true;
    for j in (0..m).rev() {
        dp[n][j] = b[j] == Tok::Star && dp[n][j + 1];
    }
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            dp[i][j] = match b[j] {
                Tok::Star => dp[i][j + 1] || dp[i + 1][j],
                Tok::One => matches!(s[i], Tok::Char(_) | Tok::One) && dp[i + 1][j + 1],
                Tok::Char(c) => s[i] == Tok::Char(c) && dp[i + 1][j + 1],
                Tok::Var(v) => s[i] == Tok::Var(v) && dp[i + 1][j + 1],
            };
        }
    }
    dp[0][0]
}

#[cfg(test)]
mod tests {
    use super::glob_includes;

    #[test]
    fn glob_inclusion_is_sound_on_examples() {
        assert!(glob_includes("a*", "ab*"));
        assert!(glob_includes("*", "a?c*"));
        assert!(glob_includes("a?c", "abc"));
        assert!(glob_includes("a*c", "a*b*c"));
        assert!(!glob_includes("ab*", "a*"));
        assert!(!glob_includes("abc", "a?c"));
        assert!(!glob_includes("a?", "a*"));
        assert!(glob_includes("x/${aws:username}", "x/${aws:username}"));
        assert!(glob_includes("x/*", "x/${aws:username}"));
        assert!(!glob_includes("x/${aws:username}", "x/*"));
        assert!(!glob_includes("x/?", "x/${aws:username}"));
    }
}
