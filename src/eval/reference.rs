//! The reference evaluator: spec §5, rule by rule, over the AST. No index, no caching; every
//! statement of every applicable policy is looked at. The compiled engine must agree with it on
//! every input.

use std::sync::Arc;

use super::condition;
use super::decision::{Decision, Layer, Outcome, PolicyDoc, StatementRef};
use super::inputs::{Inputs, ResourceSide};
use super::matching::{action_matches, principal_matches, resource_matches, GrantClass};
use crate::ast::{Effect, Statement};
use crate::catalog::{self, ResourceRequirement, ResourceType};
use crate::request::{Caller, Request};
use crate::semantics::Semantics;

/// How one statement fared against the request.
#[derive(Clone, Debug)]
struct Hit {
    stmt: StatementRef,
    class: Option<GrantClass>,
}

/// Evaluation state for one request: what matched, what was missing, what failed.
struct Eval<'a> {
    req: &'a Request,
    sem: &'a Semantics,
    missing: Vec<String>,
    errors: Vec<String>,
}

/// Decides `req` against `inputs` (spec §5.3–§5.6).
pub fn evaluate(inputs: &Inputs, req: &Request, sem: &Semantics) -> Decision {
    let mut ev = Eval {
        req,
        sem,
        missing: Vec::new(),
        errors: Vec::new(),
    };
    let mut notes = Vec::new();
    let info = catalog::lookup(&req.action);
    let action_lc = req.action.to_ascii_lowercase();
    let wildcard_only = info.is_some_and(|i| i.resources == ResourceRequirement::WildcardOnly)
        && !sem.resource_scoped_actions.contains(&action_lc);

    // The (resource for Allow statements, extra resource for Deny statements) pairs to decide.
    let mut targets: Vec<(String, Option<String>)> = Vec::new();
    if wildcard_only {
        // Spec §2.2 rule 7: the action is authorized against `*`. A resource the request names
        // is still checked by Deny statements (the safe reading, see `Semantics`).
        let named = req.resources().find(|r| *r != "*").map(str::to_string);
        if let Some(n) = &named {
            notes.push(format!(
                "{} is a wildcard-only action: Allow statements are matched against `*`; \
                 Deny statements also against {n}",
                req.action
            ));
        }
        targets.push(("*".to_string(), named));
    } else {
        targets.extend(req.resources().map(|r| (r.to_string(), None)));
    }

    // Multi-resource actions need every resource type (spec §2.2 rule 9).
    if let Some(ResourceRequirement::AllOf(types)) = info.map(|i| i.resources) {
        if !req.resources().any(|r| r == "*") {
            let have: Vec<Option<ResourceType>> = req.resources().map(ResourceType::of_arn).collect();
            let lacking: Vec<&str> = types
                .iter()
                .filter(|t| !have.contains(&Some(**t)))
                .map(|t| t.as_str())
                .collect();
            if !lacking.is_empty() {
                ev.errors.push(format!(
                    "{} needs a resource of each type {}; the request lacks: {}",
                    req.action,
                    types.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
                    lacking.join(", ")
                ));
                // Still look for explicit denies, so an explicit deny is reported as such.
                let mut decision = combine(
                    targets
                        .iter()
                        .map(|(r, d)| ev.decide_one(inputs, r, d.as_deref()))
                        .collect(),
                );
                if decision.0 != Outcome::ExplicitDeny {
                    decision = (Outcome::ImplicitDeny, Vec::new(), Some(Layer::Request));
                }
                return ev.finish(decision, notes);
            }
        }
    }

    let parts = targets
        .iter()
        .map(|(r, d)| ev.decide_one(inputs, r, d.as_deref()))
        .collect();
    let decision = combine(parts);
    ev.finish(decision, notes)
}

type Part = (Outcome, Vec<StatementRef>, Option<Layer>);

/// The most restrictive of the per-resource decisions (spec §5.7 ResourceSpecificResults).
fn combine(parts: Vec<Part>) -> Part {
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

impl Eval<'_> {
    fn finish(mut self, (decision, determining, blocked_by): Part, notes: Vec<String>) -> Decision {
        self.missing.sort();
        self.missing.dedup();
        Decision {
            decision,
            determining,
            blocked_by,
            missing_keys: self.missing,
            errors: self.errors,
            notes,
        }
    }

    /// Matches every statement of `doc` that applies; returns the ones that match.
    fn matches(
        &mut self,
        doc: &Arc<PolicyDoc>,
        resource: &str,
        deny_resource: Option<&str>,
        only: Option<Effect>,
    ) -> Vec<Hit> {
        let mut hits = Vec::new();
        for (i, stmt) in doc.policy.statements.iter().enumerate() {
            if only.is_some_and(|e| e != stmt.effect) {
                continue;
            }
            let resources: &[&str] = match (stmt.effect, deny_resource) {
                (Effect::Deny, Some(extra)) => &[resource, extra],
                _ => &[resource],
            };
            for r in resources {
                if let Some(class) = self.statement_matches(doc, stmt, r) {
                    hits.push(Hit {
                        stmt: StatementRef {
                            policy_id: doc.id.clone(),
                            policy_type: doc.ty,
                            statement: i,
                            sid: stmt.sid.clone(),
                        },
                        class,
                    });
                    break;
                }
            }
        }
        hits
    }

    /// Whether one statement matches (spec §5.8 step 1). `Some(class)` when it does; the class
    /// is the principal match of a resource-policy statement.
    fn statement_matches(
        &mut self,
        doc: &PolicyDoc,
        stmt: &Statement,
        resource: &str,
    ) -> Option<Option<GrantClass>> {
        let req = self.req;
        if !action_matches(&stmt.action, &req.action) {
            return None;
        }
        if !resource_matches(stmt.resource.as_ref(), resource, &req.context, &mut self.missing) {
            return None;
        }
        let class = if doc.ty.has_principal() {
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
        let mut all_true = true;
        for c in &stmt.conditions {
            match condition::evaluate(c, &req.context, &mut self.missing) {
                Ok(true) => {}
                Ok(false) => {
                    all_true = false;
                    break;
                }
                Err(e) => error = Some(format!("{} ({}): {e}", doc.id, c.loc)),
            }
        }
        if !all_true {
            return None;
        }
        if let Some(e) = error {
            self.errors.push(e);
            // INVARIANT: fail closed: an Allow whose condition cannot be evaluated does not
            // match; a Deny does.
            if stmt.effect == Effect::Allow {
                return None;
            }
        }
        Some(class)
    }

    /// Whether some statement of the policies allows.
    fn any_allow(&mut self, docs: &[Arc<PolicyDoc>], resource: &str) -> (bool, Vec<StatementRef>) {
        let mut refs = Vec::new();
        for d in docs {
            refs.extend(
                self.matches(d, resource, None, Some(Effect::Allow))
                    .into_iter()
                    .map(|h| h.stmt),
            );
        }
        (!refs.is_empty(), refs)
    }

    /// Decides one (action, resource) pair.
    fn decide_one(&mut self, inputs: &Inputs, resource: &str, deny_resource: Option<&str>) -> Part {
        let req = self.req;
        let caller = &req.caller;
        let empty = ResourceSide::default();
        let side = inputs.side(resource).unwrap_or(&empty);
        // Anonymous callers and service principals have no identity-side policies (spec §5.6).
        let iam_caller = !matches!(caller, Caller::Anonymous | Caller::Service { .. });
        let is_root = matches!(caller, Caller::Root { .. });

        let mut caller_docs: Vec<&Arc<PolicyDoc>> = Vec::new();
        if iam_caller {
            caller_docs.extend(inputs.identity.iter());
            if !is_root {
                caller_docs.extend(inputs.boundary.iter());
                if caller.is_session() {
                    caller_docs.extend(inputs.session.iter());
                }
            }
            caller_docs.extend(inputs.scps.iter().flatten());
        }
        let mut resource_docs: Vec<&Arc<PolicyDoc>> = side.policy.iter().collect();
        resource_docs.extend(side.rcps.iter().flatten());

        // 1. Explicit deny anywhere (spec §5.3 step 1).
        // INVARIANT: an explicit Deny in any applicable policy beats every Allow.
        let mut denies = Vec::new();
        for d in caller_docs.iter().chain(resource_docs.iter()) {
            denies.extend(
                self.matches(d, resource, deny_resource, Some(Effect::Deny))
                    .into_iter()
                    .map(|h| h.stmt),
            );
        }
        if !denies.is_empty() {
            return (Outcome::ExplicitDeny, denies, None);
        }

        // 2. RCPs of the resource's account: every level must allow (spec §5.3 step 2).
        for level in &side.rcps {
            if !self.any_allow(level, resource).0 {
                return (Outcome::ImplicitDeny, Vec::new(), Some(Layer::Rcp));
            }
        }

        // Resource-policy grants, with the strongest class each.
        let rp_hits: Vec<Hit> = match &side.policy {
            Some(p) => self.matches(p, resource, None, Some(Effect::Allow)),
            None => Vec::new(),
        };
        let rp_refs: Vec<StatementRef> = rp_hits.iter().map(|h| h.stmt.clone()).collect();
        let has = |c: GrantClass| rp_hits.iter().any(|h| h.class == Some(c));

        if !iam_caller {
            // Anonymous: only a wildcard grant; a service: a grant naming it (spec §5.6).
            let ok = has(GrantClass::Wildcard)
                || (matches!(caller, Caller::Service { .. }) && has(GrantClass::Direct));
            return if ok {
                (Outcome::Allow, rp_refs, None)
            } else {
                (Outcome::ImplicitDeny, Vec::new(), Some(Layer::ResourcePolicy))
            };
        }

        // 3. SCPs of the caller's account: every level must allow (spec §5.3 step 3).
        for level in &inputs.scps {
            if !self.any_allow(level, resource).0 {
                return (Outcome::ImplicitDeny, Vec::new(), Some(Layer::Scp));
            }
        }

        // Identity side (spec §5.3 steps 5-7). The root user is allowed everything in its
        // account's IAM (spec §5.3): no boundary or session policy can apply to it.
        let (id_ok, id_refs) = if is_root {
            (true, Vec::new())
        } else {
            self.any_allow(&inputs.identity, resource)
        };
        let pb_ok = is_root
            || match &inputs.boundary {
                Some(b) => self.any_allow(std::slice::from_ref(b), resource).0,
                None => true,
            };
        let sp_ok = if caller.is_session() {
            match &inputs.session {
                Some(s) => self.any_allow(std::slice::from_ref(s), resource).0,
                // A role session without a session policy keeps its role's permissions; a
                // GetFederationToken session without one has none (spec §5.3 step 7).
                None => matches!(caller, Caller::RoleSession { .. }),
            }
        } else {
            true
        };

        let mut grants = id_refs.clone();
        grants.extend(rp_refs.iter().cloned());
        let same_account = req.resource_account(resource) == caller.account();
        if same_account {
            // Spec §5.4: how the resource policy named the caller decides which implicit
            // denies still apply.
            let direct_ok = has(GrantClass::Wildcard)
                || rp_hits.iter().any(|h| {
                    h.class == Some(GrantClass::Direct)
                        && (!caller.is_session()
                            || !self.sem.session_policy_limits_session_arn_grant
                            || sp_ok)
                });
            if direct_ok {
                return (Outcome::Allow, grants, None);
            }
            if has(GrantClass::ViaRole) && pb_ok && sp_ok {
                return (Outcome::Allow, grants, None);
            }
            if id_ok && pb_ok && sp_ok {
                return (Outcome::Allow, grants, None);
            }
            let layer = if has(GrantClass::ViaRole) && !pb_ok {
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
}
