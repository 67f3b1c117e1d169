//! The reference evaluator: spec §5 over the AST with no index and no caching. Every statement
//! of every applicable policy is looked at, in order. The compiled engine must agree with it on
//! every input.

use std::sync::Arc;

use super::decision::{Decision, Outcome};
use super::flow::{self, Hit, Layers, Matcher, Source};
use crate::ast::{Effect, Inputs, PolicyDoc};
use crate::request::Request;
use crate::semantics::Semantics;

/// Finds matches by scanning every statement.
struct Scan;

impl Source for Scan {
    type Set = [Arc<PolicyDoc>];

    fn hits(
        &mut self,
        m: &mut Matcher<'_>,
        set: &[Arc<PolicyDoc>],
        effect: Effect,
        resource: &str,
        deny_resource: Option<&str>,
        first_only: bool,
    ) -> Vec<Hit> {
        let mut hits = Vec::new();
        for doc in set {
            for (i, stmt) in doc.policy.statements.iter().enumerate() {
                if stmt.effect != effect {
                    continue;
                }
                let extra = if effect == Effect::Deny {
                    deny_resource
                } else {
                    None
                };
                if let Some(hit) = m.hit(doc, i, stmt, resource, extra, false) {
                    hits.push(hit);
                    if first_only {
                        return hits;
                    }
                }
            }
        }
        hits
    }
}

/// Decides `req` against `inputs` (spec §5.3–§5.6).
pub fn evaluate(inputs: &Inputs, req: &Request, sem: &Semantics) -> Decision {
    flow::decide(&mut Scan, req, sem, |resource| layers(inputs, resource))
}

/// The outcome of [`evaluate`] alone, with the fast path's early exits.
pub fn outcome(inputs: &Inputs, req: &Request, sem: &Semantics) -> Outcome {
    flow::outcome(&mut Scan, req, sem, |resource| layers(inputs, resource))
}

fn layers<'a>(inputs: &'a Inputs, resource: &str) -> Layers<'a, [Arc<PolicyDoc>]> {
    {
        let side = inputs.side(resource);
        Layers {
            identity: Some(inputs.identity.as_slice()),
            boundary: inputs.boundary.as_ref().map(std::slice::from_ref),
            session: inputs.session.as_ref().map(std::slice::from_ref),
            scps: inputs.scps.iter().map(Vec::as_slice).collect(),
            resource_policy: side
                .and_then(|s| s.policy.as_ref())
                .map(std::slice::from_ref),
            rcps: side
                .map(|s| s.rcps.iter().map(Vec::as_slice).collect())
                .unwrap_or_default(),
        }
    }
}
