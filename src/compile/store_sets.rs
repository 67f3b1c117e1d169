//! The compiled sets of a store, keyed by what a request names: its caller's account, user or
//! role name (any session of a role hits its role's sets, whatever the session's name), the
//! session for a session policy, and the resource ARN.
//!
//! Built from what the store declares, never from probe requests; the engine keeps no
//! [`Store`]. Every lookup mirrors [`Store::caller_inputs`] and [`Store::resource_side`] (the
//! agreement tests hold the two to the same answers), and an update to one resource builds a
//! new value that shares every other compiled set.

use std::borrow::Cow;
use std::sync::Arc;

use super::builder::{BuildError, Counter, EngineLimits, Totals};
use super::set::CompiledSet;
use crate::ast::PolicyDoc;
use crate::ast::PolicyType;
use crate::request::Caller;
use crate::store::{Account, Store, User};
use rustc_hash::FxHashMap;

/// A user's or role's compiled sets.
#[derive(Debug)]
struct PrincipalSets {
    /// The path the caller's ARN must carry (`/` by default).
    path: Box<str>,
    identity: Option<Arc<CompiledSet>>,
    boundary: Option<Arc<CompiledSet>>,
}

/// A session entry of the store: its session policy and, for a federated user, the IAM user
/// (lower-cased name) whose policies apply.
#[derive(Debug)]
struct SessionSets {
    partition: Box<str>,
    policy: Option<Arc<CompiledSet>>,
    user: Option<Box<str>>,
}

/// What one account has: principals, sessions, and its SCP and RCP levels.
#[derive(Debug, Default)]
struct AccountSets {
    /// By lower-cased name.
    users: FxHashMap<Box<str>, PrincipalSets>,
    /// By lower-cased name.
    roles: FxHashMap<Box<str>, PrincipalSets>,
    /// Role sessions the store lists: lower-cased role name -> session name -> entry.
    role_sessions: FxHashMap<Box<str>, FxHashMap<Box<str>, SessionSets>>,
    /// Federated users the store lists, by name.
    federated: FxHashMap<Box<str>, SessionSets>,
    scps: Vec<Arc<CompiledSet>>,
    rcps: Vec<Arc<CompiledSet>>,
}

/// The caller's compiled sets, borrowed from the engine.
#[derive(Default)]
pub(crate) struct CallerLayers<'a> {
    pub identity: Option<&'a CompiledSet>,
    pub boundary: Option<&'a CompiledSet>,
    pub session: Option<&'a CompiledSet>,
    pub scps: &'a [Arc<CompiledSet>],
}

/// A principal's identity set and boundary.
fn principal(p: Option<&PrincipalSets>) -> (Option<&CompiledSet>, Option<&CompiledSet>) {
    (
        p.and_then(|p| p.identity.as_deref()),
        p.and_then(|p| p.boundary.as_deref()),
    )
}

/// Every compiled set of a store.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoreSets {
    accounts: Arc<FxHashMap<Box<str>, AccountSets>>,
    /// Resource policies by ARN. Keys are shared, so a copy for an update costs reference
    /// counts, not string copies.
    policies: FxHashMap<Arc<str>, Arc<CompiledSet>>,
}

/// Compiles each distinct list of policies once: users with the same policies share a set,
/// and a rebuild reuses every set whose policies are equal to a list it already compiled.
struct Compiler {
    /// Compiled sets by their policies' ids and types; a set is reused only for policies equal
    /// to its own (the same documents, or documents with the same id, type and statements).
    sets: FxHashMap<DocsKey, Vec<Arc<CompiledSet>>>,
    counter: Counter,
}

impl Compiler {
    fn new(limits: EngineLimits) -> Compiler {
        Compiler {
            sets: FxHashMap::default(),
            counter: Counter::new(limits),
        }
    }

    /// Makes `set` reusable by later lists of equal policies.
    fn offer(&mut self, set: &Arc<CompiledSet>) {
        let bucket = self.sets.entry(key_of(&set.docs)).or_default();
        if !bucket.iter().any(|s| Arc::ptr_eq(s, set)) {
            bucket.push(Arc::clone(set));
        }
    }

    fn set(&mut self, docs: &[Arc<PolicyDoc>]) -> Result<Option<Arc<CompiledSet>>, BuildError> {
        if docs.is_empty() {
            return Ok(None);
        }
        let bucket = self.sets.entry(key_of(docs)).or_default();
        let set = match bucket.iter().find(|s| same_docs(&s.docs, docs)) {
            Some(s) => Arc::clone(s),
            None => {
                let s = Arc::new(CompiledSet::new(docs.to_vec()));
                bucket.push(Arc::clone(&s));
                s
            }
        };
        self.counter.count(&set)?;
        Ok(Some(set))
    }

    fn levels(
        &mut self,
        levels: &[Vec<Arc<PolicyDoc>>],
    ) -> Result<Vec<Arc<CompiledSet>>, BuildError> {
        let mut out = Vec::with_capacity(levels.len());
        for l in levels {
            out.extend(self.set(l)?);
        }
        Ok(out)
    }

    fn one(
        &mut self,
        doc: &Option<Arc<PolicyDoc>>,
    ) -> Result<Option<Arc<CompiledSet>>, BuildError> {
        self.set(doc.as_slice())
    }

    /// A user's identity policies: its own, then each group's, each policy once (as
    /// [`Store::caller_inputs`] lists them).
    fn user(&mut self, account: &Account, user: &User) -> Result<PrincipalSets, BuildError> {
        let mut docs: Vec<Arc<PolicyDoc>> = Vec::new();
        let groups = user.groups.iter().filter_map(|g| account.group(g));
        for p in user.policies.iter().chain(groups.flat_map(|g| &g.policies)) {
            if !docs.iter().any(|d| Arc::ptr_eq(d, p)) {
                docs.push(Arc::clone(p));
            }
        }
        Ok(PrincipalSets {
            path: user.path.as_str().into(),
            identity: self.set(&docs)?,
            boundary: self.one(&user.boundary)?,
        })
    }
}

/// Whether two lists of policies are equal: the same documents, or equal ones (a store loaded
/// again has new documents for the policies it did not change).
fn same_docs(a: &[Arc<PolicyDoc>], b: &[Arc<PolicyDoc>]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| Arc::ptr_eq(x, y) || **x == **y)
}

/// The key of a list of policies: their ids and types.
type DocsKey = Vec<(Arc<str>, PolicyType)>;

/// The key of `docs`.
fn key_of(docs: &[Arc<PolicyDoc>]) -> DocsKey {
    docs.iter().map(|d| (Arc::clone(&d.id), d.ty)).collect()
}

/// `name` in ASCII lower case, without a copy when it already is.
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Whether an ARN's `path/name` (`division/alice`) carries `path` (`/division/`).
fn path_matches(path_name: &str, path: &str) -> bool {
    match path_name.rsplit_once('/') {
        Some((dirs, _)) => path
            .strip_prefix('/')
            .and_then(|p| p.strip_suffix('/'))
            .is_some_and(|inner| inner == dirs),
        None => path == "/",
    }
}

impl StoreSets {
    /// Compiles every set the store declares, within `limits`, with the totals it holds. A list
    /// of policies `previous` has compiled already (the same documents, as a store copied from
    /// another shares them, or equal ones, as a store loaded again has) is not compiled again.
    pub(crate) fn build_reusing(
        store: &Store,
        previous: Option<&StoreSets>,
        limits: EngineLimits,
    ) -> Result<(StoreSets, Totals), BuildError> {
        let mut c = Compiler::new(limits);
        for set in previous.map(StoreSets::all_shared).unwrap_or_default() {
            c.offer(set);
        }
        let mut accounts: FxHashMap<Box<str>, AccountSets> = FxHashMap::default();
        for account in store.accounts() {
            let a = accounts.entry(account.id.as_str().into()).or_default();
            for u in account.users() {
                a.users
                    .insert(u.name.to_ascii_lowercase().into(), c.user(account, u)?);
            }
            for r in account.roles() {
                let sets = PrincipalSets {
                    path: r.path.as_str().into(),
                    identity: c.set(&r.policies)?,
                    boundary: c.one(&r.boundary)?,
                };
                a.roles.insert(r.name.to_ascii_lowercase().into(), sets);
            }
        }
        for s in store.sessions() {
            let Ok(caller) = Caller::parse(&s.arn) else {
                continue;
            };
            let policy = c.one(&s.policy)?;
            match caller {
                Caller::RoleSession {
                    partition,
                    account,
                    role_name,
                    session,
                    ..
                } => {
                    accounts
                        .entry(account.into())
                        .or_default()
                        .role_sessions
                        .entry(role_name.to_ascii_lowercase().into())
                        .or_default()
                        .insert(
                            session.into(),
                            SessionSets {
                                partition: partition.into(),
                                policy,
                                user: None,
                            },
                        );
                }
                Caller::FederatedUser {
                    partition,
                    account,
                    name,
                } => {
                    accounts
                        .entry(account.into())
                        .or_default()
                        .federated
                        .insert(
                            name.into(),
                            SessionSets {
                                partition: partition.into(),
                                policy,
                                user: s.user.as_deref().map(|u| u.to_ascii_lowercase().into()),
                            },
                        );
                }
                _ => {}
            }
        }
        if let Some(org) = store.organization() {
            for id in org.accounts.keys() {
                let scps = c.levels(&store.scp_levels(id))?;
                let rcps = c.levels(&store.rcp_levels(id))?;
                if scps.is_empty() && rcps.is_empty() {
                    continue;
                }
                let a = accounts.entry(id.as_str().into()).or_default();
                a.scps = scps;
                a.rcps = rcps;
            }
        }
        let mut policies = FxHashMap::default();
        for r in store.resources() {
            if let Some(set) = c.one(&r.policy)? {
                policies.insert(Arc::from(r.arn.as_str()), set);
            }
        }
        let sets = StoreSets {
            accounts: Arc::new(accounts),
            policies,
        };
        Ok((sets, c.counter.totals))
    }

    /// The caller's sets ([`Store::caller_inputs`], compiled).
    pub(crate) fn caller(&self, caller: &Caller) -> CallerLayers<'_> {
        let Some(account) = caller.account().and_then(|a| self.accounts.get(a)) else {
            return CallerLayers::default();
        };
        let ((identity, boundary), session) = match caller {
            Caller::User { path_name, .. } => {
                let name = path_name.rsplit('/').next().unwrap_or(path_name);
                let user = account
                    .users
                    .get(lower(name).as_ref())
                    .filter(|u| path_matches(path_name, &u.path));
                (principal(user), None)
            }
            Caller::Role { path_name, .. } => {
                let name = path_name.rsplit('/').next().unwrap_or(path_name);
                let role = account
                    .roles
                    .get(lower(name).as_ref())
                    .filter(|r| path_matches(path_name, &r.path));
                (principal(role), None)
            }
            Caller::RoleSession {
                partition,
                role_name,
                session,
                ..
            } => {
                let role_lc = lower(role_name);
                let role = account.roles.get(role_lc.as_ref());
                let s = account
                    .role_sessions
                    .get(role_lc.as_ref())
                    .and_then(|m| m.get(session.as_str()))
                    .filter(|s| *s.partition == **partition);
                (principal(role), s.and_then(|s| s.policy.as_deref()))
            }
            Caller::FederatedUser {
                partition, name, ..
            } => {
                let s = account
                    .federated
                    .get(name.as_str())
                    .filter(|s| *s.partition == **partition);
                let user = s
                    .and_then(|s| s.user.as_deref())
                    .and_then(|u| account.users.get(u));
                (principal(user), s.and_then(|s| s.policy.as_deref()))
            }
            Caller::Root { .. } | Caller::Anonymous | Caller::Service { .. } => {
                ((None, None), None)
            }
        };
        CallerLayers {
            identity,
            boundary,
            session,
            scps: &account.scps,
        }
    }

    /// The resource's policy ([`Store::resource`], compiled).
    pub(crate) fn resource_policy(&self, arn: &str) -> Option<&CompiledSet> {
        if self.policies.is_empty() {
            return None;
        }
        self.policies.get(arn).map(|s| &**s)
    }

    /// The RCP levels of resources of `account`.
    pub(crate) fn rcps(&self, account: &str) -> &[Arc<CompiledSet>] {
        self.accounts
            .get(account)
            .map(|a| a.rcps.as_slice())
            .unwrap_or_default()
    }

    /// The same sets with the policy of `arn` replaced (`None`: removed), and `totals`
    /// updated, if they stay within `limits`. Only that policy is compiled; every other set is
    /// shared with `self`.
    pub(crate) fn with_resource_policy(
        &self,
        arn: &str,
        policy: Option<Arc<PolicyDoc>>,
        totals: &mut Totals,
        limits: &EngineLimits,
    ) -> Result<Self, BuildError> {
        let mut next = totals.clone();
        if let Some(old) = self.policies.get(arn) {
            next.remove(old);
        }
        let mut policies = self.policies.clone();
        match policy {
            Some(doc) => {
                let set = Arc::new(CompiledSet::new(vec![doc]));
                next.add(&set, limits)?;
                policies.insert(arn.into(), set);
            }
            None => {
                policies.remove(arn);
            }
        }
        *totals = next;
        Ok(StoreSets {
            accounts: Arc::clone(&self.accounts),
            policies,
        })
    }

    /// Every distinct compiled set, once.
    pub(crate) fn all(&self) -> Vec<&CompiledSet> {
        self.all_shared().into_iter().map(|s| &**s).collect()
    }

    /// [`StoreSets::all`], as the shared sets.
    fn all_shared(&self) -> Vec<&Arc<CompiledSet>> {
        let mut every: Vec<&Arc<CompiledSet>> = Vec::new();
        for a in self.accounts.values() {
            for p in a.users.values().chain(a.roles.values()) {
                every.extend(p.identity.iter().chain(&p.boundary));
            }
            let sessions = a
                .role_sessions
                .values()
                .flat_map(|m| m.values())
                .chain(a.federated.values());
            every.extend(sessions.filter_map(|s| s.policy.as_ref()));
            every.extend(a.scps.iter().chain(&a.rcps));
        }
        every.extend(self.policies.values());
        let mut seen = std::collections::HashSet::new();
        every
            .into_iter()
            .filter(|s| seen.insert(Arc::as_ptr(s) as usize))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::ast::PolicyType;
    use crate::parse::{parse_policy, Limits};

    const STORE: &str = r#"{"version": 1,
      "accounts": {"111122223333": {
        "roles": {"App": {"path": "/teams/", "inline": {"p": {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}}}},
        "users": {"alice": {"inline": {"p": {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "kinesis:Get*", "Resource": "*"}]}}}}}},
      "sessions": {"arn:aws:sts::111122223333:assumed-role/app/known": {"policy": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "*"}]}}},
      "resources": {
        "arn:aws:kinesis:us-east-1:111122223333:stream/a": {"type": "resource", "policy": {
          "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
          "Action": "kinesis:GetRecords", "Resource": "*"}]}},
        "arn:aws:kinesis:us-east-1:111122223333:stream/b": {"type": "resource", "policy": {
          "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
          "Action": "kinesis:GetRecords", "Resource": "*"}]}}}}"#;

    fn build(store: &Store) -> StoreSets {
        StoreSets::build_reusing(store, None, EngineLimits::default())
            .unwrap()
            .0
    }

    fn sets() -> StoreSets {
        build(&Store::from_str(STORE, None).unwrap())
    }

    fn ptr(s: Option<&CompiledSet>) -> Option<*const CompiledSet> {
        s.map(|s| s as *const _)
    }

    #[test]
    fn a_session_never_seen_hits_its_roles_compiled_sets() {
        let sets = sets();
        let caller = |arn: &str| Caller::parse(arn).unwrap();
        let role = sets.caller(&caller("arn:aws:iam::111122223333:role/teams/App"));
        assert!(role.identity.is_some());
        for name in ["known", "i-0123456789abcdef0", "x"] {
            let s = sets.caller(&caller(&format!(
                "arn:aws:sts::111122223333:assumed-role/APP/{name}"
            )));
            // The role's own compiled set, whatever the session's name or the role's case.
            assert_eq!(ptr(s.identity), ptr(role.identity), "{name}");
            // Only the listed session has a session policy.
            assert_eq!(s.session.is_some(), name == "known", "{name}");
        }
        // A role ARN must carry the role's path; a user ARN the user's.
        assert!(sets
            .caller(&caller("arn:aws:iam::111122223333:role/App"))
            .identity
            .is_none());
        assert!(sets
            .caller(&caller("arn:aws:iam::111122223333:user/ALICE"))
            .identity
            .is_some());
        assert!(sets
            .caller(&caller("arn:aws:iam::111122223333:user/x/alice"))
            .identity
            .is_none());
    }

    #[test]
    fn a_resource_policy_update_shares_every_other_set() {
        let old = sets();
        let a = "arn:aws:kinesis:us-east-1:111122223333:stream/a";
        let b = "arn:aws:kinesis:us-east-1:111122223333:stream/b";
        let doc = PolicyDoc::new(
            "new",
            PolicyType::Resource,
            parse_policy(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#,
                &Limits::default(),
            )
            .unwrap(),
        );
        let (mut totals, limits) = (Totals::default(), EngineLimits::default());
        let new = old
            .with_resource_policy(a, Some(doc), &mut totals, &limits)
            .unwrap();
        assert_eq!(&*new.resource_policy(a).unwrap().docs[0].id, "new");
        assert_eq!(ptr(new.resource_policy(b)), ptr(old.resource_policy(b)));
        assert!(Arc::ptr_eq(&new.accounts, &old.accounts));
        let removed = new
            .with_resource_policy(a, None, &mut totals, &limits)
            .unwrap();
        assert!(removed.resource_policy(a).is_none());
        // A rebuild over the same store compiles nothing: every set is the old one.
        let store = Store::from_str(STORE, None).unwrap();
        let first = build(&store);
        let (again, _) =
            StoreSets::build_reusing(&store, Some(&first), EngineLimits::default()).unwrap();
        let (sets, reused) = (first.all(), again.all());
        assert_eq!(sets.len(), reused.len());
        assert!(reused
            .iter()
            .all(|s| sets.iter().any(|t| std::ptr::eq(*s, *t))));
        // The old value is untouched.
        assert_ne!(&*old.resource_policy(a).unwrap().docs[0].id, "new");
    }

    #[test]
    fn a_store_loaded_again_reuses_every_set_of_equal_policies() {
        let first = build(&Store::from_str(STORE, None).unwrap());
        // The same text loaded again: new documents, equal to the old ones.
        let again = Store::from_str(STORE, None).unwrap();
        let (reused, totals) =
            StoreSets::build_reusing(&again, Some(&first), EngineLimits::default()).unwrap();
        let old = first.all();
        assert!(reused
            .all()
            .iter()
            .all(|s| old.iter().any(|t| std::ptr::eq(*s, *t))));
        assert_eq!(totals.sets, old.len());
        // One role's policy changed: that set is new, every other one is the old one.
        let changed = STORE.replace(r#""Action": "kinesis:*""#, r#""Action": "kinesis:List*""#);
        let changed = Store::from_str(&changed, None).unwrap();
        let (next, _) =
            StoreSets::build_reusing(&changed, Some(&first), EngineLimits::default()).unwrap();
        let role = Caller::parse("arn:aws:iam::111122223333:role/teams/App").unwrap();
        let alice = Caller::parse("arn:aws:iam::111122223333:user/alice").unwrap();
        assert_ne!(
            ptr(next.caller(&role).identity),
            ptr(first.caller(&role).identity)
        );
        assert_eq!(
            ptr(next.caller(&alice).identity),
            ptr(first.caller(&alice).identity)
        );
        let a = "arn:aws:kinesis:us-east-1:111122223333:stream/a";
        assert_eq!(ptr(next.resource_policy(a)), ptr(first.resource_policy(a)));
    }

    #[test]
    fn limits_stop_a_build_and_an_update_with_a_typed_error() {
        let store = Store::from_str(STORE, None).unwrap();
        let (sets, totals) =
            StoreSets::build_reusing(&store, None, EngineLimits::default()).unwrap();
        // Two identity sets, one session policy, two resource policies: 5 statements.
        assert_eq!((totals.sets, totals.statements), (5, 5));
        let tight = EngineLimits {
            max_statements: 4,
            ..EngineLimits::default()
        };
        assert_eq!(
            StoreSets::build_reusing(&store, None, tight).unwrap_err(),
            BuildError::TooManyStatements {
                limit: 4,
                statements: 5
            }
        );
        let few_sets = EngineLimits {
            max_sets: 2,
            ..EngineLimits::default()
        };
        assert!(matches!(
            StoreSets::build_reusing(&store, None, few_sets),
            Err(BuildError::TooManySets { limit: 2 })
        ));
        // An update over the limit fails and leaves the totals as they were; one within it
        // replaces the old set's count.
        let exact = EngineLimits {
            max_statements: 5,
            ..EngineLimits::default()
        };
        let doc = PolicyDoc::new(
            "two",
            PolicyType::Resource,
            parse_policy(
                r#"{"Version":"2012-10-17","Statement":[
                  {"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"},
                  {"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
                &Limits::default(),
            )
            .unwrap(),
        );
        let a = "arn:aws:kinesis:us-east-1:111122223333:stream/a";
        let new = "arn:aws:kinesis:us-east-1:111122223333:stream/new";
        let mut t = totals.clone();
        assert!(sets
            .with_resource_policy(new, Some(Arc::clone(&doc)), &mut t, &exact)
            .is_err());
        assert_eq!(t.statements, 5);
        let mut t = totals.clone();
        let big = EngineLimits {
            max_statements: 6,
            ..EngineLimits::default()
        };
        sets.with_resource_policy(a, Some(doc), &mut t, &big)
            .unwrap();
        assert_eq!((t.sets, t.statements), (5, 6));
    }
}
