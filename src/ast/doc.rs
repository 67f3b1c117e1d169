//! Policies as the decision path takes them: a parsed policy with its name and type
//! ([`PolicyDoc`]), and the policies that apply to one request ([`Inputs`], spec §5.1), as the
//! caller of an evaluator gathers them (from a store, from the command line, from a
//! conformance case).

use std::sync::Arc;

use super::{Policy, PolicyType};

/// A policy with its name and type, as evaluation sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDoc {
    /// A name for output: a file name, a store id, or an ARN.
    pub id: Arc<str>,
    /// The policy type.
    pub ty: PolicyType,
    /// The policy.
    pub policy: Policy,
}

impl PolicyDoc {
    /// Wraps a policy.
    pub fn new(id: impl Into<Arc<str>>, ty: PolicyType, policy: Policy) -> Arc<PolicyDoc> {
        Arc::new(PolicyDoc {
            id: id.into(),
            ty,
            policy,
        })
    }
}

/// Policies of the caller's side and of each requested resource.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Identity-based policies of the caller (for a role session: its role's; for a user: its
    /// own and its groups').
    pub identity: Vec<Arc<PolicyDoc>>,
    /// The permissions boundary of the user or role.
    pub boundary: Option<Arc<PolicyDoc>>,
    /// The session policy of a session.
    pub session: Option<Arc<PolicyDoc>>,
    /// SCP levels of the caller's account, root first; each level is one or more policies.
    /// Empty when the account is in no organization (or is its management account).
    pub scps: Vec<Vec<Arc<PolicyDoc>>>,
    /// One entry per requested resource that has a resource policy or RCPs. A requested
    /// resource with no entry has neither.
    pub resources: Vec<ResourceSide>,
}

/// The policies on the resource's side.
#[derive(Clone, Debug, Default)]
pub struct ResourceSide {
    /// The resource ARN this side belongs to.
    pub arn: String,
    /// The resource-based policy (stream or consumer policy).
    pub policy: Option<Arc<PolicyDoc>>,
    /// RCP levels of the resource's account, root first.
    pub rcps: Vec<Vec<Arc<PolicyDoc>>>,
}

impl Inputs {
    /// The side of `arn`, if any.
    pub fn side(&self, arn: &str) -> Option<&ResourceSide> {
        self.resources.iter().find(|s| s.arn == arn)
    }
}
