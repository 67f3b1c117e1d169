//! `aws iam get-account-authorization-details`: users, groups, roles and managed policies.

use super::*;

/// The three principal lists: (list, name field, inline-policy list, kind).
const LISTS: &[(&str, &str, &str, Kind)] = &[
    (
        "GroupDetailList",
        "GroupName",
        "GroupPolicyList",
        Kind::Group,
    ),
    ("RoleDetailList", "RoleName", "RolePolicyList", Kind::Role),
    ("UserDetailList", "UserName", "UserPolicyList", Kind::User),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    Group,
    Role,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Role => "role",
        }
    }
}

impl Importer {
    /// Reads one file of `aws iam get-account-authorization-details` output. `file` names it in
    /// findings.
    pub fn authorization_details(&mut self, file: &str, text: &str) {
        let Some(root) = self.parse_input(file, text) else {
            return;
        };
        let at = |pointer: &str, span: Span| Place {
            file: file.to_string(),
            pointer: pointer.to_string(),
            span,
        };
        if !matches!(root.value, JsonValue::Object(_)) {
            self.report(
                Code::ImportUnreadable,
                "not the output of get-account-authorization-details (an object with \
                 UserDetailList, GroupDetailList, RoleDetailList and Policies)",
                &at("", root.span),
            );
            return;
        }
        for (p, pptr) in member_items(&root, "", "Policies") {
            self.managed_policy(file, text, p, &pptr);
        }
        for &(list, name_field, inline_field, kind) in LISTS {
            for (entry, ptr) in member_items(&root, "", list) {
                self.principal(file, text, entry, &ptr, name_field, inline_field, kind);
            }
        }
    }

    /// An entry of `Policies`: its default version's document, by ARN.
    fn managed_policy(&mut self, file: &str, text: &str, p: &JsonNode, ptr: &str) {
        let place = Place {
            file: file.to_string(),
            pointer: ptr.to_string(),
            span: p.span,
        };
        let Some(arn) = member_str(p, "Arn") else {
            self.report(
                Code::ImportMissingField,
                "a managed policy without `Arn`; skipped",
                &place,
            );
            return;
        };
        let versions = member_items(p, ptr, "PolicyVersionList");
        let default = versions.iter().find(|(v, _)| {
            matches!(
                member(v, "", "IsDefaultVersion"),
                Some((
                    JsonNode {
                        value: JsonValue::Bool(true),
                        ..
                    },
                    _
                ))
            )
        });
        let Some((version, vptr)) = default else {
            self.report(
                Code::ImportUnresolved,
                format!(
                    "managed policy `{arn}` has no version with IsDefaultVersion true; skipped"
                ),
                &place,
            );
            return;
        };
        let Some((doc_node, dptr)) = member(version, vptr, "Document") else {
            self.report(
                Code::ImportMissingField,
                format!("the default version of `{arn}` has no `Document`; skipped"),
                &Place {
                    pointer: vptr.clone(),
                    span: version.span,
                    ..place
                },
            );
            return;
        };
        let dplace = Place {
            file: file.to_string(),
            pointer: dptr,
            span: doc_node.span,
        };
        let Some(doc) = self.document(text, doc_node, &dplace) else {
            return;
        };
        match self.managed.get(arn) {
            Some((old, _)) if *old != doc => self.report(
                Code::ImportConflict,
                format!(
                    "managed policy `{arn}` has another default document in an earlier input; \
                     the first is kept"
                ),
                &dplace,
            ),
            Some(_) => {}
            None => {
                self.managed.insert(arn.to_string(), (doc, dplace));
            }
        }
    }

    /// A user, group or role.
    #[allow(clippy::too_many_arguments)]
    fn principal(
        &mut self,
        file: &str,
        text: &str,
        entry: &JsonNode,
        ptr: &str,
        name_field: &str,
        inline_field: &str,
        kind: Kind,
    ) {
        let place = |pointer: &str, span: Span| Place {
            file: file.to_string(),
            pointer: pointer.to_string(),
            span,
        };
        let here = place(ptr, entry.span);
        let (Some(name), Some(arn)) = (member_str(entry, name_field), member_str(entry, "Arn"))
        else {
            self.report(
                Code::ImportMissingField,
                format!(
                    "a {} without `{name_field}` or `Arn`; skipped",
                    kind.as_str()
                ),
                &here,
            );
            return;
        };
        let Some(account) = arn_account(arn).map(str::to_string) else {
            self.report(
                Code::ImportWrongType,
                format!(
                    "{} `{name}`: `{arn}` has no 12-digit account; skipped",
                    kind.as_str()
                ),
                &here,
            );
            return;
        };
        let path = member_str(entry, "Path").unwrap_or("/").to_string();
        if !valid_name(name) || !valid_path(&path) {
            self.report(
                Code::ImportWrongType,
                format!(
                    "{} `{name}` with path `{path}`: not an IAM name and path; skipped",
                    kind.as_str()
                ),
                &here,
            );
            return;
        }
        let id_field = match kind {
            Kind::User => "UserId",
            Kind::Group => "GroupId",
            Kind::Role => "RoleId",
        };
        let id = member_str(entry, id_field)
            .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(str::to_string);
        let mut p = Principal {
            name: name.to_string(),
            path,
            id,
            ..Principal::default()
        };
        for (item, iptr) in member_items(entry, ptr, inline_field) {
            let iplace = place(&iptr, item.span);
            let Some(pname) = member_str(item, "PolicyName").filter(|n| !n.trim().is_empty())
            else {
                self.report(
                    Code::ImportMissingField,
                    "an inline policy without `PolicyName`; skipped",
                    &iplace,
                );
                continue;
            };
            let Some((dnode, dptr)) = member(item, &iptr, "PolicyDocument") else {
                self.report(
                    Code::ImportMissingField,
                    format!("inline policy `{pname}` has no `PolicyDocument`; skipped"),
                    &iplace,
                );
                continue;
            };
            let dplace = place(&dptr, dnode.span);
            if let Some(doc) = self.document(text, dnode, &dplace) {
                if self.valid(&doc, PolicyType::Identity, None, &dplace) {
                    p.inline.push((pname.to_string(), doc, dplace));
                }
            }
        }
        for (item, iptr) in member_items(entry, ptr, "AttachedManagedPolicies") {
            match member_str(item, "PolicyArn") {
                Some(a) => p.attached.push((a.to_string(), place(&iptr, item.span))),
                None => self.report(
                    Code::ImportMissingField,
                    "an attached managed policy without `PolicyArn`; skipped",
                    &place(&iptr, item.span),
                ),
            }
        }
        if let Some((b, bptr)) = member(entry, ptr, "PermissionsBoundary") {
            match member_str(b, "PermissionsBoundaryArn") {
                Some(a) => p.boundary = Some((a.to_string(), place(&bptr, b.span))),
                None => self.report(
                    Code::ImportMissingField,
                    "a permissions boundary without `PermissionsBoundaryArn`; skipped",
                    &place(&bptr, b.span),
                ),
            }
        }
        if kind == Kind::User {
            for (g, gptr) in member_items(entry, ptr, "GroupList") {
                match &g.value {
                    JsonValue::String(s) => p.groups.push((s.clone(), place(&gptr, g.span))),
                    _ => self.report(
                        Code::ImportWrongType,
                        "a `GroupList` item is a group name (a string); skipped",
                        &place(&gptr, g.span),
                    ),
                }
            }
        }
        if kind == Kind::Role {
            if let Some((dnode, dptr)) = member(entry, ptr, "AssumeRolePolicyDocument") {
                let dplace = place(&dptr, dnode.span);
                if let Some(doc) = self.document(text, dnode, &dplace) {
                    if self.valid(&doc, PolicyType::RoleTrust, None, &dplace) {
                        p.trust = Some(doc);
                    }
                }
            }
        }
        if kind != Kind::Group {
            p.tags = self.tags(entry, ptr, file);
        }
        let acct = self.accounts.entry(account).or_default();
        let map = match kind {
            Kind::User => &mut acct.users,
            Kind::Group => &mut acct.groups,
            Kind::Role => &mut acct.roles,
        };
        match map.entry(name.to_ascii_lowercase()) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(p);
            }
            std::collections::btree_map::Entry::Occupied(_) => self.report(
                Code::ImportConflict,
                format!(
                    "{} `{name}` of account {} is in an earlier input too; the first is kept",
                    kind.as_str(),
                    arn_account(arn).unwrap_or_default()
                ),
                &here,
            ),
        }
    }

    /// `Tags`: `[{"Key", "Value"}]` or an object `key -> value`; keys distinct ignoring case.
    pub(super) fn tags(&mut self, node: &JsonNode, ptr: &str, file: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let Some((tags, tptr)) = member(node, ptr, "Tags") else {
            return out;
        };
        let pairs: Vec<(Option<&str>, Option<&str>, String, Span)> = match &tags.value {
            JsonValue::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    (
                        member_str(t, "Key"),
                        member_str(t, "Value"),
                        child_pointer(&tptr, &i.to_string()),
                        t.span,
                    )
                })
                .collect(),
            JsonValue::Object(m) => m
                .iter()
                .map(|(k, v)| {
                    let value = match &v.value {
                        JsonValue::String(s) => Some(s.as_str()),
                        _ => None,
                    };
                    (
                        Some(k.name.as_str()),
                        value,
                        child_pointer(&tptr, &k.name),
                        v.span,
                    )
                })
                .collect(),
            JsonValue::Null => Vec::new(),
            _ => {
                self.report(
                    Code::ImportWrongType,
                    "`Tags` is a list of {\"Key\", \"Value\"} or an object; skipped",
                    &Place {
                        file: file.to_string(),
                        pointer: tptr.clone(),
                        span: tags.span,
                    },
                );
                Vec::new()
            }
        };
        for (k, v, p, span) in pairs {
            let place = Place {
                file: file.to_string(),
                pointer: p,
                span,
            };
            match (k, v) {
                (Some(k), Some(v)) if !k.is_empty() => {
                    if out
                        .iter()
                        .any(|(o, _)| o.to_lowercase() == k.to_lowercase())
                    {
                        self.report(
                            Code::ImportConflict,
                            format!(
                                "tag key `{k}` differs only in case from an earlier one; condition \
                                 keys ignore case, so the first is kept"
                            ),
                            &place,
                        );
                    } else {
                        out.push((k.to_string(), v.to_string()));
                    }
                }
                _ => self.report(
                    Code::ImportWrongType,
                    "a tag needs a non-empty string `Key` and a string `Value`; skipped",
                    &place,
                ),
            }
        }
        out
    }

    /// `accounts` of the store; managed policies referenced are added to `policies`.
    pub(super) fn build_accounts(
        &mut self,
        policies: &mut Map<String, Value>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (id, acct) in std::mem::take(&mut self.accounts) {
            let mut a = Map::new();
            let groups: Vec<String> = acct.groups.keys().cloned().collect();
            for (field, list, kind) in [
                ("groups", acct.groups, Kind::Group),
                ("roles", acct.roles, Kind::Role),
                ("users", acct.users, Kind::User),
            ] {
                let mut m = Map::new();
                for p in list.into_values() {
                    let name = p.name.clone();
                    m.insert(name, self.principal_json(p, kind, &groups, policies));
                    match kind {
                        Kind::User => self.stats.users += 1,
                        Kind::Group => self.stats.groups += 1,
                        Kind::Role => self.stats.roles += 1,
                    }
                }
                a.insert(field.into(), Value::Object(m));
            }
            out.insert(id, Value::Object(a));
            self.stats.accounts += 1;
        }
        out
    }

    /// One principal's store entry. `groups`: the lower-cased names of its account's groups.
    fn principal_json(
        &mut self,
        p: Principal,
        kind: Kind,
        groups: &[String],
        policies: &mut Map<String, Value>,
    ) -> Value {
        let mut e = Map::new();
        e.insert("path".into(), Value::from(p.path));
        if kind != Kind::Group {
            if let Some(id) = p.id {
                e.insert("id".into(), Value::from(id));
            }
        }
        if kind == Kind::User {
            let mut gs = Vec::new();
            for (g, place) in p.groups {
                if groups.contains(&g.to_ascii_lowercase()) {
                    gs.push(Value::from(g));
                } else {
                    self.report(
                        Code::ImportUnresolved,
                        format!(
                            "user `{}` is in group `{g}`, which the input does not hold; the \
                             membership is skipped",
                            p.name
                        ),
                        &place,
                    );
                }
            }
            e.insert("groups".into(), Value::Array(gs));
        }
        let mut attached = Vec::new();
        for (arn, place) in p.attached {
            if let Some(name) = self.managed_ref(&arn, PolicyType::Identity, &place, policies) {
                attached.push(Value::from(name));
            }
        }
        e.insert("policies".into(), Value::Array(attached));
        let mut inline = Map::new();
        for (name, doc, _) in p.inline {
            inline.insert(name, doc.json);
            self.stats.inline_policies += 1;
        }
        e.insert("inline".into(), Value::Object(inline));
        if kind != Kind::Group {
            let boundary = p.boundary.and_then(|(arn, place)| {
                self.managed_ref(&arn, PolicyType::Boundary, &place, policies)
            });
            e.insert(
                "boundary".into(),
                boundary.map(Value::from).unwrap_or(Value::Null),
            );
            e.insert("tags".into(), tags_json(&p.tags));
        }
        if let Some(doc) = p.trust {
            e.insert("trust".into(), doc.json);
            self.stats.trust_policies += 1;
        }
        Value::Object(e)
    }
}
