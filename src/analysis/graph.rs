//! The principal graph: an edge P -> R when principal P may assume role R (`sts:AssumeRole`,
//! decided by the engine: R's trust policy must grant, and across accounts P's own policies
//! must allow too). Reachability and the shortest explanation paths come from petgraph.

use std::collections::{HashMap, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::Serialize;

use super::{Analyzer, PrincipalKind};
use crate::ast::{Effect, PrincipalValue};
use crate::compile::Scratch;
use crate::eval::{Outcome, StatementRef};
use crate::request::Caller;

/// The action an edge stands for.
pub const ASSUME_ROLE: &str = "sts:AssumeRole";

/// One step of a chain: `from` assumes the role `to`, allowed by `statements`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The principal that assumes.
    pub from: String,
    /// The role it assumes.
    pub to: String,
    /// The statements that allow it (trust policy, and identity policy across accounts).
    pub statements: Vec<StatementRef>,
}

/// Who may assume which role.
pub struct PrincipalGraph {
    /// Nodes are indexes into [`Analyzer::principals`]; edges carry the allowing statements.
    pub graph: DiGraph<usize, Vec<StatementRef>>,
    /// Node of each principal, by its index.
    nodes: Vec<NodeIndex>,
    /// Statements decided (for the report).
    pub decisions: usize,
}

impl PrincipalGraph {
    /// Builds the graph: for each role with a trust policy, every principal the trust policy
    /// could name asks `sts:AssumeRole` on it. Principals of an account that no Allow statement
    /// of the trust policy names (by ARN or account) cannot be granted, and are not asked; a
    /// wildcard principal (or NotPrincipal) asks every principal.
    pub fn build(an: &Analyzer<'_>) -> PrincipalGraph {
        let principals = an.principals();
        let mut graph = DiGraph::with_capacity(principals.len(), principals.len());
        let nodes: Vec<NodeIndex> = (0..principals.len()).map(|i| graph.add_node(i)).collect();
        let mut by_account: HashMap<&str, Vec<usize>> = HashMap::new();
        // By lower-cased ARN; a session also under its role's key (`account/role-name`), which a
        // role ARN in a trust policy names (through the role: spec §5.4).
        let mut by_arn: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in principals.iter().enumerate() {
            by_account.entry(p.account.as_str()).or_default().push(i);
            by_arn
                .entry(p.arn.to_ascii_lowercase())
                .or_default()
                .push(i);
            if p.kind == PrincipalKind::Session {
                if let Some(role) = Caller::parse(&p.arn)
                    .ok()
                    .and_then(|c| c.role_name().map(str::to_ascii_lowercase))
                {
                    by_arn
                        .entry(format!("{}/{role}", p.account))
                        .or_default()
                        .push(i);
                }
            }
        }
        let store = an.authorizer().store();
        let mut scratch = Scratch::default();
        let mut decisions = 0;
        for (ri, role) in principals.iter().enumerate() {
            if role.kind != PrincipalKind::Role {
                continue;
            }
            let Some(trust) = store.resource(&role.arn).and_then(|r| r.policy.clone()) else {
                continue;
            };
            let mut candidates: Vec<usize> = Vec::new();
            let mut everyone = false;
            for stmt in &trust.policy.statements {
                if stmt.effect != Effect::Allow {
                    continue;
                }
                let Some(p) = &stmt.principal else { continue };
                if p.negated {
                    everyone = true;
                    break;
                }
                for v in &p.values {
                    match v {
                        PrincipalValue::Anyone => everyone = true,
                        PrincipalValue::Aws(s) => match named(s) {
                            Named::Arn { arn, role_key } => {
                                candidates.extend(by_arn.get(&arn).into_iter().flatten().copied());
                                if let Some(k) = role_key {
                                    candidates
                                        .extend(by_arn.get(&k).into_iter().flatten().copied());
                                }
                            }
                            Named::Account(a) => {
                                candidates.extend(by_account.get(a).into_iter().flatten().copied())
                            }
                            // An AWS value we cannot place: ask everyone (never miss one).
                            Named::Unknown => everyone = true,
                        },
                        _ => {}
                    }
                }
            }
            if everyone {
                candidates = (0..principals.len()).collect();
            }
            candidates.sort_unstable();
            candidates.dedup();
            for pi in candidates {
                decisions += 1;
                let Some(d) = an.decide(&mut scratch, &principals[pi].arn, ASSUME_ROLE, &role.arn)
                else {
                    continue;
                };
                if d.decision == Outcome::Allow {
                    graph.add_edge(nodes[pi], nodes[ri], d.determining);
                }
            }
        }
        PrincipalGraph {
            graph,
            nodes,
            decisions,
        }
    }

    /// For every principal that reaches one of `targets` (indexes of principals) through one or
    /// more role assumptions, the shortest chain to the nearest, as principal indexes with the
    /// edge statements. Targets themselves are not included.
    pub fn chains_to(&self, an: &Analyzer<'_>, targets: &[usize]) -> Vec<(usize, Vec<Hop>)> {
        let n = self.nodes.len();
        // Multi-source breadth-first search backwards: next[u] is u's next step toward a target.
        let mut next: Vec<Option<(usize, petgraph::graph::EdgeIndex)>> = vec![None; n];
        let mut seen = vec![false; n];
        let mut queue: VecDeque<usize> = VecDeque::new();
        for &t in targets {
            if !seen[t] {
                seen[t] = true;
                queue.push_back(t);
            }
        }
        while let Some(v) = queue.pop_front() {
            for e in self
                .graph
                .edges_directed(self.nodes[v], Direction::Incoming)
            {
                let u = self.graph[e.source()];
                if !seen[u] {
                    seen[u] = true;
                    next[u] = Some((v, e.id()));
                    queue.push_back(u);
                }
            }
        }
        let principals = an.principals();
        let mut out = Vec::new();
        for u in 0..n {
            if next[u].is_none() {
                continue;
            }
            let mut hops = Vec::new();
            let mut at = u;
            while let Some((v, e)) = next[at] {
                hops.push(Hop {
                    from: principals[at].arn.clone(),
                    to: principals[v].arn.clone(),
                    statements: self.graph[e].clone(),
                });
                at = v;
            }
            out.push((u, hops));
        }
        out
    }

    /// The roles principal `i` can reach by one or more assumptions, with the shortest chain
    /// to each.
    pub fn reachable_from(&self, an: &Analyzer<'_>, i: usize) -> Vec<(usize, Vec<Hop>)> {
        let n = self.nodes.len();
        let mut prev: Vec<Option<(usize, petgraph::graph::EdgeIndex)>> = vec![None; n];
        let mut seen = vec![false; n];
        seen[i] = true;
        let mut queue = VecDeque::from([i]);
        let mut order = Vec::new();
        while let Some(v) = queue.pop_front() {
            for e in self
                .graph
                .edges_directed(self.nodes[v], Direction::Outgoing)
            {
                let w = self.graph[e.target()];
                if !seen[w] {
                    seen[w] = true;
                    prev[w] = Some((v, e.id()));
                    order.push(w);
                    queue.push_back(w);
                }
            }
        }
        let principals = an.principals();
        order
            .into_iter()
            .map(|w| {
                let mut hops = Vec::new();
                let mut at = w;
                while let Some((v, e)) = prev[at] {
                    hops.push(Hop {
                        from: principals[v].arn.clone(),
                        to: principals[at].arn.clone(),
                        statements: self.graph[e].clone(),
                    });
                    at = v;
                }
                hops.reverse();
                (w, hops)
            })
            .collect()
    }

    /// Role-assumption cycles (strongly connected components with more than one principal),
    /// from petgraph's Tarjan.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        petgraph::algo::tarjan_scc(&self.graph)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut v: Vec<usize> = c.into_iter().map(|n| self.graph[n]).collect();
                v.sort_unstable();
                v
            })
            .collect()
    }
}

/// Whom an AWS principal value can name.
enum Named<'a> {
    /// One user, role or session ARN without wildcards (lower-cased), and for a role the key
    /// of its sessions (`account/role-name`).
    Arn {
        arn: String,
        role_key: Option<String>,
    },
    /// Any principal of the account (an account id, a `:root` ARN, an ARN with wildcards).
    Account(&'a str),
    /// Any principal at all.
    Unknown,
}

fn named(value: &str) -> Named<'_> {
    let Some(account) = account_of(value) else {
        return Named::Unknown;
    };
    let resource = value.splitn(6, ':').nth(5).unwrap_or("");
    if value.len() == 12 || resource == "root" || value.contains(['*', '?']) {
        return Named::Account(account);
    }
    let role_key = resource
        .strip_prefix("role/")
        .and_then(|r| r.rsplit('/').next())
        .map(|name| format!("{account}/{}", name.to_ascii_lowercase()));
    Named::Arn {
        arn: value.to_ascii_lowercase(),
        role_key,
    }
}

/// The account an AWS principal value names: a 12-digit id, or the account field of an ARN.
pub(crate) fn account_of(value: &str) -> Option<&str> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value);
    }
    let mut parts = value.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}
