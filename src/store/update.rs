//! Changing a store after it is loaded: a resource's policy and tags, a session (as the gateway
//! does from its database and credentials). The store's parts are shared behind `Arc`s; each
//! setter copies only the part it changes (copy on write).

use std::sync::Arc;

use super::{session_key, Resource, Session, Store, Tags};
use crate::arn::ArnPattern;
use crate::ast::{PolicyDoc, PolicyType};
use crate::diag::Code;
use crate::request::{Caller, CallerError};

/// Why [`Store::set_session`] refused an ARN.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Not a principal ARN.
    #[error(transparent)]
    Caller(#[from] CallerError),
    /// A principal, but not an assumed-role session or a federated user (the ARN as given).
    #[error(
        "`{0}` is not a session ARN (expected arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION \
         or …:federated-user/NAME)"
    )]
    NotASession(String),
}

impl SessionError {
    /// The diagnostic code of every session error (an invalid session ARN).
    pub const CODE: Code = Code::InvalidStoreArn;
}

impl Store {
    /// Sets (or, with `None`, removes) the resource-based policy of `arn`, creating the
    /// resource entry when there is none. The caller validates the policy first (the store's
    /// loader does for file stores; [`crate::gateway`] does for policies set over its API).
    pub fn set_resource_policy(
        &mut self,
        arn: &str,
        ty: PolicyType,
        policy: Option<Arc<PolicyDoc>>,
    ) {
        let entry = self.resource_entry(arn, ty);
        entry.ty = ty;
        let old = std::mem::replace(&mut entry.policy, policy.clone());
        // `all` lists the policies the store holds: the replaced one leaves it.
        if let Some(old) = old {
            let all = Arc::make_mut(&mut self.all);
            if let Some(i) = all.iter().position(|d| Arc::ptr_eq(d, &old)) {
                all.remove(i);
                self.statements -= old.policy.statements.len();
            }
        }
        if let Some(p) = policy {
            self.statements += p.policy.statements.len();
            Arc::make_mut(&mut self.all).push(p);
        }
    }

    /// The entry of `arn`, created (with no policy and no tags) when there is none; copied
    /// first when it is shared with another store.
    fn resource_entry(&mut self, arn: &str, ty: PolicyType) -> &mut Resource {
        let entry = Arc::make_mut(&mut self.resources)
            .entry(Arc::from(arn))
            .or_insert_with(|| {
                Arc::new(Resource {
                    arn: arn.to_string(),
                    ty,
                    policy: None,
                    tags: Tags::new(),
                })
            });
        Arc::make_mut(entry)
    }

    /// Adds tags to the resource `arn` (creating its entry), overwriting those with the same key
    /// ignoring case, as tag keys are compared.
    pub fn merge_resource_tags(&mut self, arn: &str, tags: &Tags) {
        if tags.is_empty() {
            return;
        }
        let ty = if is_kinesis_arn(arn) {
            PolicyType::KinesisResource
        } else {
            PolicyType::Resource
        };
        let entry = self.resource_entry(arn, ty);
        for (k, v) in tags {
            entry.tags.retain(|old, _| !old.eq_ignore_ascii_case(k));
            entry.tags.insert(k.clone(), v.clone());
        }
    }

    /// Sets the session entry of a role-session or federated-user ARN: its session policy
    /// (`None` keeps the one the store gives, if any) and tags (merged over the store's, the
    /// new ones winning). Errors when `arn` is not a session ARN.
    pub fn set_session(
        &mut self,
        arn: &str,
        policy: Option<Arc<PolicyDoc>>,
        tags: &Tags,
    ) -> Result<(), SessionError> {
        let caller = Caller::parse(arn)?;
        let key = session_key(&caller).ok_or_else(|| SessionError::NotASession(arn.into()))?;
        if let Some(p) = &policy {
            self.statements += p.policy.statements.len();
            Arc::make_mut(&mut self.all).push(Arc::clone(p));
        }
        let entry = Arc::make_mut(&mut self.sessions)
            .entry(key)
            .or_insert_with(|| Session {
                arn: arn.to_string(),
                policy: None,
                tags: Tags::new(),
                user: None,
            });
        if policy.is_some() {
            entry.policy = policy;
        }
        for (k, v) in tags {
            entry.tags.retain(|old, _| !old.eq_ignore_ascii_case(k));
            entry.tags.insert(k.clone(), v.clone());
        }
        Ok(())
    }
}

/// Whether an ARN is a Kinesis ARN (for the default type of a resource entry).
fn is_kinesis_arn(arn: &str) -> bool {
    ArnPattern::parse(arn).service() == Some("kinesis")
}
