//! The decision flow of spec §5, written once over an abstract source of statement matches.
//!
//! The reference evaluator ([`super::reference`]) finds matches by scanning every statement; the
//! compiled engine ([`crate::compile`]) asks its index for candidates. Both then check each
//! candidate with the same [`Matcher::statement_matches`], so the flow, the match rules and the
//! bookkeeping (missing keys, errors) are shared, and the two can differ only in which
//! statements they look at: the index may offer extra candidates, never fewer.

use super::condition;
use super::decision::{Decision, EvalError, Layer, Outcome, StatementRef};
use super::matching::{action_matches_split, principal_matches, resource_matches, GrantClass};
use crate::ast::{Effect, PolicyType, Statement};
use crate::catalog::{self, ActionId, ResourceRequirement, ResourceType};
use crate::diag::Code;
use crate::request::{Caller, Request};
use crate::semantics::Semantics;
use smallvec::SmallVec;

/// A matching statement and, for resource-policy statements, how the principal matched.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The statement.
    pub stmt: StatementRef,
    /// The principal match of a resource-policy statement.
    pub class: Option<GrantClass>,
}

/// Checks statements against one request and records what was missing or failed.
pub struct Matcher<'a> {
    /// The request.
    pub req: &'a Request,
    /// The semantics in force.
    pub sem: &'a Semantics,
    /// Context keys referred to but absent.
    pub missing: Vec<String>,
    /// Evaluation errors.
    pub errors: Vec<EvalError>,
    /// The request's action, lower-cased once.
    pub action_lc: &'a str,
    /// Where the colon of `action_lc` is.
    colon: Option<usize>,
    /// The action's catalog id, if it has one.
    pub action_id: Option<ActionId>,
    /// Whether errors are recorded ([`Mode::Full`]).
    record: bool,
}

impl<'a> Matcher<'a> {
    /// A matcher for `req`, whose action lower-cased ([`lower_action`]) is `action_lc`.
    pub fn new(req: &'a Request, action_lc: &'a str, sem: &'a Semantics) -> Matcher<'a> {
        Matcher {
            req,
            sem,
            missing: Vec::new(),
            errors: Vec::new(),
            colon: action_lc.find(':'),
            action_lc,
            action_id: None,
            record: true,
        }
    }

    /// Whether one statement matches the request on `resource` (spec §5.8 step 1): `Some(class)`
    /// when it does, where the class is the principal match of a resource-policy statement.
    /// Elements are checked in order (action, resource, principal, conditions); keys are
    /// recorded as missing only for the elements that were reached.
    /// With `action_known`, the statement's action element is known to match (the compiled
    /// index proved it at build time) and is not checked again.
    pub fn statement_matches(
        &mut self,
        policy_id: &str,
        ty: PolicyType,
        stmt: &Statement,
        resource: &str,
        action_known: bool,
    ) -> Option<Option<GrantClass>> {
        let req = self.req;
        if !action_known && !action_matches_split(&stmt.action, self.action_lc, self.colon) {
            return None;
        }
        if !resource_matches(
            stmt.resource.as_ref(),
            ty,
            stmt.effect,
            resource,
            &req.context,
            &mut self.missing,
        ) {
            return None;
        }
        let class = if ty.has_principal() {
            // A resource-policy statement without Principal never matches (spec §2.3 notes).
            Some(principal_matches(
                stmt.principal.as_ref(),
                stmt.effect,
                &req.caller,
                self.sem,
            )?)
        } else {
            None
        };
        // Conditions: AND. A definite false wins over an error; an error fails closed.
        let mut error = None;
        for c in &stmt.conditions {
            match condition::evaluate(c, stmt.effect, &req.context, &mut self.missing) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    error = Some(EvalError::new(
                        e.code,
                        format!("{policy_id} ({}): {}", c.loc, e.message),
                    ))
                }
            }
        }
        if let Some(e) = error {
            if self.record {
                self.errors.push(e);
            }
            // INVARIANT: fail closed: an Allow whose condition cannot be evaluated does not
            // match; a Deny does.
            if stmt.effect == Effect::Allow {
                return None;
            }
        }
        Some(class)
    }
}

impl Matcher<'_> {
    /// The hit for one statement of `doc` if it matches `resource`, or `extra` (the second
    /// resource a Deny is checked against). `action_known`: see
    /// [`Matcher::statement_matches`].
    pub fn hit(
        &mut self,
        doc: &crate::ast::PolicyDoc,
        index: usize,
        stmt: &Statement,
        resource: &str,
        extra: Option<&str>,
        action_known: bool,
    ) -> Option<Hit> {
        let class = self
            .statement_matches(&doc.id, doc.ty, stmt, resource, action_known)
            .or_else(|| {
                extra.and_then(|r| self.statement_matches(&doc.id, doc.ty, stmt, r, action_known))
            })?;
        Some(Hit {
            stmt: StatementRef {
                policy_id: doc.id.clone(),
                policy_type: doc.ty,
                statement: index,
                sid: stmt.sid.clone(),
            },
            class,
        })
    }
}

/// Where statement matches come from.
pub trait Source {
    /// A set of policies that is evaluated together (one layer, or one SCP/RCP level).
    type Set: ?Sized;

    /// The matching statements of `set` with effect `effect`, in statement order; with
    /// `first_only`, just the first. A Deny statement matches when it matches `resource` or
    /// `deny_resource`.
    fn hits(
        &mut self,
        m: &mut Matcher<'_>,
        set: &Self::Set,
        effect: Effect,
        resource: &str,
        deny_resource: Option<&str>,
        first_only: bool,
    ) -> Vec<Hit>;
}

/// SCP or RCP levels: a few (root, OUs, account), kept inline.
pub type Levels<'s, S> = SmallVec<[&'s S; 6]>;

/// The policy sets that apply to one (action, resource) pair (spec §5.1).
pub struct Layers<'s, S: ?Sized> {
    /// Identity-based policies of the caller.
    pub identity: Option<&'s S>,
    /// The permissions boundary.
    pub boundary: Option<&'s S>,
    /// The session policy.
    pub session: Option<&'s S>,
    /// SCP levels of the caller's account.
    pub scps: Levels<'s, S>,
    /// The resource-based policy.
    pub resource_policy: Option<&'s S>,
    /// RCP levels of the resource's account.
    pub rcps: Levels<'s, S>,
}

/// For a denied wildcard-only action (spec §2.2 rule 7), why a statement with a specific
/// resource could not allow it: `kinesis:ListStreams is authorized against "Resource": "*", so
/// only a statement with "Resource": "*" allows it`. `None` for an action that takes a resource
/// (or that `sem` makes resource-scoped), for an explicit deny and for a request that lacks a
/// resource. Messages (the gateway's AccessDenied, `iamc authorize`'s reason) add it.
#[cfg(any(feature = "cli", feature = "gateway"))]
pub fn wildcard_only_reason(action: &str, d: &Decision, sem: &Semantics) -> Option<String> {
    if d.decision != Outcome::ImplicitDeny || d.blocked_by == Some(Layer::Request) {
        return None;
    }
    let action_lc = action.to_ascii_lowercase();
    let info = catalog::lookup_lc(&action_lc)?;
    if info.resources != ResourceRequirement::WildcardOnly
        || sem.resource_scoped_actions.contains(&action_lc)
    {
        return None;
    }
    Some(format!(
        "{} is authorized against \"Resource\": \"*\", so only a statement with \"Resource\": \"*\" allows it",
        info.full_name()
    ))
}

/// How a role's trust policy takes part in a decision on `resource` (spec §1.6, §5.3 step 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TrustRule {
    /// `resource` is not an IAM role: the resource policy applies as usual.
    NotRole,
    /// An `sts:` action on a role (`sts:AssumeRole` and kin): the role's trust policy is the
    /// resource policy, and it must grant explicitly, in the same account too ([DOC]: "IAM role
    /// trust policies … the resource policy must grant explicitly"). An identity-policy Allow
    /// alone is not enough; a trust policy naming the account needs the identity Allow as well.
    MustGrant,
    /// Any other action on a role (`iam:GetRole`, `iam:PassRole`): the trust policy does not
    /// apply to it (it would otherwise let a trust grant of `"Action": "*"` reach IAM actions).
    NotApplicable,
}

impl TrustRule {
    fn of(resource: &str, action_lc: &str) -> TrustRule {
        if !is_role_arn(resource) {
            TrustRule::NotRole
        } else if action_lc.starts_with("sts:") {
            TrustRule::MustGrant
        } else {
            TrustRule::NotApplicable
        }
    }
}

/// Whether `resource` is an IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/…`.
pub fn is_role_arn(resource: &str) -> bool {
    let mut parts = resource.splitn(6, ':');
    parts.next() == Some("arn")
        && parts.next().is_some()
        && parts.next() == Some("iam")
        && parts.next() == Some("")
        && parts.next().is_some()
        && parts.next().is_some_and(|r| r.starts_with("role/"))
}

/// One (action, resource) pair's result.
pub type Part = (Outcome, Vec<StatementRef>, Option<Layer>);

/// How much of a decision to work out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The whole [`Decision`]: every determining statement, missing keys, errors, notes.
    Full,
    /// The [`Outcome`] only: evaluation stops at the first matching Deny, and nothing is
    /// recorded. The outcome is the one [`Mode::Full`] gives (the agreement tests check it).
    Outcome,
}

/// Decides a request (spec §5.3–§5.6): resolves wildcard-only and multi-resource actions, decides
/// each (action, resource) pair with [`decide_one`] and combines the results.
/// `layers_for(resource)` gives the policy sets that apply to one resource.
pub fn decide<'s, S: Source>(
    src: &mut S,
    req: &Request,
    sem: &Semantics,
    layers_for: impl Fn(&str) -> Layers<'s, S::Set>,
) -> Decision
where
    S::Set: 's,
{
    run(src, req, sem, layers_for, Mode::Full)
}

/// The outcome of [`decide`], worked out with early exits and no bookkeeping
/// ([`Mode::Outcome`]).
pub fn outcome<'s, S: Source>(
    src: &mut S,
    req: &Request,
    sem: &Semantics,
    layers_for: impl Fn(&str) -> Layers<'s, S::Set>,
) -> Outcome
where
    S::Set: 's,
{
    run(src, req, sem, layers_for, Mode::Outcome).decision
}

/// Writes `action` lower-cased (actions ignore case) into `out`, replacing what it held.
pub fn lower_action(action: &str, out: &mut String) {
    out.clear();
    if action.is_ascii() {
        out.push_str(action);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&action.to_lowercase());
    }
}

/// [`decide`] or [`outcome`], by `mode`.
pub fn run<'s, S: Source>(
    src: &mut S,
    req: &Request,
    sem: &Semantics,
    layers_for: impl Fn(&str) -> Layers<'s, S::Set>,
    mode: Mode,
) -> Decision
where
    S::Set: 's,
{
    let mut action_lc = String::new();
    lower_action(&req.action, &mut action_lc);
    run_lc(src, req, &action_lc, sem, layers_for, mode)
}

/// [`run`] with the request's action already lower-cased ([`lower_action`]), so that a caller
/// with scratch space does not allocate for it.
pub fn run_lc<'s, S: Source>(
    src: &mut S,
    req: &Request,
    action_lc: &str,
    sem: &Semantics,
    layers_for: impl Fn(&str) -> Layers<'s, S::Set>,
    mode: Mode,
) -> Decision
where
    S::Set: 's,
{
    let mut m = Matcher::new(req, action_lc, sem);
    m.record = mode == Mode::Full;
    let mut notes = Vec::new();
    let found = catalog::lookup_id_lc(m.action_lc);
    m.action_id = found.map(|(id, _)| id);
    let info = found.map(|(_, i)| i);
    let wildcard_only = info.is_some_and(|i| i.resources == ResourceRequirement::WildcardOnly)
        && !sem.resource_scoped_actions.iter().any(|a| a == m.action_lc);

    // The (resource for Allow statements, extra resource for Deny statements) pairs to decide.
    let mut targets: SmallVec<[(&str, Option<&str>); 2]> = SmallVec::new();
    if wildcard_only {
        // Spec §2.2 rule 7: the action is authorized against `*`. A resource the request names
        // is still checked by Deny statements (the safe reading, see `Semantics`).
        let named = req.resources().find(|r| *r != "*");
        if let Some(n) = named.filter(|_| mode == Mode::Full) {
            notes.push(format!(
                "{} is a wildcard-only action: Allow statements are matched against `*`; \
                 Deny statements also against {n}",
                req.action
            ));
        }
        targets.push(("*", named));
    } else {
        targets.extend(req.resources().map(|r| (r, None)));
    }

    let mut parts: SmallVec<[Part; 2]> = targets
        .iter()
        .map(|&(r, d)| decide_one(src, &mut m, &layers_for(r), r, d, mode))
        .collect();

    // Multi-resource actions need a resource of every type (spec §2.2 rule 9).
    if let Some(ResourceRequirement::AllOf(types)) = info.map(|i| i.resources) {
        if !req.resources().any(|r| r == "*") {
            let have: Vec<Option<ResourceType>> =
                req.resources().map(ResourceType::of_arn).collect();
            let lacking: Vec<&str> = types
                .iter()
                .filter(|t| !have.contains(&Some(**t)))
                .map(|t| t.as_str())
                .collect();
            if !lacking.is_empty() && mode == Mode::Full {
                m.errors.push(EvalError::new(
                    Code::EvalMissingResourceType,
                    format!(
                        "{} needs a resource of each type {}; the request lacks: {}",
                        req.action,
                        types
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        lacking.join(", ")
                    ),
                ));
            }
            if !lacking.is_empty() {
                parts.push((Outcome::ImplicitDeny, Vec::new(), Some(Layer::Request)));
            }
        }
    }

    let (decision, determining, blocked_by) = combine(parts);
    if mode == Mode::Outcome {
        return Decision {
            decision,
            determining: Vec::new(),
            blocked_by,
            missing_keys: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
        };
    }
    m.missing.sort();
    m.missing.dedup();
    Decision {
        decision,
        determining,
        blocked_by,
        missing_keys: m.missing,
        errors: m.errors,
        notes,
    }
}

/// The most restrictive of the per-resource results (spec §5.7 ResourceSpecificResults).
fn combine(mut parts: SmallVec<[Part; 2]>) -> Part {
    if parts.len() == 1 {
        if let Some(only) = parts.pop() {
            return only;
        }
    }
    let outcome = parts
        .iter()
        .fold(Outcome::Allow, |acc, p| acc.most_restrictive(p.0));
    let mut determining: Vec<StatementRef> = Vec::new();
    let mut blocked = None;
    for (o, stmts, layer) in parts {
        if o == outcome {
            for s in stmts {
                if !determining.contains(&s) {
                    determining.push(s);
                }
            }
            if blocked.is_none() {
                blocked = layer;
            }
        }
    }
    if outcome != Outcome::ImplicitDeny {
        blocked = None;
    }
    (outcome, determining, blocked)
}

/// The first matching Allow statement of a set, if any: a layer allows as soon as one statement
/// does, so evaluation stops there.
fn allows<S: Source>(
    src: &mut S,
    m: &mut Matcher<'_>,
    set: Option<&S::Set>,
    resource: &str,
) -> Option<StatementRef> {
    let set = set?;
    src.hits(m, set, Effect::Allow, resource, None, true)
        .into_iter()
        .next()
        .map(|h| h.stmt)
}

/// Decides one (action, resource) pair: spec §5.3 in order.
pub fn decide_one<S: Source>(
    src: &mut S,
    m: &mut Matcher<'_>,
    layers: &Layers<'_, S::Set>,
    resource: &str,
    deny_resource: Option<&str>,
    mode: Mode,
) -> Part {
    let full = mode == Mode::Full;
    let req = m.req;
    let caller = &req.caller;
    // Anonymous callers and service principals have no identity-side policies (spec §5.6).
    let iam_caller = !matches!(caller, Caller::Anonymous | Caller::Service { .. });
    let is_root = matches!(caller, Caller::Root { .. });
    // A role's trust policy is its resource-based policy for the sts: actions only, and for
    // them it must grant explicitly (spec §5.3 step 4).
    let trust = TrustRule::of(resource, m.action_lc);
    let resource_policy = match trust {
        TrustRule::NotApplicable => None,
        _ => layers.resource_policy,
    };

    // The sets that apply: the caller's (none for anonymous callers and services; the root user
    // has no boundary or session policy), then the resource's.
    let (identity, boundary, session, scps): (_, _, _, &[&S::Set]) = if iam_caller {
        let boundary = if is_root { None } else { layers.boundary };
        let session = if !is_root && caller.is_session() {
            layers.session
        } else {
            None
        };
        (layers.identity, boundary, session, &layers.scps)
    } else {
        (None, None, None, &[])
    };
    let sets = identity
        .into_iter()
        .chain(boundary)
        .chain(session)
        .chain(scps.iter().copied())
        .chain(resource_policy)
        .chain(layers.rcps.iter().copied());

    // 1. Explicit deny anywhere (spec §5.3 step 1).
    // INVARIANT: an explicit Deny in any applicable policy beats every Allow.
    // Without bookkeeping, the first matching Deny settles it.
    let mut denies = Vec::new();
    for set in sets {
        denies.extend(
            src.hits(m, set, Effect::Deny, resource, deny_resource, !full)
                .into_iter()
                .map(|h| h.stmt),
        );
        if !full && !denies.is_empty() {
            break;
        }
    }
    if !denies.is_empty() {
        return (Outcome::ExplicitDeny, denies, None);
    }

    // 2. RCPs of the resource's account: every level must allow (spec §5.3 step 2).
    for level in &layers.rcps {
        if allows(src, m, Some(*level), resource).is_none() {
            return (Outcome::ImplicitDeny, Vec::new(), Some(Layer::Rcp));
        }
    }

    // Resource-policy grants, with the class of each.
    let rp_hits: Vec<Hit> = match resource_policy {
        Some(p) => src.hits(m, p, Effect::Allow, resource, None, false),
        None => Vec::new(),
    };
    let rp_refs: Vec<StatementRef> = if full {
        rp_hits.iter().map(|h| h.stmt.clone()).collect()
    } else {
        Vec::new()
    };
    let has = |c: GrantClass| rp_hits.iter().any(|h| h.class == Some(c));

    if !iam_caller {
        // Anonymous: only a wildcard grant; a service: a grant naming it (spec §5.6).
        let ok = has(GrantClass::Wildcard)
            || (matches!(caller, Caller::Service { .. }) && has(GrantClass::Direct));
        return if ok {
            (Outcome::Allow, rp_refs, None)
        } else {
            (
                Outcome::ImplicitDeny,
                Vec::new(),
                Some(Layer::ResourcePolicy),
            )
        };
    }

    // 3. SCPs of the caller's account: every level must allow (spec §5.3 step 3).
    for level in &layers.scps {
        if allows(src, m, Some(*level), resource).is_none() {
            return (Outcome::ImplicitDeny, Vec::new(), Some(Layer::Scp));
        }
    }

    // Identity side (spec §5.3 steps 5-7). The root user is allowed everything in its
    // account's IAM (spec §5.3): no boundary or session policy can apply to it.
    let id_ref = if is_root {
        None
    } else {
        allows(src, m, layers.identity, resource)
    };
    let id_ok = is_root || id_ref.is_some();
    let pb_ok =
        is_root || layers.boundary.is_none() || allows(src, m, layers.boundary, resource).is_some();
    let sp_ok = if caller.is_session() {
        match layers.session {
            Some(s) => allows(src, m, Some(s), resource).is_some(),
            // A role session without a session policy keeps its role's permissions; a
            // GetFederationToken session without one has none (spec §5.3 step 7).
            None => matches!(caller, Caller::RoleSession { .. }),
        }
    } else {
        true
    };

    let mut grants: Vec<StatementRef> = id_ref.into_iter().collect();
    grants.extend(rp_refs.iter().cloned());
    let same_account = req.resource_account(resource) == caller.account();
    if same_account {
        // Spec §5.4: how the resource policy named the caller decides which implicit denies
        // still apply.
        let direct_ok = has(GrantClass::Wildcard)
            || rp_hits.iter().any(|h| {
                h.class == Some(GrantClass::Direct)
                    && (!caller.is_session()
                        || !m.sem.session_policy_limits_session_arn_grant
                        || sp_ok)
            });
        // The identity side alone is enough unless the resource policy must grant.
        let id_path =
            id_ok && pb_ok && sp_ok && (trust != TrustRule::MustGrant || !rp_hits.is_empty());
        if direct_ok || (has(GrantClass::ViaRole) && pb_ok && sp_ok) || id_path {
            return (Outcome::Allow, grants, None);
        }
        let layer = if trust == TrustRule::MustGrant && rp_hits.is_empty() {
            Layer::ResourcePolicy
        } else if has(GrantClass::ViaRole) && !pb_ok {
            Layer::Boundary
        } else if !id_ok {
            Layer::Identity
        } else if !pb_ok {
            Layer::Boundary
        } else {
            Layer::Session
        };
        (Outcome::ImplicitDeny, Vec::new(), Some(layer))
    } else {
        // INVARIANT: cross-account access needs both sides: a resource-policy grant of any
        // class, and the caller's own identity, boundary and session policies (spec §5.5).
        let layer = if rp_hits.is_empty() {
            Some(Layer::CrossAccount)
        } else if !id_ok {
            Some(Layer::Identity)
        } else if !pb_ok {
            Some(Layer::Boundary)
        } else if !sp_ok {
            Some(Layer::Session)
        } else {
            None
        };
        match layer {
            None => (Outcome::Allow, grants, None),
            Some(l) => (Outcome::ImplicitDeny, Vec::new(), Some(l)),
        }
    }
}
