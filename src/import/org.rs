//! The organization: SCP and RCP levels per account, from the documented hierarchy JSON.

use super::*;

/// Deepest OU nesting read (AWS allows five levels of OUs under the root).
const MAX_TREE_DEPTH: usize = 16;

impl Importer {
    /// Reads the organization file (see the module docs for its format). `file` names it in
    /// findings.
    pub fn organization(&mut self, file: &str, text: &str) {
        let Some(root) = self.parse_input(file, text) else {
            return;
        };
        let at = |pointer: &str, span: Span| Place {
            file: file.to_string(),
            pointer: pointer.to_string(),
            span,
        };
        if let Some((m, mptr)) = member(&root, "", "management_account") {
            match &m.value {
                JsonValue::String(s) if arn_account(&format!("::::{s}")).is_some() => {
                    self.management_account = Some(s.clone())
                }
                _ => self.report(
                    Code::ImportWrongType,
                    "`management_account` is a 12-digit account id; ignored",
                    &at(&mptr, m.span),
                ),
            }
        }
        for (p, pptr) in member_items(&root, "", "policies") {
            self.org_policy(file, text, p, &pptr);
        }
        match member(&root, "", "root") {
            Some((node, rptr)) => {
                let mut path = Vec::new();
                self.org_node(file, node, &rptr, &mut path);
            }
            None => self.report(
                Code::ImportMissingField,
                "the organization has no `root` (the tree of OUs and accounts); no SCP or RCP \
                 was imported",
                &at("", root.span),
            ),
        }
    }

    /// An entry of `policies` (describe-policy's `Policy`).
    fn org_policy(&mut self, file: &str, text: &str, p: &JsonNode, ptr: &str) {
        let place = Place {
            file: file.to_string(),
            pointer: ptr.to_string(),
            span: p.span,
        };
        let summary = member(p, ptr, "PolicySummary").map(|(s, _)| s);
        let field = |k: &str| summary.and_then(|s| member_str(s, k));
        let (Some(id), Some(name), Some(ty)) = (field("Id"), field("Name"), field("Type")) else {
            self.report(
                Code::ImportMissingField,
                "a policy needs PolicySummary.Id, .Name and .Type; skipped",
                &place,
            );
            return;
        };
        let ty = match ty {
            "SERVICE_CONTROL_POLICY" => PolicyType::Scp,
            "RESOURCE_CONTROL_POLICY" => PolicyType::Rcp,
            other => {
                self.org_unmodeled.push(id.to_string());
                self.report(
                    Code::ImportNotModeled,
                    format!(
                        "policy `{name}` is a {other}, which the store does not model; skipped"
                    ),
                    &place,
                );
                return;
            }
        };
        let Some((content, cptr)) = member(p, ptr, "Content") else {
            self.report(
                Code::ImportMissingField,
                format!("policy `{name}` has no `Content`; skipped"),
                &place,
            );
            return;
        };
        let cplace = Place {
            file: file.to_string(),
            pointer: cptr,
            span: content.span,
        };
        let Some(doc) = self.document(text, content, &cplace) else {
            return;
        };
        if !self.valid(&doc, ty, None, &cplace) {
            return;
        }
        if self.org_policies.contains_key(id) {
            self.report(
                Code::ImportConflict,
                format!("policy id `{id}` is listed twice; the first is kept"),
                &place,
            );
            return;
        }
        self.org_policies.insert(
            id.to_string(),
            OrgPolicy {
                name: name.to_string(),
                ty,
                doc,
            },
        );
    }

    /// A node of the tree; `path` holds the policy ids of each node above it.
    fn org_node(&mut self, file: &str, node: &JsonNode, ptr: &str, path: &mut Vec<Vec<String>>) {
        let place = Place {
            file: file.to_string(),
            pointer: ptr.to_string(),
            span: node.span,
        };
        if path.len() >= MAX_TREE_DEPTH {
            self.report(
                Code::ImportWrongType,
                format!("the tree is deeper than {MAX_TREE_DEPTH} levels; this branch is skipped"),
                &place,
            );
            return;
        }
        let mut ids = Vec::new();
        for (p, pptr) in member_items(node, ptr, "policies") {
            match &p.value {
                JsonValue::String(s) => ids.push(s.clone()),
                _ => self.report(
                    Code::ImportWrongType,
                    "a policy id is a string; skipped",
                    &Place {
                        file: file.to_string(),
                        pointer: pptr,
                        span: p.span,
                    },
                ),
            }
        }
        path.push(ids);
        match member(node, ptr, "account") {
            Some((a, aptr)) => match &a.value {
                JsonValue::String(acct) if arn_account(&format!("::::{acct}")).is_some() => {
                    self.org_account(acct, path, &place)
                }
                _ => self.report(
                    Code::ImportWrongType,
                    "`account` is a 12-digit account id; this account is skipped",
                    &Place {
                        file: file.to_string(),
                        pointer: aptr,
                        span: a.span,
                    },
                ),
            },
            None => {
                for (child, cptr) in member_items(node, ptr, "children") {
                    self.org_node(file, child, &cptr, path);
                }
            }
        }
        path.pop();
    }

    /// The SCP and RCP levels of `account`, whose path from the root holds `path`.
    fn org_account(&mut self, account: &str, path: &[Vec<String>], place: &Place) {
        let (mut scps, mut rcps) = (Vec::new(), Vec::new());
        for (depth, ids) in path.iter().enumerate() {
            let (mut s, mut r) = (Vec::new(), Vec::new());
            for id in ids {
                match self.org_policies.get(id).map(|p| p.ty) {
                    Some(PolicyType::Scp) => s.push(id.clone()),
                    Some(_) => r.push(id.clone()),
                    // Reported where it is defined.
                    None if self.org_unmodeled.contains(id) => {}
                    None => self.report(
                        Code::ImportUnresolved,
                        format!(
                            "account {account}: policy id `{id}` (level {depth}) is not in \
                             `policies` (or was skipped); it is left out"
                        ),
                        place,
                    ),
                }
            }
            if s.is_empty() {
                self.report(
                    Code::ImportNotModeled,
                    format!(
                        "account {account}: level {depth} has no SCP; AWS requires one at every \
                         level, so the input is incomplete: the level is left out"
                    ),
                    place,
                );
            } else {
                scps.push(s);
            }
            if !r.is_empty() {
                rcps.push(r);
            }
        }
        if self.org_levels.contains_key(account) {
            self.report(
                Code::ImportConflict,
                format!("account {account} is in the tree twice; the first is kept"),
                place,
            );
            return;
        }
        self.org_levels.insert(account.to_string(), (scps, rcps));
    }

    /// `organization` of the store; the policies it names are added to `policies`.
    pub(super) fn build_organization(
        &mut self,
        policies: &mut Map<String, Value>,
    ) -> Option<Value> {
        if self.org_levels.is_empty() && self.management_account.is_none() {
            return None;
        }
        // Store names: the organization's name, or `name (id)` when it is taken.
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut used: Vec<String> = Vec::new();
        for (id, p) in &self.org_policies {
            let referenced = self
                .org_levels
                .values()
                .any(|(s, r)| s.iter().chain(r).any(|l| l.contains(id)));
            if !referenced {
                continue;
            }
            let mut name = p.name.clone();
            if policies.contains_key(&name) || used.contains(&name) {
                name = format!("{} ({id})", p.name);
            }
            let mut entry = Map::new();
            entry.insert("type".into(), Value::from(p.ty.as_str()));
            entry.insert("document".into(), p.doc.json.clone());
            policies.insert(name.clone(), Value::Object(entry));
            used.push(name.clone());
            names.insert(id.clone(), name);
        }
        let levels = |ls: &[Vec<String>]| -> Value {
            Value::Array(
                ls.iter()
                    .map(|l| {
                        Value::Array(
                            l.iter()
                                .filter_map(|id| names.get(id).map(|n| Value::from(n.as_str())))
                                .collect(),
                        )
                    })
                    .collect(),
            )
        };
        let mut accounts = Map::new();
        for (acct, (s, r)) in &self.org_levels {
            let mut e = Map::new();
            e.insert("scps".into(), levels(s));
            e.insert("rcps".into(), levels(r));
            accounts.insert(acct.clone(), Value::Object(e));
        }
        self.stats.organization_accounts = accounts.len();
        let mut org = Map::new();
        if let Some(m) = &self.management_account {
            org.insert("management_account".into(), Value::from(m.as_str()));
        }
        org.insert("accounts".into(), Value::Object(accounts));
        Some(Value::Object(org))
    }
}
