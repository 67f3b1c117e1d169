//! The engine: compiled sets for every layer, and the request path through them.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::set::{CompiledSet, Scratch};
use crate::ast::Effect;
use crate::compile::fxhash::FxHashMap;
use crate::eval::flow::{self, Hit, Layers, Matcher, Source};
use crate::eval::{Decision, Inputs, PolicyDoc};
use crate::request::{Caller, Request};
use crate::semantics::Semantics;
use crate::store::Store;

/// Compiled sets of one resource's side.
#[derive(Debug, Default)]
struct Side {
    policy: Option<Arc<CompiledSet>>,
    rcps: Vec<Arc<CompiledSet>>,
}

/// Where the policies of a request come from.
#[derive(Debug)]
enum Policies {
    /// One fixed set of inputs for every request (ad hoc use, conformance, benchmarks).
    Fixed {
        identity: Option<Arc<CompiledSet>>,
        boundary: Option<Arc<CompiledSet>>,
        session: Option<Arc<CompiledSet>>,
        scps: Vec<Arc<CompiledSet>>,
        sides: HashMap<String, Side>,
    },
    /// A store: the caller's and the resource's policies are looked up per request, and each
    /// distinct list of policies is compiled once.
    Store {
        store: Arc<Store>,
        sets: HashMap<Vec<usize>, Arc<CompiledSet>>,
        /// The caller's part of [`Store::caller_inputs`], compiled, for every caller the store
        /// names (as parsed, and as [`Store::prepare`] completes it). The key is the exact
        /// `Caller`, and that part depends on the caller alone, so a hit is the same answer; a
        /// caller not here takes the general path.
        callers: FxHashMap<Caller, CallerSets>,
        /// Resource policies by ARN ([`Store::resource`]).
        policies: FxHashMap<String, Arc<CompiledSet>>,
        /// RCP levels by account, for the accounts that have any ([`Store::rcp_levels`]).
        rcps: FxHashMap<String, Vec<Arc<CompiledSet>>>,
    },
}

/// The compiled caller's part of a request's inputs.
#[derive(Debug, Default)]
struct CallerSets {
    identity: Option<Arc<CompiledSet>>,
    boundary: Option<Arc<CompiledSet>>,
    session: Option<Arc<CompiledSet>>,
    scps: Vec<Arc<CompiledSet>>,
}

/// The compiled set of a list of policies: from `sets`, else compiled now (lists the store did
/// not hand out when the engine was built; none are expected), so nothing is ever dropped.
fn set_of(
    sets: &HashMap<Vec<usize>, Arc<CompiledSet>>,
    docs: &[Arc<PolicyDoc>],
) -> Option<Arc<CompiledSet>> {
    if docs.is_empty() {
        return None;
    }
    Some(
        sets.get(&key_of(docs))
            .cloned()
            .unwrap_or_else(|| Arc::new(CompiledSet::new(docs.to_vec()))),
    )
}

impl CallerSets {
    fn of(store: &Store, sets: &HashMap<Vec<usize>, Arc<CompiledSet>>, caller: &Caller) -> Self {
        let inputs = store.caller_inputs(caller);
        CallerSets {
            identity: set_of(sets, &inputs.identity),
            boundary: set_of(sets, inputs.boundary.as_slice()),
            session: set_of(sets, inputs.session.as_slice()),
            scps: inputs.scps.iter().filter_map(|l| set_of(sets, l)).collect(),
        }
    }
}

/// An immutable decision engine, `Send + Sync`, cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Engine {
    policies: Policies,
    sem: Semantics,
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

fn compile(docs: &[Arc<PolicyDoc>]) -> Option<Arc<CompiledSet>> {
    (!docs.is_empty()).then(|| Arc::new(CompiledSet::new(docs.to_vec())))
}

/// A key for a list of policies: their addresses (policies are shared `Arc`s in a store).
fn key_of(docs: &[Arc<PolicyDoc>]) -> Vec<usize> {
    docs.iter().map(|d| Arc::as_ptr(d) as usize).collect()
}

/// One request per caller and per resource the store knows, so that building an engine from a
/// store compiles every policy list [`Store::inputs_for`] can hand out.
fn probe_requests(store: &Store) -> Vec<Request> {
    use crate::request::Caller;
    let mut out = Vec::new();
    let arn_caller = |arn: &str| Caller::parse(arn).ok();
    for account in store.accounts() {
        let id = &account.id;
        for u in account.users() {
            let arn = format!("arn:aws:iam::{id}:user{}{}", u.path, u.name);
            out.extend(arn_caller(&arn).map(|c| Request::new(c, "*", "*")));
        }
        for r in account.roles() {
            let arn = format!("arn:aws:iam::{id}:role{}{}", r.path, r.name);
            out.extend(arn_caller(&arn).map(|c| Request::new(c, "*", "*")));
            let session = format!("arn:aws:sts::{id}:assumed-role/{}/probe", r.name);
            out.extend(arn_caller(&session).map(|c| Request::new(c, "*", "*")));
        }
        out.extend(
            arn_caller(&format!("arn:aws:iam::{id}:root")).map(|c| Request::new(c, "*", "*")),
        );
    }
    for s in store.sessions() {
        out.extend(arn_caller(&s.arn).map(|c| Request::new(c, "*", "*")));
    }
    if let Some(org) = store.organization() {
        for id in org.accounts.keys() {
            let root = format!("arn:aws:iam::{id}:root");
            let resource = format!("arn:aws:kinesis:us-east-1:{id}:stream/probe");
            out.extend(arn_caller(&root).map(|c| Request::new(c, "*", resource.clone())));
        }
    }
    for r in store.resources() {
        out.push(Request::new(Caller::Anonymous, "*", r.arn.clone()));
    }
    out
}

/// Finds matches through the compiled indexes.
struct Indexed<'s> {
    scratch: &'s mut Scratch,
}

impl Source for Indexed<'_> {
    type Set = CompiledSet;

    fn hits(
        &mut self,
        m: &mut Matcher<'_>,
        set: &CompiledSet,
        effect: Effect,
        resource: &str,
        deny_resource: Option<&str>,
        first_only: bool,
    ) -> Vec<Hit> {
        let extra = if effect == Effect::Deny {
            deny_resource
        } else {
            None
        };
        set.candidates(&m.action_lc, resource, extra, self.scratch);
        let mut hits = Vec::new();
        for &id in &self.scratch.cands {
            if set.effect(id) != Some(effect) {
                continue;
            }
            let Some((doc, index, stmt)) = set.statement(id) else {
                continue;
            };
            if let Some(hit) = m.hit(doc, index, stmt, resource, extra) {
                hits.push(hit);
                if first_only {
                    break;
                }
            }
        }
        hits
    }
}

impl Engine {
    /// Compiles one fixed set of inputs, used for every request.
    pub fn from_inputs(inputs: &Inputs, sem: Semantics) -> Engine {
        let one =
            |d: &Option<Arc<PolicyDoc>>| d.as_ref().and_then(|d| compile(std::slice::from_ref(d)));
        let mut sides = HashMap::new();
        for s in &inputs.resources {
            sides.insert(
                s.arn.clone(),
                Side {
                    policy: one(&s.policy),
                    rcps: s
                        .rcps
                        .iter()
                        .map(|l| Arc::new(CompiledSet::new(l.clone())))
                        .collect(),
                },
            );
        }
        Engine {
            policies: Policies::Fixed {
                identity: compile(&inputs.identity),
                boundary: one(&inputs.boundary),
                session: one(&inputs.session),
                scps: inputs
                    .scps
                    .iter()
                    .map(|l| Arc::new(CompiledSet::new(l.clone())))
                    .collect(),
                sides,
            },
            sem,
        }
    }

    /// Compiles every policy set a store can hand out: each user's and role's identity
    /// policies (users with the same list share one compiled set), boundaries, session
    /// policies, SCP and RCP levels, and resource policies.
    pub fn from_store(store: Arc<Store>, sem: Semantics) -> Engine {
        let mut sets: HashMap<Vec<usize>, Arc<CompiledSet>> = HashMap::new();
        let mut add = |docs: &[Arc<PolicyDoc>]| {
            if !docs.is_empty() {
                sets.entry(key_of(docs))
                    .or_insert_with(|| Arc::new(CompiledSet::new(docs.to_vec())));
            }
        };
        for probe in probe_requests(&store) {
            let inputs = store.inputs_for(&probe);
            add(&inputs.identity);
            add(inputs.boundary.as_slice());
            add(inputs.session.as_slice());
            for l in &inputs.scps {
                add(l);
            }
            for s in &inputs.resources {
                add(s.policy.as_slice());
                for l in &s.rcps {
                    add(l);
                }
            }
        }
        let mut callers = FxHashMap::default();
        for probe in probe_requests(&store) {
            let mut prepared = probe.clone();
            store.prepare(&mut prepared);
            for caller in [probe.caller, prepared.caller] {
                if let std::collections::hash_map::Entry::Vacant(e) = callers.entry(caller) {
                    let cs = CallerSets::of(&store, &sets, e.key());
                    e.insert(cs);
                }
            }
        }
        let policies = store
            .resources()
            .filter_map(|r| Some((r.arn.clone(), set_of(&sets, r.policy.as_slice())?)))
            .collect();
        let mut rcps = FxHashMap::default();
        for account in store
            .organization()
            .map(|o| o.accounts.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let levels: Vec<Arc<CompiledSet>> = store
                .rcp_levels(&account)
                .iter()
                .filter_map(|l| set_of(&sets, l))
                .collect();
            if !levels.is_empty() {
                rcps.insert(account, levels);
            }
        }
        Engine {
            policies: Policies::Store {
                store,
                sets,
                callers,
                policies,
                rcps,
            },
            sem,
        }
    }

    /// The semantics the engine decides with.
    pub fn semantics(&self) -> &Semantics {
        &self.sem
    }

    /// Decides one request (with fresh scratch space).
    pub fn authorize(&self, req: &Request) -> Decision {
        self.authorize_with(&mut Scratch::default(), req)
    }

    /// Decides one request with caller-owned scratch space (reuse it across calls on one
    /// thread).
    pub fn authorize_with(&self, scratch: &mut Scratch, req: &Request) -> Decision {
        scratch.generation = scratch.generation.wrapping_add(1);
        let mut src = Indexed { scratch };
        match &self.policies {
            Policies::Fixed {
                identity,
                boundary,
                session,
                scps,
                sides,
            } => flow::decide(&mut src, req, &self.sem, |resource| {
                let side = if sides.is_empty() {
                    None
                } else {
                    sides.get(resource)
                };
                Layers {
                    identity: identity.as_deref(),
                    boundary: boundary.as_deref(),
                    session: session.as_deref(),
                    scps: scps.iter().map(|s| &**s).collect(),
                    resource_policy: side.and_then(|s| s.policy.as_deref()),
                    rcps: side
                        .map(|s| s.rcps.iter().map(|s| &**s).collect())
                        .unwrap_or_default(),
                }
            }),
            Policies::Store {
                store,
                sets,
                callers,
                policies,
                rcps,
            } => {
                let owned;
                let cs = match callers.get(&req.caller) {
                    Some(cs) => cs,
                    None => {
                        owned = CallerSets::of(store, sets, &req.caller);
                        &owned
                    }
                };
                // The resource side of `Store::resource_side`: the resource's policy and the
                // RCP levels of its account (accounts with none are not in `rcps`).
                flow::decide(&mut src, req, &self.sem, |resource| Layers {
                    identity: cs.identity.as_deref(),
                    boundary: cs.boundary.as_deref(),
                    session: cs.session.as_deref(),
                    scps: cs.scps.iter().map(|s| &**s).collect(),
                    resource_policy: policies.get(resource).map(|s| &**s),
                    rcps: req
                        .resource_account(resource)
                        .and_then(|a| rcps.get(a))
                        .map(|l| l.iter().map(|s| &**s).collect())
                        .unwrap_or_default(),
                })
            }
        }
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
            Policies::Store { sets, .. } => {
                for s in sets.values() {
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
