//! `check-access`: checks over a store or a policy, for CI gates (IAM Access Analyzer's
//! CheckAccessNotGranted and CheckNoPublicAccess, and its external-access findings).
//!
//! - [`external`]: for every resource of the store with a policy, the principals outside its
//!   account that the policy lets in (the resource side alone decides: their own policies are
//!   assumed to allow), per action; `public` findings are those open to anyone or anonymous.
//! - [`not_granted_store`]: whether any principal of the store (or outside it) is allowed one
//!   of the actions on the resources.
//! - [`not_granted_policy`]: whether a policy alone allows one of the actions, with a witness
//!   request, or `unknown` when a statement could grant it but no witness was found.

use std::sync::Arc;

use serde::Serialize;

use super::graph::{PrincipalGraph, ASSUME_ROLE};
use super::who_can::{let_in, who_can, Outside};
use super::Analyzer;
use crate::ast::{Effect, PolicyDoc, PolicyType};
use crate::catalog::{self, ResourceRequirement, ResourceType};
use crate::compile::Scratch;
use crate::eval::flow::is_role_arn;
use crate::semantics::Semantics;

/// Principals outside a resource's account that its policy lets in.
#[derive(Clone, Debug, Serialize)]
pub struct ExternalAccess {
    /// The resource.
    pub resource: String,
    /// Who is let in.
    pub who: String,
    /// Whether it is open to anyone (any account, or anonymous callers).
    pub public: bool,
    /// What else must hold.
    pub requires: &'static str,
    /// The actions it is let in for.
    pub actions: Vec<String>,
    /// The statements that let it in.
    pub statements: Vec<String>,
}

/// The actions that can apply to `arn`: the catalog's actions that take its resource type, and
/// `sts:AssumeRole` on a role.
pub fn actions_on(arn: &str) -> Vec<String> {
    if is_role_arn(arn) {
        return vec![ASSUME_ROLE.to_string()];
    }
    let ty = ResourceType::of_arn(arn);
    catalog::actions()
        .iter()
        .filter(|a| match a.resources {
            ResourceRequirement::WildcardOnly => false,
            ResourceRequirement::OneOf(t) | ResourceRequirement::AllOf(t) => {
                ty.is_some_and(|ty| t.contains(&ty))
            }
        })
        .map(|a| a.full_name())
        .collect()
}

/// Every resource of the store opened by its policy to principals of other accounts or to
/// anyone.
pub fn external(an: &Analyzer<'_>) -> Vec<ExternalAccess> {
    let store = an.authorizer().store();
    let mut scratch = Scratch::default();
    let mut out: Vec<ExternalAccess> = Vec::new();
    for r in store.resources() {
        if r.policy.is_none() {
            continue;
        }
        for action in actions_on(&r.arn) {
            for o in let_in(an, &mut scratch, &action, &r.arn, true) {
                merge(&mut out, &r.arn, o, &action);
            }
        }
    }
    out
}

fn merge(out: &mut Vec<ExternalAccess>, resource: &str, o: Outside, action: &str) {
    let statements: Vec<String> = o.statements.iter().map(|s| s.to_string()).collect();
    if let Some(e) = out
        .iter_mut()
        .find(|e| e.resource == resource && e.who == o.who)
    {
        e.actions.push(action.to_string());
        for s in statements {
            if !e.statements.contains(&s) {
                e.statements.push(s);
            }
        }
        return;
    }
    out.push(ExternalAccess {
        resource: resource.to_string(),
        public: o.who.starts_with("anyone") || o.who == "anonymous",
        who: o.who,
        requires: o.requires,
        actions: vec![action.to_string()],
        statements,
    });
}

/// One grant of an action that should not be granted.
#[derive(Clone, Debug, Serialize)]
pub struct Granted {
    /// Who: a principal ARN (with ` via ROLE…` for a chain), or a symbolic principal.
    pub who: String,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
}

/// Whether any principal can do one of `actions` on `resources` (every resource of the store
/// that the action takes when empty).
pub fn not_granted_store(
    an: &Analyzer<'_>,
    graph: &PrincipalGraph,
    actions: &[String],
    resources: &[String],
) -> Vec<Granted> {
    let store = an.authorizer().store();
    let mut out = Vec::new();
    for action in actions {
        let targets: Vec<String> = if !resources.is_empty() {
            resources.to_vec()
        } else if catalog::lookup(action)
            .is_some_and(|i| i.resources == ResourceRequirement::WildcardOnly)
        {
            vec!["*".to_string()]
        } else {
            store
                .resources()
                .filter(|r| {
                    actions_on(&r.arn)
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(action))
                })
                .map(|r| r.arn.clone())
                .collect()
        };
        for resource in targets {
            let w = who_can(an, graph, action, &resource);
            for a in w.allowed {
                let who = match a.via.last() {
                    None => a.principal,
                    Some(_) => format!(
                        "{} via {}",
                        a.principal,
                        a.via
                            .iter()
                            .map(|h| h.to.as_str())
                            .collect::<Vec<_>>()
                            .join(" -> ")
                    ),
                };
                out.push(Granted {
                    who,
                    action: action.clone(),
                    resource: resource.clone(),
                });
            }
            for o in w.outside {
                out.push(Granted {
                    who: o.who,
                    action: action.clone(),
                    resource: resource.clone(),
                });
            }
        }
    }
    out
}

/// The verdict of [`not_granted_policy`].
#[derive(Clone, Debug, Serialize)]
pub struct PolicyGrants {
    /// Requests the policy allows for one of the actions (witnesses).
    pub granted: Vec<super::diff::Witness>,
    /// Statements that could grant one of the actions, but for which no witness was found
    /// (the answer is then unknown, not "not granted").
    pub unproved: Vec<String>,
}

/// Whether `doc` (read as type `ty`) allows one of `actions` (on `resource`, when given).
pub fn not_granted_policy(
    doc: &Arc<PolicyDoc>,
    ty: PolicyType,
    actions: &[String],
    resource: Option<&str>,
    sem: &Semantics,
) -> PolicyGrants {
    use super::diff::{
        decide, principal_witness, request, resource_witnesses, witness_of, Constants, Witness,
    };
    let constants = Constants::of(&[doc]);
    let callers: Vec<String> = if ty.has_principal() {
        doc.policy
            .statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| p.values.iter())
            .filter_map(principal_witness)
            .collect()
    } else {
        vec![super::diff::DIFF_CALLER.to_string()]
    };
    let mut granted: Vec<Witness> = Vec::new();
    let mut unproved = Vec::new();
    for (i, s) in doc.policy.statements.iter().enumerate() {
        if s.effect != Effect::Allow {
            continue;
        }
        let named: Vec<&String> = actions
            .iter()
            .filter(|a| s.action.negated != s.action.patterns.iter().any(|p| p.matches(a)))
            .collect();
        if named.is_empty() {
            continue;
        }
        let resources = match resource {
            Some(r) => {
                // A statement whose Resource (without policy variables) cannot match `r`
                // cannot grant it.
                let plain = s
                    .resource
                    .as_ref()
                    .is_some_and(|el| el.patterns.iter().all(|p| !p.raw.contains("${")));
                let mut missing = Vec::new();
                if plain
                    && !crate::eval::matching::resource_matches(
                        s.resource.as_ref(),
                        ty,
                        s.effect,
                        r,
                        &crate::request::Context::new(),
                        &mut missing,
                    )
                {
                    continue;
                }
                vec![r.to_string()]
            }
            None => resource_witnesses(s.resource.as_ref()),
        };
        let contexts = constants.contexts(&s.conditions);
        let mut found = false;
        'search: for caller in &callers {
            for a in &named {
                for r in &resources {
                    for ctx in &contexts {
                        let Some(req) = request(caller, a, r, ctx) else {
                            continue;
                        };
                        let d = decide(doc, ty, &req, sem);
                        if d.decision == crate::eval::Outcome::Allow {
                            granted.push(witness_of(caller, a, r, ctx, &d, doc));
                            found = true;
                            break 'search;
                        }
                    }
                }
            }
        }
        if !found {
            let sid = s
                .sid
                .as_ref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            unproved.push(format!(
                "statement {i}{sid} names {} but no request it allows was found",
                named
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    PolicyGrants { granted, unproved }
}
