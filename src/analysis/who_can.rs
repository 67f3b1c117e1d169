//! `who-can`: every principal of the store that is allowed an action on a resource, directly
//! or through a chain of role assumptions, and the principals outside the store that the
//! resource's policy lets in.

use serde::Serialize;

use super::graph::{account_of, Hop, PrincipalGraph};
use super::{Analyzer, PrincipalKind};
use crate::ast::{Effect, PrincipalValue};
use crate::compile::Scratch;
use crate::eval::{reference, Outcome, StatementRef};
use crate::request::Caller;

/// A principal of the store that is allowed.
#[derive(Clone, Debug, Serialize)]
pub struct Access {
    /// Its ARN.
    pub principal: String,
    /// Its kind.
    pub kind: PrincipalKind,
    /// Empty when it is allowed itself; else the chain of role assumptions to a role that is.
    pub via: Vec<Hop>,
    /// The statements that allow the request (of the last principal of the chain).
    pub determining: Vec<StatementRef>,
}

/// A principal of the store that is denied in the analysis' context, but whose policies use
/// context keys the context does not give: it may be allowed with other values.
#[derive(Clone, Debug, Serialize)]
pub struct Conditional {
    /// Its ARN.
    pub principal: String,
    /// The keys the policies referred to and the context lacked.
    pub missing_keys: Vec<String>,
}

/// Principals the store does not hold, let in by the resource's policy.
#[derive(Clone, Debug, Serialize)]
pub struct Outside {
    /// Who: `principals of account 210987654321`, an ARN, `anyone (any AWS account)`,
    /// `anonymous`, or a service principal.
    pub who: String,
    /// What else must hold: their own account's policies must allow (cross-account), or
    /// nothing.
    pub requires: &'static str,
    /// The resource-side statements that let them in.
    pub statements: Vec<StatementRef>,
}

/// The answer to `who-can`.
#[derive(Clone, Debug, Serialize)]
pub struct WhoCan {
    /// The action asked about.
    pub action: String,
    /// The resource asked about.
    pub resource: String,
    /// Principals of the store checked.
    pub principals_checked: usize,
    /// Allowed principals: directly first, then through role chains; each by ARN.
    pub allowed: Vec<Access>,
    /// Denied here, but dependent on context keys the question did not give.
    pub conditional: Vec<Conditional>,
    /// Principals outside the store that the resource side lets in.
    pub outside: Vec<Outside>,
}

/// Who can do `action` on `resource`. `graph` is the store's principal graph
/// ([`PrincipalGraph::build`]).
pub fn who_can(an: &Analyzer<'_>, graph: &PrincipalGraph, action: &str, resource: &str) -> WhoCan {
    let principals = an.principals();
    let mut scratch = Scratch::default();
    let mut allowed = Vec::new();
    let mut allowed_idx = Vec::new();
    let mut denied_missing: Vec<(usize, Vec<String>)> = Vec::new();
    let mut final_statements: Vec<Vec<StatementRef>> = vec![Vec::new(); principals.len()];
    for (i, p) in principals.iter().enumerate() {
        let Some(d) = an.decide(&mut scratch, &p.arn, action, resource) else {
            continue;
        };
        if d.decision == Outcome::Allow {
            allowed_idx.push(i);
            final_statements[i].clone_from(&d.determining);
            allowed.push(Access {
                principal: p.arn.clone(),
                kind: p.kind,
                via: Vec::new(),
                determining: d.determining,
            });
        } else if d.decision == Outcome::ImplicitDeny && !d.missing_keys.is_empty() {
            denied_missing.push((i, d.missing_keys));
        }
    }
    let mut chained: Vec<Access> = graph
        .chains_to(an, &allowed_idx)
        .into_iter()
        .filter_map(|(u, via)| {
            let last = principals
                .iter()
                .position(|p| via.last().is_some_and(|h| h.to == p.arn))?;
            Some(Access {
                principal: principals[u].arn.clone(),
                kind: principals[u].kind,
                determining: final_statements[last].clone(),
                via,
            })
        })
        .collect();
    chained.sort_by(|a, b| a.principal.cmp(&b.principal));
    let reached: std::collections::HashSet<&str> =
        chained.iter().map(|a| a.principal.as_str()).collect();
    let conditional = denied_missing
        .into_iter()
        .filter(|(i, _)| !reached.contains(principals[*i].arn.as_str()))
        .map(|(i, missing_keys)| Conditional {
            principal: principals[i].arn.clone(),
            missing_keys,
        })
        .collect();
    let outside = outside(an, &mut scratch, action, resource);
    allowed.extend(chained);
    WhoCan {
        action: action.to_string(),
        resource: resource.to_string(),
        principals_checked: principals.len(),
        allowed,
        conditional,
        outside,
    }
}

/// The principals outside the store that `resource`'s policy lets in for `action`.
fn outside(an: &Analyzer<'_>, scratch: &mut Scratch, action: &str, resource: &str) -> Vec<Outside> {
    let_in(an, scratch, action, resource, false)
}

/// The principals other than the resource account's that `resource`'s policy lets in for
/// `action` (the resource side alone: their own policies are assumed to allow), by the
/// principal values of its Allow statements: anyone, anonymous callers, services, and other
/// accounts or their principals; with `store_accounts`, also accounts the store holds.
pub(crate) fn let_in(
    an: &Analyzer<'_>,
    scratch: &mut Scratch,
    action: &str,
    resource: &str,
    store_accounts: bool,
) -> Vec<Outside> {
    let store = an.authorizer().store();
    let Some(doc) = store.resource(resource).and_then(|r| r.policy.clone()) else {
        return Vec::new();
    };
    let own_account = account_of_arn(resource);
    // (who, caller, decided through the engine as is, requires)
    let mut asks: Vec<(String, Caller, bool, &'static str)> = Vec::new();
    const THEIR_POLICIES: &str = "their own account's policies must allow it too";
    for stmt in &doc.policy.statements {
        if stmt.effect != Effect::Allow {
            continue;
        }
        let Some(p) = &stmt.principal else { continue };
        if p.negated {
            continue;
        }
        for v in &p.values {
            match v {
                PrincipalValue::Anyone => {
                    if let Ok(c) = Caller::parse("arn:aws:iam::000000000000:user/iamc-anyone") {
                        asks.push(("anyone (any AWS account)".into(), c, false, THEIR_POLICIES));
                    }
                    asks.push(("anonymous".into(), Caller::Anonymous, true, "nothing else"));
                }
                PrincipalValue::Service(s) => {
                    if let Ok(c) = Caller::parse(s) {
                        asks.push((format!("service {s}"), c, true, "nothing else"));
                    }
                }
                PrincipalValue::Aws(s) => {
                    let Some(account) = account_of(s) else {
                        continue;
                    };
                    if (!store_accounts && store.account(account).is_some())
                        || Some(account) == own_account
                    {
                        continue;
                    }
                    let (who, arn) = if s.len() == 12 || s.ends_with(":root") {
                        (
                            format!("principals of account {account}"),
                            format!("arn:aws:iam::{account}:user/iamc-any-principal"),
                        )
                    } else {
                        (s.clone(), s.clone())
                    };
                    if let Ok(c) = Caller::parse(&arn) {
                        asks.push((who, c, false, THEIR_POLICIES));
                    }
                }
                _ => {}
            }
        }
    }
    let everything = super::diff::allow_all();
    let mut out: Vec<Outside> = Vec::new();
    for (who, caller, as_is, requires) in asks {
        if out.iter().any(|o| o.who == who) {
            continue;
        }
        let req = an.auth_request(caller, action, resource);
        let d = if as_is {
            an.authorizer().authorize_with(scratch, &req)
        } else {
            let mut inputs = store.inputs_for(&req);
            inputs.identity = everything.clone();
            inputs.boundary = None;
            inputs.session = None;
            inputs.scps.clear();
            reference::evaluate(&inputs, &req, an.authorizer().semantics())
        };
        if d.decision == Outcome::Allow {
            out.push(Outside {
                who,
                requires,
                statements: d
                    .determining
                    .into_iter()
                    .filter(|s| s.policy_type.has_principal())
                    .collect(),
            });
        }
    }
    out
}

/// The account field of an ARN.
fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}
