//! Completing a request from the store ([`Store::prepare`]), and the index an
//! [`crate::Authorizer`] keeps so that completing one costs a few hash lookups and copies no
//! tag: the keys the store adds for a principal or a resource are built once, as shared
//! [`Context`] layers, and every request that names them points at the same layer.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::{session_key, Store, Tags};
use crate::request::{Caller, Context, ContextValue, Request, Scalar};

/// The keys a tag map adds (`prefix` + key -> value), first key (in the map's order) wins
/// among keys equal but for case, as [`Context::insert_default`] keeps the first.
fn tag_layer(prefix: &str, tags: &Tags, userid: Option<&str>) -> Context {
    let mut c = Context::new();
    for (k, v) in tags {
        c.insert_default(
            &format!("{prefix}{k}"),
            ContextValue::One(Scalar::string(v)),
        );
    }
    if let Some(id) = userid {
        c.insert_default("aws:userid", ContextValue::One(Scalar::string(id)));
    }
    c
}

fn principal_tags(tags: &Tags, userid: Option<&str>) -> Arc<Context> {
    Arc::new(tag_layer("aws:PrincipalTag/", tags, userid))
}

/// The keys [`Request::derive_keys`] adds for `caller`, as a layer.
fn derived_layer(caller: Caller) -> Arc<Context> {
    let mut r = Request::new(caller, "", "");
    r.derive_keys();
    Arc::new(r.context)
}

/// The partition whose callers the index has derived keys for; a caller in another one gets
/// them computed ([`Request::derive_keys`]).
const PARTITION: &str = "aws";

/// A user's or role's layers: its tags (and a user's `aws:userid`), and the keys derived from
/// its ARN in [`PARTITION`].
#[derive(Debug)]
struct Principal {
    tags: Arc<Context>,
    derived: Arc<Context>,
}

/// What a role session takes from its role.
#[derive(Debug)]
struct RoleInfo {
    path: String,
    id: Option<String>,
    tags: Arc<Context>,
    /// The keys derived for any session of the role in [`PARTITION`] (they name the role,
    /// not the session).
    derived: Arc<Context>,
}

/// Per account, by the name as the store writes it (`path/name` for users and roles named by
/// their ARN).
type ByAccount<T> = HashMap<Box<str>, HashMap<Box<str>, T>>;

/// The layers of a store, built once ([`Store::prepare_index`]). A principal looked up under a
/// spelling the index does not have (a name in another case) is completed from the store
/// itself, the same way; resources are looked up by exact ARN on both sides, so the index is
/// complete for them.
#[derive(Debug, Default)]
pub(crate) struct PrepareIndex {
    /// Users by `path/name`: their tags and `aws:userid`.
    users: ByAccount<Principal>,
    /// Roles by `path/name`: their tags.
    roles_at: ByAccount<Principal>,
    /// Roles by name (role sessions name no path).
    roles: ByAccount<RoleInfo>,
    /// Resources with tags, by ARN.
    resources: HashMap<Box<str>, Arc<Context>>,
}

/// `/division/` + `alice` -> `division/alice`, as an ARN writes it.
fn path_name(path: &str, name: &str) -> Box<str> {
    let dirs = path.trim_matches('/');
    if dirs.is_empty() {
        name.into()
    } else {
        format!("{dirs}/{name}").into()
    }
}

fn get<'a, T>(m: &'a ByAccount<T>, account: &str, name: &str) -> Option<&'a T> {
    m.get(account)?.get(name)
}

impl Store {
    /// The layers of every principal and tagged resource of this store.
    pub(crate) fn prepare_index(&self) -> PrepareIndex {
        let mut idx = PrepareIndex::default();
        for (id, account) in self.accounts.iter() {
            let key: Box<str> = id.as_str().into();
            let users = idx.users.entry(key.clone()).or_default();
            for u in account.users.values() {
                let at = path_name(&u.path, &u.name);
                let caller = Caller::User {
                    partition: PARTITION.into(),
                    account: id.clone(),
                    path_name: at.to_string(),
                };
                users.insert(
                    at,
                    Principal {
                        tags: principal_tags(&u.tags, u.id.as_deref()),
                        derived: derived_layer(caller),
                    },
                );
            }
            let roles_at = idx.roles_at.entry(key.clone()).or_default();
            let roles = idx.roles.entry(key).or_default();
            for r in account.roles.values() {
                let tags = principal_tags(&r.tags, None);
                let at = path_name(&r.path, &r.name);
                let role = Caller::Role {
                    partition: PARTITION.into(),
                    account: id.clone(),
                    path_name: at.to_string(),
                };
                let session = Caller::RoleSession {
                    partition: PARTITION.into(),
                    account: id.clone(),
                    role_name: r.name.clone(),
                    session: String::new(),
                    role_path: r.path.clone(),
                };
                roles_at.insert(
                    at,
                    Principal {
                        tags: Arc::clone(&tags),
                        derived: derived_layer(role),
                    },
                );
                roles.insert(
                    r.name.as_str().into(),
                    RoleInfo {
                        path: r.path.clone(),
                        id: r.id.clone(),
                        tags,
                        derived: derived_layer(session),
                    },
                );
            }
        }
        for (arn, r) in self.resources.iter() {
            if !r.tags.is_empty() {
                idx.resources.insert(
                    Box::from(&**arn),
                    Arc::new(tag_layer("aws:ResourceTag/", &r.tags, None)),
                );
            }
        }
        idx
    }

    /// [`Store::prepare`], with the layers of `idx` (built from this very store) where it has
    /// them.
    pub(crate) fn complete(&self, req: &mut Request, idx: Option<&PrepareIndex>) {
        let account = req.caller.account().and_then(|a| self.accounts.get(a));
        // A role session: its role's path, id and tags.
        let mut role: Option<(Option<&str>, Arc<Context>)> = None;
        // The derived keys, when the index has them for this caller.
        let mut derived: Option<Arc<Context>> = None;
        if let Caller::RoleSession {
            account: acct,
            role_name,
            role_path,
            ..
        } = &mut req.caller
        {
            let found = idx.and_then(|i| get(&i.roles, acct, role_name));
            if let Some(info) = found {
                role_path.clone_from(&info.path);
                role = Some((info.id.as_deref(), Arc::clone(&info.tags)));
                derived = Some(Arc::clone(&info.derived));
            } else if let Some(r) = account.and_then(|a| a.role(role_name)) {
                role_path.clone_from(&r.path);
                role = Some((r.id.as_deref(), principal_tags(&r.tags, None)));
            }
        }
        let found: Option<&Principal> = match &req.caller {
            Caller::User {
                account: a,
                path_name,
                ..
            } => idx.and_then(|i| get(&i.users, a, path_name)),
            Caller::Role {
                account: a,
                path_name,
                ..
            } => idx.and_then(|i| get(&i.roles_at, a, path_name)),
            _ => None,
        };
        if let Some(p) = found {
            derived = Some(Arc::clone(&p.derived));
        }
        // Derived keys first: nothing the store adds has their names.
        match derived.filter(|_| req.caller.partition() == Some(PARTITION)) {
            Some(layer) => req.context.push_layer(layer),
            None => req.derive_keys(),
        }

        let caller = &req.caller;
        let session = if self.sessions.is_empty() {
            None
        } else {
            session_key(caller).and_then(|k| self.sessions.get(&k))
        };
        // Session tags come first: they override the principal's.
        if let Some(s) = session {
            req.context
                .push_layer(Arc::new(tag_layer("aws:PrincipalTag/", &s.tags, None)));
        }
        let principal: Option<Arc<Context>> = match caller {
            Caller::User { path_name, .. } => match found {
                Some(p) => Some(Arc::clone(&p.tags)),
                None => {
                    let user = account.and_then(|acc| acc.user_at(path_name));
                    user.map(|u| principal_tags(&u.tags, u.id.as_deref()))
                }
            },
            Caller::Role { path_name, .. } => match found {
                Some(p) => Some(Arc::clone(&p.tags)),
                None => {
                    let role = account.and_then(|acc| acc.role_at(path_name));
                    role.map(|r| principal_tags(&r.tags, None))
                }
            },
            Caller::RoleSession { session: name, .. } => match &role {
                Some((id, tags)) => {
                    if let Some(id) = id {
                        req.context.insert_default(
                            "aws:userid",
                            ContextValue::One(Scalar::string(format!("{id}:{name}"))),
                        );
                    }
                    Some(Arc::clone(tags))
                }
                None => None,
            },
            Caller::FederatedUser { .. } => {
                let user = session.and_then(|s| s.user.as_deref());
                user.and_then(|u| account.and_then(|a| a.user(u)))
                    .map(|u| principal_tags(&u.tags, None))
            }
            Caller::Root { .. } | Caller::Anonymous | Caller::Service { .. } => None,
        };
        if let Some(p) = principal {
            req.context.push_layer(p);
        }
        let resource = match idx {
            Some(i) => i.resources.get(req.resource.as_str()).cloned(),
            None => self
                .resources
                .get(req.resource.as_str())
                .map(|r| Arc::new(tag_layer("aws:ResourceTag/", &r.tags, None))),
        };
        if let Some(r) = resource {
            req.context.push_layer(r);
        }
    }
}
