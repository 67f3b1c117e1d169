//! A compiled policy set: the statements of one layer (say, a caller's identity policies, or
//! one SCP level) with an action index and a resource index per effect.
//!
//! The indexes are a conservative prefilter: for a request they return every statement that
//! could match, perhaps some that do not, and never fewer (OPA's rule index works the same
//! way). Each candidate is then checked in full by the same code as the reference evaluator.

use std::sync::Arc;

use super::radix::Radix;
use crate::ast::PolicyDoc;
use crate::ast::{ArnForm, Effect, Statement};
use crate::catalog::{self, ActionId};
use crate::eval::matching::action_matches;
use rustc_hash::FxHashMap as HashMap;

/// One statement of the set.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) doc: u32,
    pub(crate) index: u32,
    pub(crate) effect: Effect,
}

/// A compiled policy set.
#[derive(Clone, Debug, Default)]
pub struct CompiledSet {
    pub(crate) docs: Vec<Arc<PolicyDoc>>,
    /// Every statement, in policy then statement order; ids index this.
    pub(crate) entries: Vec<Entry>,
    pub(crate) index: Index,
}

/// The indexes of a set: each statement is in one of them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    pub(crate) actions: ActionIndex,
    pub(crate) resources: ResourceIndex,
}

/// Action patterns sorted into the cheapest strategy (globset's habit): exact names, literal
/// prefixes before one trailing `*`, other globs, and statements that match (almost) any
/// action.
///
/// Actions are interned: for every catalog action (by its dense [`ActionId`], resolved once per
/// request) and every literal action name of the set, the statements whose `Action` or
/// `NotAction` element matches it are worked out at build time with the reference matcher, so
/// that list is exact and its statements' action need not be checked again ([`proven`]). Any
/// other action is looked up through the patterns at request time, and its candidates are
/// checked in full.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActionIndex {
    exact: HashMap<Box<str>, Vec<u32>>,
    prefix: HashMap<Box<str>, Vec<u32>>,
    prefix_lens: Vec<usize>,
    globs: Vec<(Box<str>, Box<str>, crate::glob::Glob, u32)>,
    always: Vec<u32>,
    /// Per catalog action id: the matching statements ([`proven`] candidates).
    by_id: Vec<Box<[u32]>>,
    /// The same for literal action names of the set that the catalog does not know.
    memo: HashMap<Box<str>, Box<[u32]>>,
}

/// A candidate whose action is known to match (bit 0 set): `id << 1 | 1`. Statement ids are
/// below 2^31 (a set that large would not fit in memory).
pub(crate) fn proven(id: u32) -> u32 {
    id << 1 | 1
}

/// A candidate whose every element must still be checked: `id << 1`.
pub(crate) fn unproven(id: u32) -> u32 {
    id << 1
}

/// Resource patterns: exact ARNs in a hash map, everything else by its literal prefix in a
/// radix tree; statements with `*`, `NotResource` or no `Resource` are always candidates.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResourceIndex {
    exact: HashMap<Box<str>, Vec<u32>>,
    /// Prefix patterns, first by their ARN head (`arn:aws:kinesis:us-east-1:111122223333:`, one
    /// hash lookup), then by the rest of their literal prefix in a radix tree.
    heads: HashMap<Box<str>, Radix>,
    /// Prefix patterns whose literal prefix ends before the resource part.
    tree: Radix,
    always: Vec<u32>,
}

/// The first five fields of an ARN with their colons (`arn:aws:kinesis:us-east-1:111122223333:`),
/// and the rest; `None` when there are fewer than five colons.
fn split_head(s: &str) -> Option<(&str, &str)> {
    let mut colons = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b':' {
            colons += 1;
            if colons == 5 {
                return Some((s.get(..=i)?, s.get(i + 1..)?));
            }
        }
    }
    None
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

    fn finish<'a>(&mut self, statement: impl Fn(u32) -> Option<&'a Statement>) {
        let mut lens: Vec<usize> = self.prefix.keys().map(|k| k.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        self.prefix_lens = lens;
        let mut buf = Vec::new();
        let mut exact_for = |this: &ActionIndex, action_lc: &str| -> Box<[u32]> {
            this.compute(action_lc, &mut buf);
            buf.iter()
                .copied()
                .filter(|&id| statement(id).is_some_and(|s| action_matches(&s.action, action_lc)))
                .map(proven)
                .collect()
        };
        let by_id: Vec<Box<[u32]>> = catalog::actions()
            .iter()
            .map(|a| exact_for(self, &a.full_name().to_ascii_lowercase()))
            .collect();
        let mut memo = HashMap::default();
        let mut literal: Vec<&str> = self
            .exact
            .keys()
            .map(|k| &**k)
            .filter(|k| catalog::lookup_lc(k).is_none())
            .collect();
        literal.sort_unstable();
        for k in literal {
            let v = exact_for(self, k);
            if !v.is_empty() {
                memo.insert(Box::from(k), v);
            }
        }
        self.by_id = by_id;
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

    /// The candidates: precomputed and [`proven`] for interned actions, else computed into
    /// `buf` and [`unproven`].
    fn candidates<'a>(
        &'a self,
        action: Option<ActionId>,
        action_lc: &str,
        buf: &'a mut Vec<u32>,
    ) -> &'a [u32] {
        if let Some(id) = action {
            return self.by_id.get(usize::from(id)).map_or(&[], |v| &v[..]);
        }
        if let Some(v) = self.memo.get(action_lc) {
            return v;
        }
        self.compute(action_lc, buf);
        for c in buf.iter_mut() {
            *c = unproven(*c);
        }
        buf
    }

    fn heap_bytes(&self) -> usize {
        let map = |m: &HashMap<Box<str>, Vec<u32>>| {
            m.iter()
                .map(|(k, v)| k.len() + v.capacity() * 4 + 48)
                .sum::<usize>()
        };
        map(&self.exact)
            + map(&self.prefix)
            + self
                .memo
                .iter()
                .map(|(k, v)| k.len() + v.len() * 4 + 48)
                .sum::<usize>()
            + self.by_id.iter().map(|v| v.len() * 4 + 16).sum::<usize>()
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
            } else if p.template.is_literal() && p.form == ArnForm::Plain {
                push_unique(self.exact.entry(p.raw.as_str().into()).or_default(), id);
            } else {
                // A pattern with wildcards or variables, or a short ARN: whatever it matches
                // (the written glob or the completed form, spec §2.2 rule 4) starts with its
                // literal prefix.
                let prefix = p.template.literal_prefix();
                match split_head(&prefix) {
                    Some((head, rest)) => self
                        .heads
                        .entry(head.into())
                        .or_default()
                        .insert(rest.as_bytes(), id),
                    None => self.tree.insert(prefix.as_bytes(), id),
                }
            }
        }
    }

    /// Whether no statement is in this index.
    fn is_empty(&self) -> bool {
        self.always.is_empty()
            && self.exact.is_empty()
            && self.heads.is_empty()
            && self.tree.is_empty()
    }

    /// Appends the candidates for `resource` to `out`, [`unproven`].
    fn collect(&self, resource: &str, out: &mut Vec<u32>) {
        let mut add = |ids: &[u32]| out.extend(ids.iter().map(|&i| unproven(i)));
        add(&self.always);
        if let Some(v) = self.exact.get(resource) {
            add(v);
        }
        if !self.tree.is_empty() {
            self.tree.walk(resource.as_bytes(), &mut add);
        }
        if let Some((head, rest)) = split_head(resource) {
            if let Some(tree) = self.heads.get(head) {
                tree.walk(rest.as_bytes(), &mut add);
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.exact
            .iter()
            .map(|(k, v)| k.len() + v.capacity() * 4 + 48)
            .sum::<usize>()
            + self.tree.heap_bytes()
            + self
                .heads
                .iter()
                .map(|(k, t)| k.len() + 48 + t.heap_bytes())
                .sum::<usize>()
            + self.always.capacity() * 4
    }
}

/// Whether a statement is best found by its resource: a positive `Resource` element whose every
/// pattern's literal prefix reaches the resource part (five colons), so that it is keyed by
/// service, region and account at least.
fn resource_selective(stmt: &Statement) -> bool {
    match &stmt.resource {
        Some(el) if !el.negated && !el.patterns.is_empty() => el
            .patterns
            .iter()
            .all(|p| !p.is_star() && p.template.literal_prefix().matches(':').count() >= 5),
        _ => false,
    }
}

/// Sets with at most this many statements are scanned rather than looked up.
const SCAN_BELOW: usize = 16;

/// Scratch space for queries, owned by the caller (one per thread), so that queries allocate
/// little.
#[derive(Debug, Default)]
pub struct Scratch {
    pub(crate) cands: Vec<u32>,
    pub(crate) action_buf: Vec<u32>,
    /// The request's action, lower-cased.
    pub(crate) action_lc: String,
    /// Bumped for every decision, so that cached candidates never outlive one.
    pub(crate) generation: u64,
    /// What `cands` holds: (generation, set, resource, extra resource) addresses and lengths.
    key: (u64, usize, usize, usize, usize, usize),
}

impl CompiledSet {
    /// Compiles the statements of `docs`, in order. Each statement goes to the index where it
    /// is most selective: by resource when every pattern of its `Resource` has a literal prefix
    /// reaching into the resource part (`arn:aws:kinesis:us-east-1:111122223333:stream/…`),
    /// else by action.
    pub fn new(docs: Vec<Arc<PolicyDoc>>) -> CompiledSet {
        let mut set = CompiledSet {
            docs,
            ..CompiledSet::default()
        };
        // A small set keeps every statement in its action index, so an interned action finds
        // exactly its statements with one array index and no resource lookup.
        let small = set
            .docs
            .iter()
            .map(|d| d.policy.statements.len())
            .sum::<usize>()
            <= SCAN_BELOW;
        for (d, doc) in set.docs.iter().enumerate() {
            for (i, stmt) in doc.policy.statements.iter().enumerate() {
                let id = u32::try_from(set.entries.len()).unwrap_or(u32::MAX);
                set.entries.push(Entry {
                    doc: u32::try_from(d).unwrap_or(u32::MAX),
                    index: u32::try_from(i).unwrap_or(u32::MAX),
                    effect: stmt.effect,
                });
                if !small && resource_selective(stmt) {
                    set.index.resources.add(id, stmt);
                } else {
                    set.index.actions.add(id, stmt);
                }
            }
        }
        let (docs, entries) = (&set.docs, &set.entries);
        set.index.actions.finish(|id| {
            let e = entries.get(id as usize)?;
            docs.get(e.doc as usize)?
                .policy
                .statements
                .get(e.index as usize)
        });
        set
    }

    /// The statement of an id.
    pub(crate) fn statement(&self, id: u32) -> Option<(&Arc<PolicyDoc>, usize, &Statement)> {
        let e = self.entries.get(id as usize)?;
        let doc = self.docs.get(e.doc as usize)?;
        let stmt = doc.policy.statements.get(e.index as usize)?;
        Some((doc, e.index as usize, stmt))
    }

    /// Candidate statements (of both effects) for the request, [`proven`] or [`unproven`],
    /// sorted, into `scratch.cands`: the action index's candidates for the action (`action`:
    /// its catalog id, when it has one) and the resource index's
    /// for the resource (and for `extra_resource`, a second resource a Deny is also checked
    /// against). The Deny and Allow passes of one decision share the result.
    pub(crate) fn candidates(
        &self,
        action: Option<ActionId>,
        action_lc: &str,
        resource: &str,
        extra_resource: Option<&str>,
        scratch: &mut Scratch,
    ) {
        let key = (
            scratch.generation,
            self as *const CompiledSet as usize,
            resource.as_ptr() as usize,
            resource.len(),
            extra_resource.map_or(0, |r| r.as_ptr() as usize),
            extra_resource.map_or(0, str::len),
        );
        if scratch.key == key {
            return;
        }
        scratch.key = key;
        scratch.cands.clear();
        if self.entries.is_empty() {
            return;
        }
        // A small set is scanned whole for an action the catalog does not know: looking its
        // patterns up would cost more than checking every statement (the bypass OPA's rule
        // index has too).
        if action.is_none() && self.entries.len() <= SCAN_BELOW {
            scratch
                .cands
                .extend((0..u32::try_from(self.entries.len()).unwrap_or(u32::MAX)).map(unproven));
            return;
        }
        let mut action_buf = std::mem::take(&mut scratch.action_buf);
        scratch
            .cands
            .extend_from_slice(
                self.index
                    .actions
                    .candidates(action, action_lc, &mut action_buf),
            );
        scratch.action_buf = action_buf;
        let before = scratch.cands.len();
        if !self.index.resources.is_empty() {
            for r in std::iter::once(resource).chain(extra_resource) {
                self.index.resources.collect(r, &mut scratch.cands);
            }
        }
        if scratch.cands.len() > before {
            scratch.cands.sort_unstable();
            // One entry per statement; where both forms are there, the unproven one (first).
            scratch.cands.dedup_by(|b, a| *a >> 1 == *b >> 1);
        }
    }

    /// The effect of a statement id.
    pub(crate) fn effect(&self, id: u32) -> Option<Effect> {
        self.entries.get(id as usize).map(|e| e.effect)
    }

    /// Statements in the set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Approximate heap bytes of the indexes.
    pub fn index_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.index.actions.heap_bytes()
            + self.index.resources.heap_bytes()
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
        {
            let h = &self.index;
            let deny = self
                .entries
                .iter()
                .filter(|e| e.effect == Effect::Deny)
                .count();
            out.push_str(&format!(
                "statements: {} ({} allow, {deny} deny)\n",
                self.entries.len(),
                self.entries.len() - deny
            ));
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
            let mut heads: Vec<_> = h.resources.heads.iter().collect();
            heads.sort_by(|a, b| a.0.cmp(b.0));
            for (head, tree) in heads {
                for line in tree.dump() {
                    out.push_str(&format!("  resource prefix {head:?} + {line}\n"));
                }
            }
            if !h.resources.always.is_empty() {
                out.push_str(&format!("  resource any -> {:?}\n", h.resources.always));
            }
        }
        out
    }
}
