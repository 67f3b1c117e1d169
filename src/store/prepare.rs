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

/// What a role session takes from its role.
#[derive(Debug)]
struct RoleInfo {
    path: String,
    id: Option<String>,
    tags: Arc<Context>,
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
    users: ByAccount<Arc<Context>>,
    /// Roles by `path/name`: their tags.
    roles_at: ByAccount<Arc<Context>>,
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
                users.insert(
                    path_name(&u.path, &u.name),
                    principal_tags(&u.tags, u.id.as_deref()),
                );
            }
            let roles_at = idx.roles_at.entry(key.clone()).or_default();
            let roles = idx.roles.entry(key).or_default();
            for r in account.roles.values() {
                let tags = principal_tags(&r.tags, None);
                roles_at.insert(path_name(&r.path, &r.name), Arc::clone(&tags));
                roles.insert(
                    r.name.as_str().into(),
                    RoleInfo {
                        path: r.path.clone(),
                        id: r.id.clone(),
                        tags,
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
            } else if let Some(r) = account.and_then(|a| a.role(role_name)) {
                role_path.clone_from(&r.path);
                role = Some((r.id.as_deref(), principal_tags(&r.tags, None)));
            }
        }
        req.derive_keys();

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
            Caller::User {
                account: a,
                path_name,
                ..
            } => idx
                .and_then(|i| get(&i.users, a, path_name).cloned())
                .or_else(|| {
                    let user = account.and_then(|acc| acc.user_at(path_name))?;
                    Some(principal_tags(&user.tags, user.id.as_deref()))
                }),
            Caller::Role {
                account: a,
                path_name,
                ..
            } => idx
                .and_then(|i| get(&i.roles_at, a, path_name).cloned())
                .or_else(|| {
                    let role = account.and_then(|acc| acc.role_at(path_name))?;
                    Some(principal_tags(&role.tags, None))
                }),
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
