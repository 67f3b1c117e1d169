//! The front door: [`Authorizer`] owns a store and the engine compiled from it, prepares each
//! request from the store and decides it. There is no way through it to decide a request the
//! store has not completed (principal tags, resource tags, derived keys), so a Deny on
//! `aws:PrincipalTag/…` cannot be skipped by a front end that forgot a step.

use std::sync::Arc;

use crate::ast::PolicyType;
use crate::ast::{Inputs, PolicyDoc};
use crate::compile::{BuildError, Engine, EngineBuilder, EngineStats, Scratch};
use crate::eval::{Decision, Outcome};
use crate::request::Request;
use crate::semantics::Semantics;
use crate::store::{PrepareIndex, Store};

/// A store and its compiled engine: immutable, `Send + Sync`, cheap to share behind an `Arc`.
/// An update ([`Authorizer::with_resource_policy`]) builds a new one that shares every
/// unchanged compiled set with this one.
///
/// ```
/// use std::sync::Arc;
/// use iamc::{Authorizer, Outcome, Request, Semantics, Store};
/// use iamc::request::Caller;
///
/// let store = Store::from_str(
///     r#"{"version": 1,
///         "accounts": {"111122223333": {"roles": {"app": {"inline": {"read": {
///           "Version": "2012-10-17",
///           "Statement": [{"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": "*",
///             "Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}}]}},
///           "tags": {"team": "data"}}}}}}"#,
///     None,
/// )
/// .expect("a valid store");
/// let authorizer = Authorizer::new(Arc::new(store), Semantics::default()).expect("within limits");
/// // Any session of the role, whatever its name: the store adds the role's tags.
/// let caller = Caller::parse("arn:aws:sts::111122223333:assumed-role/app/i-0abc").expect("an ARN");
/// let request = Request::new(
///     caller,
///     "kinesis:GetRecords",
///     "arn:aws:kinesis:us-east-1:111122223333:stream/orders",
/// );
/// assert_eq!(authorizer.authorize(&request).decision, Outcome::Allow);
/// ```
#[derive(Clone, Debug)]
pub struct Authorizer {
    store: Arc<Store>,
    /// The store's principal and resource layers, so completing a request copies no tag.
    layers: Arc<PrepareIndex>,
    engine: Arc<Engine>,
}

impl EngineBuilder {
    /// Compiles `store` into an [`Authorizer`].
    pub fn authorizer(&self, store: Arc<Store>) -> Result<Authorizer, BuildError> {
        let engine = Arc::new(Engine::from_store(&store, self, None)?);
        let layers = Arc::new(store.prepare_index());
        Ok(Authorizer {
            store,
            layers,
            engine,
        })
    }

    /// Compiles `store` into an [`Authorizer`], reusing every compiled set of `previous`
    /// whose policies `store` still has: the same documents (a changed copy of `previous`'s
    /// store: tags merged, sessions set, a principal's policies replaced) or equal ones (the
    /// same store loaded again with some policies changed). Only the rest is compiled.
    pub fn rebuild(
        &self,
        previous: &Authorizer,
        store: Arc<Store>,
    ) -> Result<Authorizer, BuildError> {
        let engine = Arc::new(Engine::from_store(&store, self, Some(&previous.engine))?);
        let layers = Arc::new(store.prepare_index());
        Ok(Authorizer {
            store,
            layers,
            engine,
        })
    }
}

impl Authorizer {
    /// Compiles `store` with the default limits ([`EngineBuilder`] sets others).
    pub fn new(store: Arc<Store>, sem: Semantics) -> Result<Authorizer, BuildError> {
        EngineBuilder::new().semantics(sem).authorizer(store)
    }

    /// An authorizer over `store` with this one's semantics and limits, reusing every
    /// compiled set it can ([`EngineBuilder::rebuild`]).
    pub fn rebuilt(&self, store: Arc<Store>) -> Result<Authorizer, BuildError> {
        self.engine.builder().rebuild(self, store)
    }

    /// An authorizer over one fixed set of policies (ad hoc use, like
    /// `aws iam simulate-custom-policy`): requests get their derived keys and nothing else.
    pub fn from_inputs(inputs: &Inputs, sem: Semantics) -> Result<Authorizer, BuildError> {
        Ok(Authorizer {
            store: Arc::new(Store::default()),
            layers: Arc::default(),
            engine: Arc::new(Engine::from_inputs(inputs, sem)?),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The semantics the engine decides with.
    pub fn semantics(&self) -> &Semantics {
        self.engine.semantics()
    }

    /// Sizes of the compiled engine.
    pub fn stats(&self) -> EngineStats {
        self.engine.stats()
    }

    /// A deterministic text dump of every compiled set (`iamc compile --dump`).
    pub fn dump(&self) -> String {
        self.engine.dump()
    }

    /// Completes `req` from the store ([`Store::prepare`]) and decides it.
    pub fn authorize(&self, req: &Request) -> Decision {
        self.authorize_with(&mut Scratch::default(), req)
    }

    /// [`Authorizer::authorize`] with caller-owned scratch space (one per thread).
    pub fn authorize_with(&self, scratch: &mut Scratch, req: &Request) -> Decision {
        self.authorize_prepared(scratch, &self.prepare(req.clone()))
    }

    /// The outcome of [`Authorizer::authorize`] alone: evaluation stops at the first matching
    /// Deny and records nothing (no determining statements, missing keys or errors), so it
    /// costs less. For front ends that only need to let a request through or not.
    pub fn decide(&self, req: &Request) -> Outcome {
        self.decide_with(&mut Scratch::default(), req)
    }

    /// [`Authorizer::decide`] with caller-owned scratch space (one per thread).
    pub fn decide_with(&self, scratch: &mut Scratch, req: &Request) -> Outcome {
        self.engine
            .decide_with(scratch, &self.prepare(req.clone()).0)
    }

    /// The outcome of a request this authorizer's store has completed.
    pub fn decide_prepared(&self, scratch: &mut Scratch, req: &Prepared) -> Outcome {
        self.engine.decide_with(scratch, &req.0)
    }

    /// The outcomes of many requests, decided on all cores, into `out` (in request order; it
    /// must be as long as `reqs`, else only the shorter prefix is decided).
    pub fn decide_batch(&self, reqs: &[Request], out: &mut [Outcome]) {
        use rayon::prelude::*;
        reqs.par_iter()
            .zip(out.par_iter_mut())
            .for_each_init(Scratch::default, |scratch, (r, o)| {
                *o = self.decide_with(scratch, r)
            });
    }

    /// Completes `req` from the store: derived keys, principal tags, `aws:userid`, resource
    /// tags ([`Store::prepare`]). For front ends that show the completed request (an
    /// explanation, a log line) as well as decide it.
    pub fn prepare(&self, mut req: Request) -> Prepared {
        self.store.complete(&mut req, Some(&self.layers));
        Prepared(req)
    }

    /// Decides a request this authorizer's store has completed.
    pub fn authorize_prepared(&self, scratch: &mut Scratch, req: &Prepared) -> Decision {
        self.engine.authorize_with(scratch, &req.0)
    }

    /// Decides many requests on all cores; the result is in request order.
    pub fn authorize_batch(&self, reqs: &[Request]) -> Vec<Decision> {
        use rayon::prelude::*;
        reqs.par_iter()
            .map_init(Scratch::default, |scratch, r| {
                self.authorize_with(scratch, r)
            })
            .collect()
    }

    /// Decides many prepared requests on all cores; the result is in request order.
    pub fn authorize_prepared_batch(&self, reqs: &[&Prepared]) -> Vec<Decision> {
        use rayon::prelude::*;
        reqs.par_iter()
            .map_init(Scratch::default, |scratch, r| {
                self.authorize_prepared(scratch, r)
            })
            .collect()
    }

    /// This authorizer with the resource-based policy of `arn` set (`None`: removed), of type
    /// `ty`, if it stays within the engine's limits. The caller validates the policy first.
    /// Only that policy is compiled.
    pub fn with_resource_policy(
        &self,
        arn: &str,
        ty: PolicyType,
        policy: Option<Arc<PolicyDoc>>,
    ) -> Result<Authorizer, BuildError> {
        let engine = Arc::new(self.engine.with_resource_policy(arn, policy.clone())?);
        let mut store = (*self.store).clone();
        store.set_resource_policy(arn, ty, policy);
        // Tags are unchanged, and so are their layers (a new resource entry has no tags).
        Ok(Authorizer {
            store: Arc::new(store),
            layers: Arc::clone(&self.layers),
            engine,
        })
    }
}

/// A request completed by [`Authorizer::prepare`]: the only kind [`Authorizer::decide`] takes.
#[derive(Clone, Debug)]
pub struct Prepared(Request);

impl std::ops::Deref for Prepared {
    type Target = Request;

    fn deref(&self) -> &Request {
        &self.0
    }
}
