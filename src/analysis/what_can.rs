//! `what-can`: the actions and resources one principal can reach, directly and through the
//! roles it can assume, grouped by access level.
//!
//! The resources tried are the store's (streams, consumers, roles) and, for each resource
//! pattern of the principal's own Allow statements that is not a literal ARN, a witness ARN
//! that the pattern matches (each `*` read as `iamc-any`, each `?` as `x`): so access to
//! resources the store does not list shows as the pattern that grants it. Patterns with policy
//! variables are not tried (they are named in `untried`).

use serde::Serialize;

use super::graph::{Hop, PrincipalGraph, ASSUME_ROLE};
use super::Analyzer;
use crate::ast::Effect;
use crate::catalog::{self, AccessLevel, ResourceRequirement, ResourceType};
use crate::compile::Scratch;
use crate::eval::flow::is_role_arn;
use crate::eval::{Outcome, StatementRef};
use crate::request::Caller;

/// One allowed (action, resource).
#[derive(Clone, Debug, Serialize)]
pub struct Grant {
    /// The action.
    pub action: String,
    /// Its access level (`List`, `Read`, `Write`, `TaggingWrite`); `None` for actions outside
    /// the catalog (`sts:AssumeRole`).
    pub access_level: Option<AccessLevel>,
    /// The resource: an ARN of the store, a witness of a pattern, or `*`.
    pub resource: String,
    /// The pattern the witness stands for, when `resource` is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Empty when the principal itself is allowed; else the chain of role assumptions.
    pub via: Vec<Hop>,
    /// The statements that allow it.
    pub determining: Vec<StatementRef>,
}

/// The answer to `what-can`.
#[derive(Clone, Debug, Serialize)]
pub struct WhatCan {
    /// The principal asked about.
    pub principal: String,
    /// The roles it can assume, with the chain to each.
    pub roles: Vec<Vec<Hop>>,
    /// What it can do, by access level then action then resource.
    pub grants: Vec<Grant>,
    /// Requests decided.
    pub decisions: usize,
    /// Resource patterns that were not tried (policy variables).
    pub untried: Vec<String>,
}

/// A witness ARN for a resource pattern: `*` -> `iamc-any`, `?` -> `x`.
pub fn witness(pattern: &str) -> String {
    pattern.replace('*', "iamc-any").replace('?', "x")
}

/// What `principal` can do. `None` when it is not a principal ARN.
pub fn what_can(an: &Analyzer<'_>, graph: &PrincipalGraph, principal: &str) -> Option<WhatCan> {
    let caller = Caller::parse(principal).ok()?;
    let store = an.authorizer().store();
    let index = an.principals().iter().position(|p| p.arn == principal);
    let chains: Vec<Vec<Hop>> = match index {
        Some(i) => graph
            .reachable_from(an, i)
            .into_iter()
            .map(|(_, hops)| hops)
            .collect(),
        None => Vec::new(),
    };
    // Who acts: the principal, then each role it reaches.
    let mut actors: Vec<(String, Caller, Vec<Hop>)> =
        vec![(principal.to_string(), caller.clone(), Vec::new())];
    for hops in &chains {
        if let Some(last) = hops.last() {
            if let Ok(c) = Caller::parse(&last.to) {
                actors.push((last.to.clone(), c, hops.clone()));
            }
        }
    }
    // The resources: the store's, and witnesses of the actors' own patterns.
    let mut resources: Vec<(String, Option<String>)> =
        store.resources().map(|r| (r.arn.clone(), None)).collect();
    let mut untried = Vec::new();
    for (_, c, _) in &actors {
        for doc in store.caller_inputs(c).identity {
            for stmt in &doc.policy.statements {
                if stmt.effect != Effect::Allow {
                    continue;
                }
                let Some(el) = &stmt.resource else { continue };
                if el.negated {
                    continue;
                }
                for p in &el.patterns {
                    if p.raw == "*" || p.template.is_literal() && !p.raw.contains(['*', '?']) {
                        if !p.raw.contains(['*', '?']) && !resources.iter().any(|r| r.0 == p.raw) {
                            resources.push((p.raw.clone(), None));
                        }
                        continue;
                    }
                    if p.raw.contains("${") {
                        untried.push(p.raw.clone());
                        continue;
                    }
                    let w = witness(&p.raw);
                    if !resources.iter().any(|r| r.0 == w) {
                        resources.push((w, Some(p.raw.clone())));
                    }
                }
            }
        }
    }
    untried.sort();
    untried.dedup();
    let mut scratch = Scratch::default();
    let mut grants = Vec::new();
    let mut decisions = 0;
    for (arn, _, via) in &actors {
        let mut try_one = |action: &str, resource: &str, pattern: Option<&String>| {
            decisions += 1;
            if let Some(d) = an.decide(&mut scratch, arn, action, resource) {
                if d.decision == Outcome::Allow {
                    grants.push(Grant {
                        action: action.to_string(),
                        access_level: catalog::lookup(action).map(|i| i.access_level),
                        resource: resource.to_string(),
                        pattern: pattern.cloned(),
                        via: via.clone(),
                        determining: d.determining,
                    });
                }
            }
        };
        for info in catalog::actions() {
            let action = info.full_name();
            match info.resources {
                ResourceRequirement::WildcardOnly => try_one(&action, "*", None),
                ResourceRequirement::OneOf(types) | ResourceRequirement::AllOf(types) => {
                    for (r, pattern) in &resources {
                        let fits = match ResourceType::of_arn(r) {
                            Some(t) => types.contains(&t),
                            None => false,
                        };
                        if fits {
                            try_one(&action, r, pattern.as_ref());
                        }
                    }
                }
            }
        }
        for (r, pattern) in &resources {
            if is_role_arn(r) {
                try_one(ASSUME_ROLE, r, pattern.as_ref());
            }
        }
    }
    grants.sort_by(|a, b| {
        (
            level_rank(a.access_level),
            &a.action,
            &a.resource,
            a.via.len(),
        )
            .cmp(&(
                level_rank(b.access_level),
                &b.action,
                &b.resource,
                b.via.len(),
            ))
    });
    // One line per (action, resource): the shortest way.
    grants.dedup_by(|b, a| a.action == b.action && a.resource == b.resource);
    Some(WhatCan {
        principal: principal.to_string(),
        roles: chains,
        grants,
        decisions,
        untried,
    })
}

fn level_rank(l: Option<AccessLevel>) -> u8 {
    match l {
        Some(AccessLevel::List) => 0,
        Some(AccessLevel::Read) => 1,
        Some(AccessLevel::Write) => 2,
        Some(AccessLevel::TaggingWrite) => 3,
        None => 4,
    }
}
