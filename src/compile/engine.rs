//! The engine: compiled sets for every layer. The request path through them is
//! `crate::eval::compiled`; this module builds and updates, and knows nothing of requests.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::builder::{BuildError, Counter, EngineBuilder, EngineLimits, Totals};
use super::set::CompiledSet;
use super::store_sets::StoreSets;
use crate::ast::{Inputs, PolicyDoc};
use crate::semantics::Semantics;
use crate::store::Store;

/// Compiled sets of one resource's side.
#[derive(Clone, Debug, Default)]
pub(crate) struct Side {
    pub(crate) policy: Option<Arc<CompiledSet>>,
    pub(crate) rcps: Vec<Arc<CompiledSet>>,
}

/// Where the policies of a request come from.
#[derive(Debug)]
pub(crate) enum Policies {
    /// One fixed set of inputs for every request (ad hoc use, conformance, benchmarks).
    Fixed {
        identity: Option<Arc<CompiledSet>>,
        boundary: Option<Arc<CompiledSet>>,
        session: Option<Arc<CompiledSet>>,
        scps: Vec<Arc<CompiledSet>>,
        sides: HashMap<String, Side>,
    },
    /// A store's sets, keyed by what requests name (built from its declarations).
    Store(StoreSets),
}

/// An immutable decision engine, `Send + Sync`, cheap to share behind an `Arc`. Built by an
/// [`EngineBuilder`] (for a store: [`crate::Authorizer`]).
#[derive(Debug)]
pub struct Engine {
    pub(crate) policies: Policies,
    pub(crate) sem: Semantics,
    limits: EngineLimits,
    /// What the engine holds, for the limits of later updates.
    totals: Totals,
}

/// What an engine holds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EngineStats {
    /// Compiled policy sets.
    pub sets: usize,
    /// Statements across the compiled sets (a statement shared by several sets counts in each).
    pub statements: usize,
    /// Approximate heap bytes of the indexes.
    pub index_bytes: usize,
}

/// Compiles `docs` into a set, counted in `counter`; none for no documents.
fn compile(
    counter: &mut Counter,
    docs: &[Arc<PolicyDoc>],
) -> Result<Option<Arc<CompiledSet>>, BuildError> {
    if docs.is_empty() {
        return Ok(None);
    }
    let set = Arc::new(CompiledSet::new(docs.to_vec()));
    counter.count(&set)?;
    Ok(Some(set))
}

/// Compiles each level (SCPs, RCPs) into a set.
fn compile_levels(
    counter: &mut Counter,
    levels: &[Vec<Arc<PolicyDoc>>],
) -> Result<Vec<Arc<CompiledSet>>, BuildError> {
    let mut out = Vec::with_capacity(levels.len());
    for l in levels {
        out.extend(compile(counter, l)?);
    }
    Ok(out)
}

impl Engine {
    /// Compiles one fixed set of inputs, used for every request, with the default limits
    /// ([`EngineBuilder::engine`] sets others).
    pub fn from_inputs(inputs: &Inputs, sem: Semantics) -> Result<Engine, BuildError> {
        EngineBuilder::new().semantics(sem).engine(inputs)
    }

    /// [`EngineBuilder::engine`].
    pub(crate) fn fixed(inputs: &Inputs, b: &EngineBuilder) -> Result<Engine, BuildError> {
        let mut counter = Counter::new(b.limits);
        let c = &mut counter;
        let mut sides = HashMap::new();
        for s in &inputs.resources {
            let side = Side {
                policy: compile(c, s.policy.as_slice())?,
                rcps: compile_levels(c, &s.rcps)?,
            };
            sides.insert(s.arn.clone(), side);
        }
        let policies = Policies::Fixed {
            identity: compile(c, &inputs.identity)?,
            boundary: compile(c, inputs.boundary.as_slice())?,
            session: compile(c, inputs.session.as_slice())?,
            scps: compile_levels(c, &inputs.scps)?,
            sides,
        };
        Ok(Engine {
            policies,
            sem: b.sem.clone(),
            limits: b.limits,
            totals: counter.totals,
        })
    }

    /// Compiles every policy set a store declares: each user's and role's identity policies
    /// (principals with the same list share one compiled set), boundaries, session policies,
    /// SCP and RCP levels, and resource policies. The engine keeps no reference to the store;
    /// a role's sets serve every session of it, whatever its name. Every compiled set of
    /// `previous` whose policies `store` still has (the same documents, or equal ones) is
    /// reused, and only the rest is compiled.
    ///
    /// Requests must be prepared by the store first ([`Store::prepare`]: principal and
    /// resource tags, derived keys), so only [`crate::Authorizer`], which does both, builds
    /// one for users of the library.
    pub(crate) fn from_store(
        store: &Store,
        b: &EngineBuilder,
        previous: Option<&Engine>,
    ) -> Result<Engine, BuildError> {
        let previous = previous.and_then(|e| match &e.policies {
            Policies::Store(sets) => Some(sets),
            Policies::Fixed { .. } => None,
        });
        let (sets, totals) = StoreSets::build_reusing(store, previous, b.limits)?;
        Ok(Engine {
            policies: Policies::Store(sets),
            sem: b.sem.clone(),
            limits: b.limits,
            totals,
        })
    }

    /// This engine with the resource policy of `arn` replaced (`None`: removed), as after a
    /// `PutResourcePolicy`/`DeleteResourcePolicy`, if it stays within the engine's limits.
    /// Only that policy is compiled: every other set is shared with `self`, so the cost
    /// follows the policy, not the store. An engine built from fixed inputs gets the policy as
    /// the side of `arn`.
    pub(crate) fn with_resource_policy(
        &self,
        arn: &str,
        policy: Option<Arc<PolicyDoc>>,
    ) -> Result<Engine, BuildError> {
        let mut totals = self.totals.clone();
        let policies = match &self.policies {
            Policies::Store(sets) => Policies::Store(sets.with_resource_policy(
                arn,
                policy,
                &mut totals,
                &self.limits,
            )?),
            Policies::Fixed {
                identity,
                boundary,
                session,
                scps,
                sides,
            } => {
                let mut sides = sides.clone();
                let side = sides.entry(arn.to_string()).or_default();
                if let Some(old) = &side.policy {
                    totals.remove(old);
                }
                let set = policy.map(|d| Arc::new(CompiledSet::new(vec![d])));
                if let Some(set) = &set {
                    totals.add(set, &self.limits)?;
                }
                side.policy = set;
                Policies::Fixed {
                    identity: identity.clone(),
                    boundary: boundary.clone(),
                    session: session.clone(),
                    scps: scps.clone(),
                    sides,
                }
            }
        };
        Ok(Engine {
            policies,
            sem: self.sem.clone(),
            limits: self.limits,
            totals,
        })
    }

    /// The semantics the engine decides with.
    pub fn semantics(&self) -> &Semantics {
        &self.sem
    }

    /// The configuration this engine was built with (for rebuilds and updates).
    pub(crate) fn builder(&self) -> EngineBuilder {
        EngineBuilder::new()
            .semantics(self.sem.clone())
            .limits(self.limits)
    }

    fn all_sets(&self) -> Vec<(String, &CompiledSet)> {
        let mut out: Vec<(String, &CompiledSet)> = Vec::new();
        match &self.policies {
            Policies::Fixed {
                identity,
                boundary,
                session,
                scps,
                sides,
            } => {
                out.extend(identity.iter().map(|s| ("identity".to_string(), &**s)));
                out.extend(boundary.iter().map(|s| ("boundary".to_string(), &**s)));
                out.extend(session.iter().map(|s| ("session".to_string(), &**s)));
                for (i, s) in scps.iter().enumerate() {
                    out.push((format!("scp level {i}"), s));
                }
                let mut arns: Vec<&String> = sides.keys().collect();
                arns.sort();
                for arn in arns {
                    if let Some(side) = sides.get(arn) {
                        out.extend(
                            side.policy
                                .iter()
                                .map(|s| (format!("resource {arn}"), &**s)),
                        );
                        for (i, s) in side.rcps.iter().enumerate() {
                            out.push((format!("rcp level {i} of {arn}"), s));
                        }
                    }
                }
            }
            Policies::Store(sets) => {
                for s in sets.all() {
                    let ids: Vec<&str> = s.docs.iter().map(|d| d.id.as_ref()).collect();
                    out.push((format!("set [{}]", ids.join(", ")), s));
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
            }
        }
        out
    }

    /// Sizes.
    pub fn stats(&self) -> EngineStats {
        let sets = self.all_sets();
        EngineStats {
            sets: sets.len(),
            statements: sets.iter().map(|(_, s)| s.len()).sum(),
            index_bytes: sets.iter().map(|(_, s)| s.index_bytes()).sum(),
        }
    }

    /// A deterministic text dump of every compiled set.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for (name, s) in self.all_sets() {
            out.push_str(&format!("== {name}: {} statements\n", s.len()));
            out.push_str(&s.dump());
        }
        out
    }
}
