//! Reading the organization (SCP and RCP levels) and the accounts' users, groups and roles.

use super::*;
use crate::diag::Code;

impl Loader<'_> {
    /// `organization`.
    pub(super) fn organization(&mut self, node: &JsonNode, pointer: &str) -> Option<Organization> {
        let f = self
            .w
            .object(node, pointer, ORGANIZATION_FIELDS, "`organization`")?;
        let mut org = Organization::default();
        if let Some((v, ptr)) = f.get("management_account") {
            if let Some(id) = self.w.string(v, &ptr, "`management_account`") {
                if self.account_id(id, &ptr, v.span) {
                    org.management_account = Some(id.to_string());
                }
            }
        }
        let Some((accounts, aptr)) = f.get("accounts") else {
            return Some(org);
        };
        let Some(members) = self.w.map(accounts, &aptr, "`organization.accounts`") else {
            return Some(org);
        };
        for (key, entry) in members {
            let ptr = child_pointer(&aptr, &key.name);
            self.account_id(&key.name, &ptr, key.span);
            let Some(f) = self
                .w
                .object(entry, &ptr, ORG_ACCOUNT_FIELDS, "an organization account")
            else {
                continue;
            };
            let mut acct = OrgAccount::default();
            if let Some((v, p)) = f.get("scps") {
                acct.scps = self.levels(v, &p, PolicyType::Scp, &key.name);
            }
            if let Some((v, p)) = f.get("rcps") {
                acct.rcps = self.levels(v, &p, PolicyType::Rcp, &key.name);
            }
            org.accounts.insert(key.name.clone(), acct);
        }
        Some(org)
    }

    /// SCP or RCP levels: an array of non-empty arrays of policies.
    pub(super) fn levels(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        ty: PolicyType,
        account: &str,
    ) -> Vec<Vec<Arc<PolicyDoc>>> {
        let what = format!("the {} levels", ty.as_str().to_uppercase());
        let Some(levels) = self.array(node, pointer, &what) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            let lptr = child_pointer(pointer, &i.to_string());
            let Some(items) = self.array(level, &lptr, "a level (an array of policies)") else {
                continue;
            };
            if items.is_empty() {
                self.w.error_help(
                    Code::StoreWrongType,
                    format!("{} level {i} is empty", ty.as_str().to_uppercase()),
                    "each level (root, OU, account) holds at least one policy; an empty level \
                     would allow nothing",
                    &lptr,
                    level.span,
                );
                continue;
            }
            let mut docs = Vec::new();
            for (j, item) in items.iter().enumerate() {
                let iptr = child_pointer(&lptr, &j.to_string());
                let slot = Slot {
                    ty,
                    id: format!("{ty}/{account}/{i}/{j}"),
                    attached_to: None,
                    names: Names::Allowed,
                };
                if let Some(d) = self.policy_ref(item, &iptr, &slot) {
                    docs.push(d);
                }
            }
            out.push(docs);
        }
        out
    }

    /// `accounts`.
    pub(super) fn accounts(&mut self, node: &JsonNode, pointer: &str) -> BTreeMap<String, Account> {
        let mut out = BTreeMap::new();
        let Some(members) = self.w.map(node, pointer, "`accounts`") else {
            return out;
        };
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            self.account_id(&key.name, &ptr, key.span);
            let Some(f) = self.w.object(entry, &ptr, ACCOUNT_FIELDS, "an account") else {
                continue;
            };
            let prefix = if self.account_prefix {
                format!("{}/", key.name)
            } else {
                String::new()
            };
            let mut acct = Account {
                id: key.name.clone(),
                ..Account::default()
            };
            // Groups first: users refer to them.
            if let Some((v, p)) = f.get("groups") {
                for (name, gptr, g) in self.principals(v, &p, "group") {
                    if let Some(group) = self.group(name, g, &gptr, &prefix) {
                        acct.groups.insert(name.to_ascii_lowercase(), group);
                    }
                }
            }
            if let Some((v, p)) = f.get("roles") {
                for (name, rptr, r) in self.principals(v, &p, "role") {
                    if let Some(role) = self.role(name, r, &rptr, &prefix) {
                        acct.roles.insert(name.to_ascii_lowercase(), role);
                    }
                }
            }
            if let Some((v, p)) = f.get("users") {
                for (name, uptr, u) in self.principals(v, &p, "user") {
                    if let Some(user) = self.user(name, u, &uptr, &prefix, &acct) {
                        acct.users.insert(name.to_ascii_lowercase(), user);
                    }
                }
            }
            out.insert(key.name.clone(), acct);
        }
        out
    }

    /// The entries of `users`, `groups` or `roles` with valid, case-distinct names.
    pub(super) fn principals<'n>(
        &mut self,
        node: &'n JsonNode,
        pointer: &str,
        kind: &str,
    ) -> Vec<(&'n str, String, &'n JsonNode)> {
        let Some(members) = self.w.map(node, pointer, &format!("`{kind}s`")) else {
            return Vec::new();
        };
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut out = Vec::new();
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            if !valid_name(&key.name) {
                self.w.error(
                    Code::StoreWrongType,
                    format!(
                        "`{}` is not a valid {kind} name (1 to 128 letters, digits and +=,.@_-)",
                        key.name
                    ),
                    &ptr,
                    key.span,
                );
                continue;
            }
            if let Some(other) = seen.insert(key.name.to_ascii_lowercase(), &key.name) {
                self.w.error(
                    Code::CaseCollision,
                    format!(
                        "{kind} names `{other}` and `{}` differ only in case; IAM names ignore case",
                        key.name
                    ),
                    &ptr,
                    key.span,
                );
                continue;
            }
            out.push((key.name.as_str(), ptr, entry));
        }
        out
    }

    /// `path`, `/` when absent.
    pub(super) fn path(&mut self, f: &Fields<'_>) -> String {
        let Some((v, ptr)) = f.get("path") else {
            return "/".into();
        };
        let Some(path) = self.w.string(v, &ptr, "`path`") else {
            return "/".into();
        };
        if !valid_path(path) {
            self.w.error(
                Code::StoreWrongType,
                format!("`{path}` is not an IAM path: it starts and ends with `/`, e.g. `/teams/`"),
                &ptr,
                v.span,
            );
        }
        path.to_string()
    }

    /// `id`: a unique id such as `AIDA…`.
    pub(super) fn unique_id(&mut self, f: &Fields<'_>) -> Option<String> {
        let (v, ptr) = f.get("id")?;
        let id = self.w.string(v, &ptr, "`id`")?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            self.w.error(
                Code::StoreWrongType,
                format!("`{id}` is not a unique id (letters and digits, e.g. AIDA…, AROA…)"),
                &ptr,
                v.span,
            );
            return None;
        }
        Some(id.to_string())
    }

    /// `policies` (managed, or any policy form) then `inline`, all of type identity.
    pub(super) fn identity_policies(&mut self, f: &Fields<'_>, owner: &str) -> Vec<Arc<PolicyDoc>> {
        let mut out = Vec::new();
        if let Some((v, ptr)) = f.get("policies") {
            if let Some(items) = self.array(v, &ptr, "`policies`") {
                for (i, item) in items.iter().enumerate() {
                    let slot = Slot {
                        ty: PolicyType::Identity,
                        id: format!("{owner}/policy/{i}"),
                        attached_to: None,
                        names: Names::Allowed,
                    };
                    let iptr = child_pointer(&ptr, &i.to_string());
                    if let Some(d) = self.policy_ref(item, &iptr, &slot) {
                        crate::store::push_unique(&mut out, &d);
                    }
                }
            }
        }
        if let Some((v, ptr)) = f.get("inline") {
            if let Some(members) = self.w.map(v, &ptr, "`inline`") {
                for (key, doc) in members {
                    let dptr = child_pointer(&ptr, &key.name);
                    if key.name.trim().is_empty() {
                        self.w.error(
                            Code::StoreWrongType,
                            "an inline policy name must not be empty",
                            &dptr,
                            key.span,
                        );
                    }
                    let slot = Slot {
                        ty: PolicyType::Identity,
                        id: format!("{owner}/inline/{}", key.name),
                        attached_to: None,
                        names: Names::Forbidden,
                    };
                    if let Some(d) = self.policy_ref(doc, &dptr, &slot) {
                        out.push(d);
                    }
                }
            }
        }
        out
    }

    /// `boundary`: a policy of type boundary, or `null`.
    pub(super) fn boundary(&mut self, f: &Fields<'_>, owner: &str) -> Option<Arc<PolicyDoc>> {
        let (v, ptr) = f.get("boundary")?;
        if v.value == JsonValue::Null {
            return None;
        }
        let slot = Slot {
            ty: PolicyType::Boundary,
            id: format!("{owner}/boundary"),
            attached_to: None,
            names: Names::Allowed,
        };
        self.policy_ref(v, &ptr, &slot)
    }

    /// `tags`: string -> string, keys distinct ignoring case.
    pub(super) fn tags(&mut self, f: &Fields<'_>) -> Tags {
        let mut out = Tags::new();
        let Some((v, ptr)) = f.get("tags") else {
            return out;
        };
        let Some(members) = self.w.map(v, &ptr, "`tags`") else {
            return out;
        };
        let mut seen: HashMap<String, &str> = HashMap::new();
        for (key, value) in members {
            let tptr = child_pointer(&ptr, &key.name);
            if key.name.is_empty() {
                self.w.error(
                    Code::StoreWrongType,
                    "a tag key must not be empty",
                    &tptr,
                    key.span,
                );
                continue;
            }
            if let Some(other) = seen.insert(key.name.to_lowercase(), &key.name) {
                self.w.error(
                    Code::CaseCollision,
                    format!(
                        "tag keys `{other}` and `{}` differ only in case; condition keys ignore case",
                        key.name
                    ),
                    &tptr,
                    key.span,
                );
                continue;
            }
            if let Some(s) = self.w.string(value, &tptr, "a tag value") {
                out.insert(key.name.clone(), s.to_string());
            }
        }
        out
    }

    pub(super) fn group(
        &mut self,
        name: &str,
        node: &JsonNode,
        pointer: &str,
        prefix: &str,
    ) -> Option<Group> {
        let f = self.w.object(node, pointer, GROUP_FIELDS, "a group")?;
        let path = self.path(&f);
        let policies = self.identity_policies(&f, &format!("{prefix}group/{name}"));
        Some(Group {
            name: name.to_string(),
            path,
            policies,
        })
    }

    pub(super) fn role(
        &mut self,
        name: &str,
        node: &JsonNode,
        pointer: &str,
        prefix: &str,
    ) -> Option<Role> {
        let f = self.w.object(node, pointer, ROLE_FIELDS, "a role")?;
        let owner = format!("{prefix}role/{name}");
        Some(Role {
            name: name.to_string(),
            path: self.path(&f),
            id: self.unique_id(&f),
            policies: self.identity_policies(&f, &owner),
            boundary: self.boundary(&f, &owner),
            tags: self.tags(&f),
            trust: self.trust(&f, &owner),
        })
    }

    /// A role's `trust` policy (type `role-trust`), or `null`.
    fn trust(&mut self, f: &Fields<'_>, owner: &str) -> Option<Arc<PolicyDoc>> {
        let (v, ptr) = f.get("trust")?;
        if v.value == JsonValue::Null {
            return None;
        }
        let slot = Slot {
            ty: PolicyType::RoleTrust,
            id: format!("{owner}/trust"),
            attached_to: None,
            names: Names::Allowed,
        };
        self.policy_ref(v, &ptr, &slot)
    }

    pub(super) fn user(
        &mut self,
        name: &str,
        node: &JsonNode,
        pointer: &str,
        prefix: &str,
        account: &Account,
    ) -> Option<User> {
        let f = self.w.object(node, pointer, USER_FIELDS, "a user")?;
        let owner = format!("{prefix}user/{name}");
        let mut groups = Vec::new();
        if let Some((v, ptr)) = f.get("groups") {
            if let Some(items) = self.array(v, &ptr, "`groups`") {
                for (i, item) in items.iter().enumerate() {
                    let gptr = child_pointer(&ptr, &i.to_string());
                    let Some(g) = self.w.string(item, &gptr, "a group name") else {
                        continue;
                    };
                    if account.group(g).is_none() {
                        self.w.error(
                            Code::UnknownGroupOrUser,
                            format!(
                                "unknown group `{g}`: account {} has no such group",
                                account.id
                            ),
                            &gptr,
                            item.span,
                        );
                    } else {
                        groups.push(g.to_string());
                    }
                }
            }
        }
        Some(User {
            name: name.to_string(),
            path: self.path(&f),
            id: self.unique_id(&f),
            groups,
            policies: self.identity_policies(&f, &owner),
            boundary: self.boundary(&f, &owner),
            tags: self.tags(&f),
        })
    }
}
