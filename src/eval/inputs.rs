//! The policies that apply to a request (spec §5.1), as the caller of the evaluator gathers them
//! (from a store, from the command line, from a conformance case).

use std::sync::Arc;

use super::decision::PolicyDoc;

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
