//! `--explain`: for every statement of the policies that apply, whether its action, resource,
//! principal and each condition matched, and why not.

use serde::Serialize;

use super::condition;
use super::matching::{action_matches, principal_matches, resource_matches};
use crate::ast::{Inputs, PolicyDoc, PolicyType};
use crate::request::{Caller, Request};
use crate::semantics::Semantics;

/// One condition's result.
#[derive(Clone, Debug, Serialize)]
pub struct ConditionTrace {
    /// The operator as written.
    pub operator: String,
    /// The key as written.
    pub key: String,
    /// The policy values as written.
    pub values: Vec<String>,
    /// What the request had for the key (`null` when absent).
    pub request_value: Option<serde_json::Value>,
    /// `true`, `false`, or `error: …`.
    pub result: String,
}

/// One statement's results.
#[derive(Clone, Debug, Serialize)]
pub struct StatementTrace {
    /// The policy id.
    pub policy_id: std::sync::Arc<str>,
    /// The policy type.
    pub policy_type: PolicyType,
    /// Statement index.
    pub statement: usize,
    /// Sid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<std::sync::Arc<str>>,
    /// Effect.
    pub effect: &'static str,
    /// The resource the statement was matched against.
    pub resource: String,
    /// Whether Action/NotAction matched.
    pub action_matched: bool,
    /// Whether Resource/NotResource matched.
    pub resource_matched: bool,
    /// Whether Principal/NotPrincipal matched (`null` for policy types without principals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_matched: Option<bool>,
    /// Each condition.
    pub conditions: Vec<ConditionTrace>,
    /// Whether the whole statement matched.
    pub matched: bool,
}

/// Traces every statement of every policy that applies to `req`, against each requested
/// resource. Independent of the decision: every element is evaluated, even after one failed.
pub fn explain(inputs: &Inputs, req: &Request, sem: &Semantics) -> Vec<StatementTrace> {
    let mut out = Vec::new();
    let iam_caller = !matches!(req.caller, Caller::Anonymous | Caller::Service { .. });
    let resources: Vec<String> = match crate::catalog::lookup(&req.action) {
        Some(i)
            if i.resources == crate::catalog::ResourceRequirement::WildcardOnly
                && !sem
                    .resource_scoped_actions
                    .contains(&req.action.to_ascii_lowercase()) =>
        {
            vec!["*".to_string()]
        }
        _ => req.resources().map(str::to_string).collect(),
    };
    for resource in &resources {
        let mut docs: Vec<&std::sync::Arc<PolicyDoc>> = Vec::new();
        if iam_caller {
            docs.extend(inputs.identity.iter());
            docs.extend(inputs.boundary.iter());
            if req.caller.is_session() {
                docs.extend(inputs.session.iter());
            }
            docs.extend(inputs.scps.iter().flatten());
        }
        if let Some(side) = inputs.side(resource) {
            docs.extend(side.policy.iter());
            docs.extend(side.rcps.iter().flatten());
        }
        for doc in docs {
            for (i, stmt) in doc.policy.statements.iter().enumerate() {
                let mut scratch = Vec::new();
                let action_matched = action_matches(&stmt.action, &req.action.to_lowercase());
                let resource_matched = resource_matches(
                    stmt.resource.as_ref(),
                    doc.ty,
                    stmt.effect,
                    resource,
                    &req.context,
                    &mut scratch,
                );
                let principal_matched = doc.ty.has_principal().then(|| {
                    principal_matches(stmt.principal.as_ref(), stmt.effect, &req.caller, sem)
                        .is_some()
                });
                let mut conditions = Vec::new();
                let mut cond_ok = true;
                for c in &stmt.conditions {
                    let r = condition::evaluate(c, stmt.effect, &req.context, &mut scratch);
                    let result = match &r {
                        Ok(b) => b.to_string(),
                        Err(e) => format!("error: {e}"),
                    };
                    cond_ok &= match r {
                        Ok(b) => b,
                        Err(_) => stmt.effect == crate::ast::Effect::Deny,
                    };
                    conditions.push(ConditionTrace {
                        operator: c.operator.name(),
                        key: c.key.clone(),
                        values: c.values.iter().map(|v| v.raw.clone()).collect(),
                        request_value: req.context.get_lc(&c.key_lc).map(|v| v.to_json()),
                        result,
                    });
                }
                let matched = action_matched
                    && resource_matched
                    && principal_matched.unwrap_or(true)
                    && cond_ok;
                out.push(StatementTrace {
                    policy_id: doc.id.clone(),
                    policy_type: doc.ty,
                    statement: i,
                    sid: stmt.sid.clone(),
                    effect: stmt.effect.as_str(),
                    resource: resource.clone(),
                    action_matched,
                    resource_matched,
                    principal_matched,
                    conditions,
                    matched,
                });
            }
        }
    }
    out
}
