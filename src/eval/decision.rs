//! What an evaluation returns.
//!
//! # Codes
//!
//! The errors of an evaluation ([`Decision::errors`]). Each made its statement fail closed (an
//! Allow whose condition cannot be evaluated does not match; a Deny does), or, for `IAM204`, the
//! request is denied.
//!
//! | Code | Meaning |
//! | --- | --- |
//! | `IAM201` | A request value that is not valid for the condition's operator (a number, a date, an IP address, base64 data, a boolean, an ARN). |
//! | `IAM202` | A negated operator without `ForAllValues:`/`ForAnyValue:` on a multi-valued request value. |
//! | `IAM203` | A policy value that does not fit its operator. |
//! | `IAM204` | An action that needs a resource of each of several types, on a request that lacks one. |

use serde::Serialize;
use std::fmt;
use std::sync::Arc;

use crate::ast::PolicyType;
use crate::diag::Code;

/// An evaluation error, with its code; the message says which policy and condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvalError {
    /// `IAM2xx`.
    pub code: Code,
    /// What went wrong.
    pub message: String,
}

impl EvalError {
    /// An error of `code`.
    pub fn new(code: Code, message: impl Into<String>) -> EvalError {
        EvalError {
            code,
            message: message.into(),
        }
    }
}

/// The message alone, as the decision's text forms show it.
impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// The three outcomes of IAM evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Outcome {
    /// Allowed.
    Allow,
    /// An applicable Deny statement matched.
    ExplicitDeny,
    /// No explicit deny, but some layer withheld the Allow.
    ImplicitDeny,
}

impl Outcome {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "Allow",
            Outcome::ExplicitDeny => "ExplicitDeny",
            Outcome::ImplicitDeny => "ImplicitDeny",
        }
    }

    /// How restrictive: an explicit deny beats an implicit deny beats an allow.
    fn rank(self) -> u8 {
        match self {
            Outcome::Allow => 0,
            Outcome::ImplicitDeny => 1,
            Outcome::ExplicitDeny => 2,
        }
    }

    /// The more restrictive of two outcomes.
    pub fn most_restrictive(self, other: Outcome) -> Outcome {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The layer of the decision flow (spec §5.3) that withheld an Allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// No identity-based policy allows (and no resource policy grants on its own).
    Identity,
    /// The permissions boundary does not allow.
    Boundary,
    /// The session policy does not allow (or a federated session has none).
    Session,
    /// A level of the caller's SCPs does not allow.
    Scp,
    /// A level of the resource account's RCPs does not allow.
    Rcp,
    /// The resource policy does not grant (anonymous callers, service principals).
    ResourcePolicy,
    /// Cross-account: the resource policy does not grant the caller's account.
    CrossAccount,
    /// The request itself cannot be authorized (a required resource is missing).
    Request,
}

impl Layer {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
            Layer::Session => "session",
            Layer::Scp => "scp",
            Layer::Rcp => "rcp",
            Layer::ResourcePolicy => "resource-policy",
            Layer::CrossAccount => "cross-account",
            Layer::Request => "request",
        }
    }

    /// A sentence in AWS's style for messages.
    pub fn reason(self) -> &'static str {
        match self {
            Layer::Identity => "no identity-based policy allows the action",
            Layer::Boundary => "the permissions boundary does not allow the action",
            Layer::Session => "the session policy does not allow the action",
            Layer::Scp => "a service control policy does not allow the action",
            Layer::Rcp => "a resource control policy does not allow the action",
            Layer::ResourcePolicy => "no resource-based policy allows the action",
            Layer::CrossAccount => {
                "cross-account access needs a resource-based policy that allows the caller"
            }
            Layer::Request => "the request lacks a resource the action requires",
        }
    }
}

/// One statement that determined a decision.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StatementRef {
    /// The policy's id.
    pub policy_id: Arc<str>,
    /// The policy's type.
    pub policy_type: PolicyType,
    /// Index of the statement in its policy (0-based).
    pub statement: usize,
    /// The statement's Sid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<Arc<str>>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} policy `{}` statement {}",
            self.policy_type, self.policy_id, self.statement
        )?;
        if let Some(s) = &self.sid {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

/// A decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The outcome.
    pub decision: Outcome,
    /// The statements that determined it. On an explicit deny, every matching Deny statement
    /// (and only those, as AWS's simulator lists them). On an allow, the first matching Allow
    /// statement of the identity-based policies (in policy and statement order; a layer allows
    /// as soon as one statement does, so evaluation stops there) and every matching Allow
    /// statement of the resource-based policy. On an implicit deny, none.
    pub determining: Vec<StatementRef>,
    /// On an implicit deny, the layer that withheld the Allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<Layer>,
    /// Context keys that conditions and policy variables referred to but the request did not
    /// have (lower-cased, sorted): those of the statements whose action, resource and principal
    /// matched (for a variable in `Resource`: whose action matched and whose literal prefix the
    /// resource starts with), among the statements evaluated before the decision was settled.
    pub missing_keys: Vec<String>,
    /// Evaluation errors, each with its code; each made its statement fail closed. In JSON
    /// `{"code": "IAM201", "message": "…"}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<EvalError>,
    /// Notes on how the request was read (e.g. a wildcard-only action).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.decision == Outcome::Allow
    }
}
