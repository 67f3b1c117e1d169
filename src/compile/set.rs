//! A compiled policy set: the statements of one layer (say, a caller's identity policies, or
//! one SCP level) with an action index and a resource index per effect.
//!
//! The indexes are a conservative prefilter: for a request they return every statement that
//! could match, perhaps some that do not, and never fewer (OPA's rule index works the same
//! way). Each candidate is then checked in full by the same code as the reference evaluator.

use std::collections::HashMap;
use std::sync::Arc;

use super::radix::Radix;
use crate::ast::{Effect, Statement};
use crate::catalog;
use crate::eval::PolicyDoc;

/// One statement of the set.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) doc: u32,
    pub(crate) index: u32,
}

/// A compiled policy set.
#[derive(Clone, Debug, Default)]
pub struct CompiledSet {
    pub(crate) docs: Vec<Arc<PolicyDoc>>,
    /// Every statement, in policy then statement order; ids index this.
    pub(crate) entries: Vec<Entry>,
    pub(crate) allow: Half,
    pub(crate) deny: Half,
}

/// The indexes of the statements of one effect.
#[derive(Clone, Debug, Default)]
pub(crate) struct Half {
    pub(crate) actions: ActionIndex,
    pub(crate) resources: ResourceIndex,
    pub(crate) count: usize,
}

/// Action patterns sorted into the cheapest strategy (globset's habit): exact names, literal
/// prefixes before one trailing `*`, other globs, and statements that match (almost) any
/// action. For the catalog's actions and every literal action name of the set, the full
/// candidate list is precomputed, so a known action costs one hash lookup.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActionIndex {
    exact: HashMap<Box<str>, Vec<u32>>,
    prefix: HashMap<Box<str>, Vec<u32>>,
    prefix_lens: Vec<usize>,
    globs: Vec<(Box<str>, Box<str>, crate::glob::Glob, u32)>,
    always: Vec<u32>,
    memo: HashMap<Box<str>, Vec<u32>>,
}

/// Resource patterns: exact ARNs in a hash map, everything else by its literal prefix in a
/// radix tree; statements with `*`, `NotResource` or no `Resource` are always candidates.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResourceIndex {
    exact: HashMap<Box<str>, Vec<u32>>,
    tree: Radix,
    always: Vec<u32>,
}

fn push_unique(v: &mut Vec<u32>, id: u32) {
    if v.last() != Some(&id) {
        v.push(id);
    }
}

impl ActionIndex {
    fn add(&mut self, id: u32, stmt: &Statement) {
        if stmt.action.negated {
            push_unique(&mut self.always, id);
            return;
        }
        for p in &stmt.action.patterns {
            let (Some(service), Some(name)) = (&p.service, &p.name) else {
                push_unique(&mut self.always, id);
                continue;
            };
            let raw_name = p.raw.split_once(':').map(|(_, n)| n).unwrap_or("");
            let name_lc = raw_name.to_lowercase();
            if name.is_literal() {
                push_unique(
                    self.exact
                        .entry(format!("{service}:{name_lc}").into())
                        .or_default(),
                    id,
                );
            } else if let Some(prefix) = name_lc
                .strip_suffix('*')
                .filter(|p| !p.contains(['*', '?']))
            {
                let key: Box<str> = format!("{service}:{prefix}").into();
                push_unique(self.prefix.entry(key).or_default(), id);
            } else {
                self.globs
                    .push((service.as_str().into(), name_lc.into(), name.clone(), id));
            }
        }
    }

    fn finish(&mut self) {
        let mut lens: Vec<usize> = self.prefix.keys().map(|k| k.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        self.prefix_lens = lens;
        let mut known: Vec<String> = catalog::actions()
            .iter()
            .map(|a| a.full_name().to_lowercase())
            .collect();
        known.extend(self.exact.keys().map(|k| k.to_string()));
        known.sort();
        known.dedup();
        let mut memo = HashMap::with_capacity(known.len());
        for k in known {
            let mut v = Vec::new();
            self.compute(&k, &mut v);
            memo.insert(k.into_boxed_str(), v);
        }
        self.memo = memo;
    }

    /// Every candidate for a lower-cased action, sorted, into `out` (cleared first).
    fn compute(&self, action_lc: &str, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.always);
        if let Some(v) = self.exact.get(action_lc) {
            out.extend_from_slice(v);
        }
        for &len in &self.prefix_lens {
            if let Some(key) = action_lc.get(..len) {
                if let Some(v) = self.prefix.get(key) {
                    out.extend_from_slice(v);
                }
            }
        }
        if let Some((svc, name)) = action_lc.split_once(':') {
            for (s, _, g, id) in &self.globs {
                if &**s == svc && g.matches(name) {
                    out.push(*id);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    /// The candidates: precomputed for known actions, else computed into `buf`.
    fn candidates<'a>(&'a self, action_lc: &str, buf: &'a mut Vec<u32>) -> &'a [u32] {
        match self.memo.get(action_lc) {
            Some(v) => v,
            None => {
                self.compute(action_lc, buf);
                buf
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        let map = |m: &HashMap<Box<str>, Vec<u32>>| {
            m.iter()
                .map(|(k, v)| k.len() + v.capacity() * 4 + 48)
                .sum::<usize>()
        };
        map(&self.exact)
            + map(&self.prefix)
            + map(&self.memo)
            + self.globs.len() * 64
            + self.always.capacity() * 4
    }
}

impl ResourceIndex {
    fn add(&mut self, id: u32, stmt: &Statement) {
        let Some(el) = &stmt.resource else {
            push_unique(&mut self.always, id);
            return;
        };
        if el.negated {
            push_unique(&mut self.always, id);
            return;
        }
        for p in &el.patterns {
            if p.is_star() {
                push_unique(&mut self.always, id);
            } else if p.template.is_literal() {
                push_unique(self.exact.entry(p.raw.as_str().into()).or_default(), id);
            } else {
                // A pattern with wildcards or variables: whatever it matches starts with its
                // literal prefix.
                self.tree.insert(p.template.literal_prefix().as_bytes(), id);
            }
        }
    }

    /// The candidate lists for `resource` (each sorted), and their total length.
    fn lists<'a>(&'a self, resource: &str, out: &mut Vec<&'a [u32]>) -> usize {
        out.clear();
        if !self.always.is_empty() {
            out.push(&self.always);
        }
        if let Some(v) = self.exact.get(resource) {
            out.push(v);
        }
        self.tree.walk(resource.as_bytes(), |ids| out.push(ids));
        out.iter().map(|l| l.len()).sum()
    }

    fn heap_bytes(&self) -> usize {
        self.exact
            .iter()
            .map(|(k, v)| k.len() + v.capacity() * 4 + 48)
            .sum::<usize>()
            + self.tree.heap_bytes()
            + self.always.capacity() * 4
    }
}

/// Scratch space for queries, owned by the caller (one per thread), so that queries allocate
/// little.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) cands: Vec<u32>,
    pub(crate) action_buf: Vec<u32>,
}

impl CompiledSet {
    /// Compiles the statements of `docs`, in order.
    pub fn new(docs: Vec<Arc<PolicyDoc>>) -> CompiledSet {
        let mut set = CompiledSet {
            docs,
            ..CompiledSet::default()
        };
        for (d, doc) in set.docs.iter().enumerate() {
            for (i, stmt) in doc.policy.statements.iter().enumerate() {
                let id = u32::try_from(set.entries.len()).unwrap_or(u32::MAX);
                set.entries.push(Entry {
                    doc: u32::try_from(d).unwrap_or(u32::MAX),
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                });
                let half = match stmt.effect {
                    Effect::Allow => &mut set.allow,
                    Effect::Deny => &mut set.deny,
                };
                half.actions.add(id, stmt);
                half.resources.add(id, stmt);
                half.count += 1;
            }
        }
        set.allow.actions.finish();
        set.deny.actions.finish();
        set
    }

    /// The statement of an id.
    pub(crate) fn statement(&self, id: u32) -> Option<(&Arc<PolicyDoc>, usize, &Statement)> {
        let e = self.entries.get(id as usize)?;
        let doc = self.docs.get(e.doc as usize)?;
        let stmt = doc.policy.statements.get(e.index as usize)?;
        Some((doc, e.index as usize, stmt))
    }

    /// Candidate statement ids of `effect` for the request, sorted, into `scratch.cands`.
    /// `extra_resource` (a Deny also checked against a second resource) widens the set.
    pub(crate) fn candidates(
        &self,
        effect: Effect,
        action_lc: &str,
        resource: &str,
        extra_resource: Option<&str>,
        scratch: &mut Scratch,
    ) {
        let half = match effect {
            Effect::Allow => &self.allow,
            Effect::Deny => &self.deny,
        };
        scratch.cands.clear();
        if half.count == 0 {
            return;
        }
        let mut action_buf = std::mem::take(&mut scratch.action_buf);
        let by_action = half.actions.candidates(action_lc, &mut action_buf);
        let mut lists: Vec<&[u32]> = Vec::new();
        let by_resource = half.resources.lists(resource, &mut lists);
        // Drive with the smaller side: each alone holds every statement that can match.
        if extra_resource.is_some() || by_action.len() <= by_resource {
            scratch.cands.extend_from_slice(by_action);
        } else {
            for l in &lists {
                scratch.cands.extend_from_slice(l);
            }
            scratch.cands.sort_unstable();
            scratch.cands.dedup();
        }
        scratch.action_buf = action_buf;
    }

    /// Statements in the set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set has no statements.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate heap bytes of the indexes.
    pub fn index_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + [&self.allow, &self.deny]
                .iter()
                .map(|h| h.actions.heap_bytes() + h.resources.heap_bytes())
                .sum::<usize>()
    }

    /// A deterministic text dump of the indexes (for snapshot tests and `iamc compile --dump`).
    pub fn dump(&self) -> String {
        fn sorted(out: &mut String, label: &str, m: &HashMap<Box<str>, Vec<u32>>) {
            let mut keys: Vec<_> = m.iter().collect();
            keys.sort();
            for (k, v) in keys {
                out.push_str(&format!("  {label} {k:?} -> {v:?}\n"));
            }
        }
        let mut out = String::new();
        for (name, h) in [("allow", &self.allow), ("deny", &self.deny)] {
            if h.count == 0 {
                continue;
            }
            out.push_str(&format!("{name}: {} statements\n", h.count));
            sorted(&mut out, "action exact", &h.actions.exact);
            sorted(&mut out, "action prefix", &h.actions.prefix);
            for (s, raw, _, id) in &h.actions.globs {
                out.push_str(&format!("  action glob {s}:{raw} -> {id}\n"));
            }
            if !h.actions.always.is_empty() {
                out.push_str(&format!("  action any -> {:?}\n", h.actions.always));
            }
            sorted(&mut out, "resource exact", &h.resources.exact);
            for line in h.resources.tree.dump() {
                out.push_str(&format!("  resource prefix {line}\n"));
            }
            if !h.resources.always.is_empty() {
                out.push_str(&format!("  resource any -> {:?}\n", h.resources.always));
            }
        }
        out
    }
}
