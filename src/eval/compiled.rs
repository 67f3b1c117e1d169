//! The request path through a compiled [`Engine`]: each layer's compiled set is asked for
//! candidate statements through its indexes, and the candidates are checked by the reference
//! evaluator's statement matcher inside the one decision flow ([`super::flow`]). The engine's
//! structures are built in [`crate::compile`]; this module only reads them.

use crate::ast::Effect;
use crate::compile::engine::Policies;
use crate::compile::set::CompiledSet;
use crate::compile::{Engine, Scratch};
use crate::eval::flow::{self, Hit, Layers, Matcher, Mode, Source};
use crate::eval::{Decision, Outcome};
use crate::request::Request;

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
        set.candidates(m.action_id, m.action_lc, resource, extra, self.scratch);
        let mut hits = Vec::new();
        for &c in &self.scratch.cands {
            // The statement id, and whether the index proved its action matches.
            let (id, action_known) = (c >> 1, c & 1 == 1);
            if set.effect(id) != Some(effect) {
                continue;
            }
            let Some((doc, index, stmt)) = set.statement(id) else {
                continue;
            };
            if let Some(hit) = m.hit(doc, index, stmt, resource, extra, action_known) {
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
    /// Decides one request (with fresh scratch space).
    pub fn authorize(&self, req: &Request) -> Decision {
        self.authorize_with(&mut Scratch::default(), req)
    }

    /// Decides one request with caller-owned scratch space (reuse it across calls on one
    /// thread).
    pub fn authorize_with(&self, scratch: &mut Scratch, req: &Request) -> Decision {
        self.run(scratch, req, Mode::Full)
    }

    /// The outcome of [`Engine::authorize_with`] alone: evaluation stops at the first
    /// matching Deny and records nothing, so it costs less.
    pub fn decide_with(&self, scratch: &mut Scratch, req: &Request) -> Outcome {
        self.run(scratch, req, Mode::Outcome).decision
    }

    fn run(&self, scratch: &mut Scratch, req: &Request, mode: Mode) -> Decision {
        scratch.generation = scratch.generation.wrapping_add(1);
        let mut action_lc = std::mem::take(&mut scratch.action_lc);
        flow::lower_action(&req.action, &mut action_lc);
        let d = self.run_lc(scratch, req, &action_lc, mode);
        scratch.action_lc = action_lc;
        d
    }

    fn run_lc(
        &self,
        scratch: &mut Scratch,
        req: &Request,
        action_lc: &str,
        mode: Mode,
    ) -> Decision {
        let mut src = Indexed { scratch };
        match &self.policies {
            Policies::Fixed {
                identity,
                boundary,
                session,
                scps,
                sides,
            } => flow::run_lc(
                &mut src,
                req,
                action_lc,
                &self.sem,
                |resource| {
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
                },
                mode,
            ),
            Policies::Store(sets) => {
                let cs = sets.caller(&req.caller);
                // The resource side of `Store::resource_side`: the resource's policy and the
                // RCP levels of its account.
                flow::run_lc(
                    &mut src,
                    req,
                    action_lc,
                    &self.sem,
                    |resource| Layers {
                        identity: cs.identity,
                        boundary: cs.boundary,
                        session: cs.session,
                        scps: cs.scps.iter().map(|s| &**s).collect(),
                        resource_policy: sets.resource_policy(resource),
                        rcps: req
                            .resource_account(resource)
                            .map(|a| sets.rcps(a).iter().map(|s| &**s).collect())
                            .unwrap_or_default(),
                    },
                    mode,
                )
            }
        }
    }

    /// The outcomes of many requests, decided on all cores, into `out` (in request order;
    /// it must be as long as `reqs`, else only the shorter prefix is decided).
    pub fn decide_batch(&self, reqs: &[Request], out: &mut [Outcome]) {
        use rayon::prelude::*;
        reqs.par_iter()
            .zip(out.par_iter_mut())
            .for_each_init(Scratch::default, |scratch, (r, o)| {
                *o = self.decide_with(scratch, r)
            });
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
}
