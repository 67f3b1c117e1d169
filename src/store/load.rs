//! Reading a store: JSON tree -> [`Store`], collecting every error.
//!
//! The store text is read once with the span-preserving reader; the loader then walks the tree
//! with a JSON pointer in hand, so every finding names its place. Policies are built with
//! [`policy_from_node`] (inline documents, from the store's own tree) or read from their files,
//! validated with [`check_policy`], and their findings re-pointed into the store (see the
//! module docs of [`crate::store`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::{
    session_key, Account, FileRefs, Group, OrgAccount, Organization, Resource, Role, Session,
    Store, Tags, User, MAX_POLICIES, MAX_STATEMENTS, MAX_STORE_BYTES,
};
use crate::ast::{Loc, PolicyType};
use crate::catalog::ResourceType;
use crate::diag::{Diagnostic, Severity};
use crate::eval::PolicyDoc;
use crate::parse::json::reader::{child_pointer, parse_json, value_end, JsonNode, JsonValue, Span};
use crate::parse::json::walk::{self, loc, Codes, Fields, ReadError, Walker};
use crate::parse::{policy_from_node, Limits};
use crate::request::Caller;
use crate::validate::check_policy;

/// Fields of the top-level object.
pub(super) const TOP_FIELDS: &[&str] = &[
    "$schema",
    "version",
    "policies",
    "organization",
    "accounts",
    "sessions",
    "resources",
];
/// Fields of an entry of `policies`.
pub(super) const NAMED_POLICY_FIELDS: &[&str] = &["type", "document", "file"];
/// Fields of `organization`.
pub(super) const ORGANIZATION_FIELDS: &[&str] = &["management_account", "accounts"];
/// Fields of an account of `organization.accounts`.
pub(super) const ORG_ACCOUNT_FIELDS: &[&str] = &["scps", "rcps"];
/// Fields of an entry of `accounts`.
pub(super) const ACCOUNT_FIELDS: &[&str] = &["users", "groups", "roles"];
/// Fields of a user.
pub(super) const USER_FIELDS: &[&str] = &[
    "path", "id", "groups", "policies", "inline", "boundary", "tags",
];
/// Fields of a group.
pub(super) const GROUP_FIELDS: &[&str] = &["path", "policies", "inline"];
/// Fields of a role.
pub(super) const ROLE_FIELDS: &[&str] = &["path", "id", "policies", "inline", "boundary", "tags"];
/// Fields of an entry of `sessions`.
pub(super) const SESSION_FIELDS: &[&str] = &["policy", "tags", "user"];
/// Fields of an entry of `resources`.
pub(super) const RESOURCE_FIELDS: &[&str] = &["type", "policy", "tags"];
/// Fields of a `{"file": …}` policy reference.
pub(super) const FILE_REF_FIELDS: &[&str] = &["file"];

/// Nesting the store adds above an embedded policy document
/// (`/accounts/A/users/U/inline/N` is six levels); the reader's depth bound for the store is the
/// policy bound plus this.
const STORE_DEPTH: usize = 8;

/// Reads a file of at most [`MAX_STORE_BYTES`] as UTF-8. The size is checked before reading.
/// Errors are (code, message), the message naming the path.
pub(super) fn read_bounded(path: &Path) -> Result<String, (&'static str, String)> {
    let p = path.display();
    walk::read_bounded(path, MAX_STORE_BYTES).map_err(|e| match e {
        ReadError::Io(e) => ("IAM300", format!("cannot read `{p}`: {e}")),
        ReadError::NotAFile => ("IAM300", format!("cannot read `{p}`: it is not a file")),
        ReadError::TooBig(Some(len)) => (
            "IAM003",
            format!(
                "`{p}` is {len} bytes, more than the bound max_store_bytes = {MAX_STORE_BYTES}"
            ),
        ),
        ReadError::TooBig(None) => (
            "IAM003",
            format!("`{p}` is more than the bound max_store_bytes = {MAX_STORE_BYTES} bytes"),
        ),
        ReadError::NotUtf8(e) => ("IAM300", format!("`{p}` is not UTF-8 text: {e}")),
    })
}

/// Why a `file` reference does not resolve to a file inside the store's folder.
#[derive(Debug)]
pub(crate) enum Escape {
    /// It leads out of the folder (by `..`, an absolute path, or a symbolic link). Nothing was
    /// read.
    Outside,
    /// The file (or the folder) cannot be resolved: the error names the path as written.
    Io(String),
}

/// The file a `file` reference `rel` names: `base/rel` with `..` and symbolic links resolved,
/// which must lie inside `base` (itself resolved). The reference is first checked by its
/// components alone, so a path that leads out is refused without touching the file system
/// (not even to learn whether it exists); then both paths are canonicalized and compared.
pub(crate) fn resolve_inside(base: &Path, rel: &str) -> Result<PathBuf, Escape> {
    let mut depth = 0usize;
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1).ok_or(Escape::Outside)?,
            Component::RootDir | Component::Prefix(_) => return Err(Escape::Outside),
        }
    }
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let root = base
        .canonicalize()
        .map_err(|e| Escape::Io(format!("cannot resolve the store's folder: {e}")))?;
    let file = base
        .join(rel)
        .canonicalize()
        .map_err(|e| Escape::Io(format!("cannot read `{rel}`: {e}")))?;
    if file.starts_with(&root) {
        Ok(file)
    } else {
        Err(Escape::Outside)
    }
}

/// Reads store text into a [`Store`].
pub(super) fn load(text: &str, files: FileRefs<'_>) -> Result<Store, Vec<Diagnostic>> {
    load_bounded(text, files, Bounds::default())
}

/// The store-wide bounds on what policies add up to.
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    /// Most policies.
    pub policies: usize,
    /// Most statements in all policies.
    pub statements: usize,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            policies: MAX_POLICIES,
            statements: MAX_STATEMENTS,
        }
    }
}

/// [`load`] with other bounds (tests use small ones).
pub(super) fn load_bounded(
    text: &str,
    files: FileRefs<'_>,
    bounds: Bounds,
) -> Result<Store, Vec<Diagnostic>> {
    let limits = Limits::default();
    let store_limits = Limits {
        max_document_bytes: MAX_STORE_BYTES,
        max_depth: limits.max_depth + STORE_DEPTH,
        ..limits
    };
    let root = parse_json(text, &store_limits).map_err(|d| vec![d])?;
    let mut loader = Loader {
        text,
        files,
        limits,
        w: Walker::new(Codes {
            wrong_type: "IAM301",
            unknown_field: "IAM302",
        }),
        warnings: Vec::new(),
        named: HashMap::new(),
        all: Vec::new(),
        statements: 0,
        bounds,
        bound_reported: false,
        account_prefix: false,
    };
    let mut store = loader.store(&root);
    let Loader {
        w: Walker { errors, .. },
        mut warnings,
        ..
    } = loader;
    dedup(&mut warnings);
    if errors.is_empty() {
        store.warnings = Arc::new(warnings);
        Ok(store)
    } else {
        let mut all = errors;
        dedup(&mut all);
        all.extend(warnings);
        Err(all)
    }
}

/// Removes repeated findings (a named policy checked at several attachments), keeping order.
fn dedup(list: &mut Vec<Diagnostic>) {
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(list.len());
    for d in list.drain(..) {
        if !kept.contains(&d) {
            kept.push(d);
        }
    }
    *list = kept;
}

/// Where a policy's text came from, for re-pointing its findings into the store.
#[derive(Clone, Debug)]
struct Origin {
    /// Store pointer of the document (for a file: of the `file` member).
    pointer: String,
    /// The file as written in the store, when the policy came from one.
    file: Option<String>,
    /// Where the document starts (in the store, or in its file); line 0 when unknown.
    span: Span,
}

/// An entry of `policies`, as references see it.
struct Named {
    /// Its type; `None` when the entry was invalid (already reported).
    ty: Option<PolicyType>,
    /// The policy; `None` when it was invalid (already reported).
    doc: Option<Arc<PolicyDoc>>,
    origin: Origin,
    /// Whether any place refers to it.
    attached: bool,
    /// Where the entry's name is.
    key: Loc,
}

/// What a place holding a policy accepts besides documents and `{"file": …}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Names {
    /// A string naming an entry of `policies`.
    Allowed,
    /// Only documents (`inline`).
    Forbidden,
}

/// A place that holds a policy: its type, its id, and the resource it is attached to.
struct Slot<'s> {
    ty: PolicyType,
    id: String,
    attached_to: Option<&'s str>,
    names: Names,
}

struct Loader<'a> {
    /// The store text (for the size of inline documents).
    text: &'a str,
    /// Where `file` references may be read.
    files: FileRefs<'a>,
    /// Bounds of one policy.
    limits: Limits,
    w: Walker,
    warnings: Vec<Diagnostic>,
    named: HashMap<String, Named>,
    all: Vec<Arc<PolicyDoc>>,
    statements: usize,
    bounds: Bounds,
    /// Whether a store bound (policies, statements) was hit; nothing more is built then.
    bound_reported: bool,
    /// Whether ids of principals' policies start with the account (several accounts).
    account_prefix: bool,
}

/// Letters, digits and `+=,.@_-`, 1 to 128 characters: IAM's user, group and role names.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// `/`, or `/` + segments + `/`, in printable ASCII, at most 512 characters.
fn valid_path(path: &str) -> bool {
    path.starts_with('/')
        && path.ends_with('/')
        && path.len() <= 512
        && !path.contains("//")
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn valid_account(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a resource ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, with a partition,
/// a service and a resource, an account that is empty or 12 digits, and no wildcards.
fn check_resource_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, _region, account, resource] = parts[..] else {
        return Err(
            "it needs six colon-separated parts (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
                .into(),
        );
    };
    if prefix != "arn" {
        return Err("it does not start with `arn:`".into());
    }
    if partition.is_empty() || service.is_empty() || resource.is_empty() {
        return Err("the partition, service and resource must not be empty".into());
    }
    if !account.is_empty() && !valid_account(account) {
        return Err(format!("the account `{account}` is not 12 digits"));
    }
    if arn.contains(['*', '?']) {
        return Err("a resource of the store is one resource: no wildcards".into());
    }
    Ok(())
}

impl<'a> Loader<'a> {
    fn array<'n>(
        &mut self,
        node: &'n JsonNode,
        pointer: &str,
        what: &str,
    ) -> Option<&'n [JsonNode]> {
        match &node.value {
            JsonValue::Array(items) => Some(items),
            _ => {
                self.w.wrong_type(what, "an array", node, pointer);
                None
            }
        }
    }

    /// The whole store.
    fn store(&mut self, root: &JsonNode) -> Store {
        let mut store = Store::default();
        let Some(top) = self.w.object(root, "", TOP_FIELDS, "the store") else {
            return store;
        };
        match top.get("version") {
            None => self.w.error_help(
                "IAM303",
                "the store has no `version` (it is required)",
                "add \"version\": 1",
                "",
                root.span,
            ),
            Some((v, ptr)) => {
                if !matches!(&v.value, JsonValue::Number(n) if n == "1") {
                    self.w.error_help(
                        "IAM301",
                        "unsupported store `version`: this iamc reads version 1",
                        "write \"version\": 1",
                        &ptr,
                        v.span,
                    );
                }
            }
        }
        if let Some((v, ptr)) = top.get("$schema") {
            self.w.string(v, &ptr, "`$schema`");
        }
        if let Some((v, _)) = top.get("accounts") {
            self.account_prefix = matches!(&v.value, JsonValue::Object(m) if m.len() > 1);
        }
        if let Some((v, ptr)) = top.get("policies") {
            self.named_policies(v, &ptr);
        }
        if let Some((v, ptr)) = top.get("organization") {
            store.organization = self.organization(v, &ptr).map(Arc::new);
        }
        if let Some((v, ptr)) = top.get("accounts") {
            store.accounts = Arc::new(self.accounts(v, &ptr));
        }
        if let Some((v, ptr)) = top.get("sessions") {
            store.sessions = Arc::new(self.sessions(v, &ptr, &store.accounts));
        }
        if let Some((v, ptr)) = top.get("resources") {
            store.resources = Arc::new(
                self.resources(v, &ptr)
                    .into_iter()
                    .map(|(k, r)| (Arc::from(k), Arc::new(r)))
                    .collect(),
            );
        }
        let mut unattached: Vec<(&String, &Named)> = self
            .named
            .iter()
            .filter(|(_, n)| n.ty == Some(PolicyType::KinesisResource) && !n.attached)
            .collect();
        unattached.sort_by_key(|(_, n)| (n.key.line, n.key.column));
        let found: Vec<Diagnostic> = unattached
            .into_iter()
            .map(|(name, n)| {
                Diagnostic::new(
                    "IAM350",
                    Severity::Warning,
                    format!(
                        "policy `{name}` (kinesis-resource) is attached to no resource, so the \
                         Kinesis checks that need its stream or consumer ARN were not run"
                    ),
                    n.key.clone(),
                )
            })
            .collect();
        self.warnings.extend(found);
        store.named = Arc::new(
            self.named
                .iter()
                .filter_map(|(k, n)| Some((k.clone(), n.doc.clone()?)))
                .collect(),
        );
        store.all = Arc::new(std::mem::take(&mut self.all));
        store.statements = self.statements;
        store
    }

    /// `policies`.
    fn named_policies(&mut self, node: &JsonNode, pointer: &str) {
        let Some(members) = self.w.map(node, pointer, "`policies`") else {
            return;
        };
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            let mut named = Named {
                ty: None,
                doc: None,
                origin: Origin {
                    pointer: ptr.clone(),
                    file: None,
                    span: entry.span,
                },
                attached: false,
                key: loc(&ptr, key.span),
            };
            if key.name.trim().is_empty() {
                self.w
                    .error("IAM301", "a policy name must not be empty", &ptr, key.span);
            }
            if let Some(f) = self
                .w
                .object(entry, &ptr, NAMED_POLICY_FIELDS, "a policy entry")
            {
                named.ty = match f.get("type") {
                    None => {
                        self.w.error_help(
                            "IAM303",
                            format!("policy `{}` has no `type` (it is required)", key.name),
                            types_help(),
                            &ptr,
                            entry.span,
                        );
                        None
                    }
                    Some((t, tptr)) => self.policy_type(t, &tptr, ALL_TYPES),
                };
                let (document, file) = (f.get("document"), f.get("file"));
                match (&document, &file) {
                    (Some(_), Some((_, fptr))) => self.w.error(
                        "IAM310",
                        format!(
                            "policy `{}` has both `document` and `file`; give one",
                            key.name
                        ),
                        fptr,
                        entry.span,
                    ),
                    (None, None) => self.w.error(
                        "IAM303",
                        format!(
                            "policy `{}` has neither `document` nor `file` (one is required)",
                            key.name
                        ),
                        &ptr,
                        entry.span,
                    ),
                    _ => {}
                }
                if let Some(ty) = named.ty {
                    let prefix = match ty {
                        PolicyType::Scp => "scp",
                        PolicyType::Rcp => "rcp",
                        _ => "policy",
                    };
                    let slot = Slot {
                        ty,
                        id: format!("{prefix}/{}", key.name),
                        attached_to: None,
                        names: Names::Forbidden,
                    };
                    // A Kinesis resource policy is checked where it is attached (it needs the ARN).
                    let validate = ty != PolicyType::KinesisResource;
                    match (document, file) {
                        (Some((d, dptr)), None) => {
                            named.origin.pointer.clone_from(&dptr);
                            named.origin.span = d.span;
                            named.doc = self.inline(d, &dptr, &slot, validate);
                        }
                        (None, Some((fnode, fptr))) => {
                            if let Some(rel) = self.w.string(fnode, &fptr, "`file`") {
                                named.origin = Origin {
                                    pointer: fptr.clone(),
                                    file: Some(rel.to_string()),
                                    span: Span::default(),
                                };
                                if let Some((doc, span)) =
                                    self.file(rel, &fptr, fnode.span, &slot, validate)
                                {
                                    named.origin.span = span;
                                    named.doc = Some(doc);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            self.named.insert(key.name.clone(), named);
        }
    }

    /// A policy type name, which must be one of `allowed`.
    fn policy_type(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        allowed: &[PolicyType],
    ) -> Option<PolicyType> {
        let name = self.w.string(node, pointer, "`type`")?;
        match PolicyType::from_name(name).filter(|t| allowed.contains(t)) {
            Some(t) => Some(t),
            None => {
                let names: Vec<&str> = allowed.iter().map(|t| t.as_str()).collect();
                self.w.error(
                    "IAM301",
                    format!(
                        "unknown policy type `{name}`; expected one of: {}",
                        names.join(", ")
                    ),
                    pointer,
                    node.span,
                );
                None
            }
        }
    }

    /// A place that holds a policy: a document, `{"file": …}`, or (where allowed) a name.
    fn policy_ref(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        slot: &Slot<'_>,
    ) -> Option<Arc<PolicyDoc>> {
        match &node.value {
            JsonValue::String(name) if slot.names == Names::Allowed => {
                self.resolve_named(name, pointer, node.span, slot)
            }
            JsonValue::Object(members) if members.iter().any(|(k, _)| k.name == "file") => {
                let f = self
                    .w
                    .object(node, pointer, FILE_REF_FIELDS, "a file reference")?;
                let (fnode, fptr) = f.get("file")?;
                let rel = self.w.string(fnode, &fptr, "`file`")?;
                self.file(rel, &fptr, fnode.span, slot, true)
                    .map(|(d, _)| d)
            }
            JsonValue::Object(_) => self.inline(node, pointer, slot, true),
            _ => {
                let expected = match slot.names {
                    Names::Allowed => {
                        "a policy document (an object), {\"file\": \"path\"}, or the name of an \
                         entry of `policies`"
                    }
                    Names::Forbidden => "a policy document (an object) or {\"file\": \"path\"}",
                };
                self.w.wrong_type("a policy", expected, node, pointer);
                None
            }
        }
    }

    /// A reference to an entry of `policies`.
    fn resolve_named(
        &mut self,
        name: &str,
        pointer: &str,
        span: Span,
        slot: &Slot<'_>,
    ) -> Option<Arc<PolicyDoc>> {
        let Some(named) = self.named.get_mut(name) else {
            let lc = name.to_lowercase();
            let near = self.named.keys().find(|k| k.to_lowercase() == lc).cloned();
            let msg = format!("unknown policy `{name}`: `policies` has no entry of that name");
            match near {
                Some(n) => self.w.error_help(
                    "IAM304",
                    msg,
                    format!("did you mean `{n}`? policy names are exact"),
                    pointer,
                    span,
                ),
                None => self.w.error("IAM304", msg, pointer, span),
            }
            return None;
        };
        named.attached = true;
        let ty = named.ty?;
        let doc = named.doc.clone();
        let origin = named.origin.clone();
        if ty != slot.ty {
            self.w.error(
                "IAM305",
                format!(
                    "policy `{name}` is a `{ty}` policy; this place needs a `{}` policy",
                    slot.ty
                ),
                pointer,
                span,
            );
            return None;
        }
        let doc = doc?;
        if ty == PolicyType::KinesisResource {
            let found = check_policy(&doc.policy, ty, slot.attached_to);
            let note = slot.attached_to.map(|a| format!("attached to {a}"));
            self.report(found, &origin, note.as_deref());
        }
        Some(doc)
    }

    /// An inline document at `pointer`.
    fn inline(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        slot: &Slot<'_>,
        validate: bool,
    ) -> Option<Arc<PolicyDoc>> {
        let origin = Origin {
            pointer: pointer.to_string(),
            file: None,
            span: node.span,
        };
        let bytes = value_end(self.text, node.span.offset).saturating_sub(node.span.offset);
        self.build(node, bytes, slot, &origin, validate)
    }

    /// A policy read from `rel` (relative to the base folder); `pointer` is the `file` member's.
    /// Returns the policy and where its document starts in the file.
    fn file(
        &mut self,
        rel: &str,
        pointer: &str,
        span: Span,
        slot: &Slot<'_>,
        validate: bool,
    ) -> Option<(Arc<PolicyDoc>, Span)> {
        let base = match self.files {
            FileRefs::In(base) => base,
            FileRefs::Refused { why, help } => {
                self.w
                    .error_help("IAM310", format!("`{rel}`: {why}"), help, pointer, span);
                return None;
            }
        };
        if rel.is_empty() || Path::new(rel).is_absolute() {
            self.w.error(
                "IAM310",
                format!("`{rel}`: a file reference is a path relative to the store's folder"),
                pointer,
                span,
            );
            return None;
        }
        // Resolved and checked before anything is read: a file outside the folder is never
        // opened, so no error can quote it.
        let path = match resolve_inside(base, rel) {
            Ok(p) => p,
            Err(Escape::Outside) => {
                self.w.error_help(
                    "IAM310",
                    format!("`{rel}`: a file reference must stay inside the store's folder"),
                    "write the path relative to the folder the store file is in, without `..` \
                     or symbolic links that lead out of it",
                    pointer,
                    span,
                );
                return None;
            }
            Err(Escape::Io(msg)) => {
                self.w
                    .error("IAM300", format!("{rel}: {msg}"), pointer, span);
                return None;
            }
        };
        let text = match read_bounded(&path) {
            Ok(t) => t,
            Err((code, msg)) => {
                self.w.error(code, format!("{rel}: {msg}"), pointer, span);
                return None;
            }
        };
        let mut origin = Origin {
            pointer: pointer.to_string(),
            file: Some(rel.to_string()),
            span: Span::default(),
        };
        // A referenced file may hold the text policy language; it reads into the same JSON
        // structure, with positions in the text.
        let parsed = if crate::parse::Form::detect(&text) == crate::parse::Form::Text {
            crate::parse::text::parse_text(&text, &self.limits).and_then(|p| {
                if p.lowering_errors.is_empty() {
                    Ok(p.json)
                } else {
                    Err(p.lowering_errors)
                }
            })
        } else {
            parse_json(&text, &self.limits).map_err(|d| vec![d])
        };
        let node = match parsed {
            Ok(n) => n,
            Err(d) => {
                self.report(d, &origin, None);
                return None;
            }
        };
        origin.span = node.span;
        let doc = self.build(&node, text.len(), slot, &origin, validate)?;
        Some((doc, node.span))
    }

    /// Builds (and validates) one policy; counts it against the store's bounds.
    fn build(
        &mut self,
        node: &JsonNode,
        bytes: usize,
        slot: &Slot<'_>,
        origin: &Origin,
        validate: bool,
    ) -> Option<Arc<PolicyDoc>> {
        if self.bound_reported {
            return None;
        }
        if self.all.len() >= self.bounds.policies {
            self.bound_reported = true;
            self.w.error(
                "IAM003",
                format!(
                    "the store has more than the bound max_policies = {} policies",
                    self.bounds.policies
                ),
                &origin.pointer,
                node.span,
            );
            return None;
        }
        let policy = match policy_from_node(node, bytes, &self.limits) {
            Ok(p) => p,
            Err(found) => {
                self.report(found, origin, None);
                return None;
            }
        };
        if validate {
            let found = check_policy(&policy, slot.ty, slot.attached_to);
            self.report(found, origin, None);
        }
        self.statements += policy.statements.len();
        if self.statements > self.bounds.statements {
            self.bound_reported = true;
            self.w.error(
                "IAM003",
                format!(
                    "the store has more than the bound max_statements = {} statements in all",
                    self.bounds.statements
                ),
                &origin.pointer,
                node.span,
            );
        }
        let doc = PolicyDoc::new(slot.id.clone(), slot.ty, policy);
        self.all.push(Arc::clone(&doc));
        Some(doc)
    }

    /// Files a policy's findings under the store: pointer prefixed with the document's, the
    /// file named in the message, whole-policy findings placed at the document.
    fn report(&mut self, found: Vec<Diagnostic>, origin: &Origin, note: Option<&str>) {
        for mut d in found {
            d.loc.pointer = format!("{}{}", origin.pointer, d.loc.pointer);
            if d.loc.line == 0 {
                d.loc.line = origin.span.line;
                d.loc.column = origin.span.column;
            }
            if let Some(f) = &origin.file {
                d.message = format!("{f}: {}", d.message);
            }
            if let Some(n) = note {
                d.message = format!("{} ({n})", d.message);
            }
            if d.is_error() {
                self.w.errors.push(d);
            } else {
                self.warnings.push(d);
            }
        }
    }

    /// A 12-digit account id (a key or a value).
    fn account_id(&mut self, id: &str, pointer: &str, span: Span) -> bool {
        let ok = valid_account(id);
        if !ok {
            self.w.error(
                "IAM307",
                format!("`{id}` is not an account id (12 digits)"),
                pointer,
                span,
            );
        }
        ok
    }

    /// `organization`.
    fn organization(&mut self, node: &JsonNode, pointer: &str) -> Option<Organization> {
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
    fn levels(
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
                    "IAM301",
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
    fn accounts(&mut self, node: &JsonNode, pointer: &str) -> BTreeMap<String, Account> {
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
    fn principals<'n>(
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
                    "IAM301",
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
                    "IAM309",
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
    fn path(&mut self, f: &Fields<'_>) -> String {
        let Some((v, ptr)) = f.get("path") else {
            return "/".into();
        };
        let Some(path) = self.w.string(v, &ptr, "`path`") else {
            return "/".into();
        };
        if !valid_path(path) {
            self.w.error(
                "IAM301",
                format!("`{path}` is not an IAM path: it starts and ends with `/`, e.g. `/teams/`"),
                &ptr,
                v.span,
            );
        }
        path.to_string()
    }

    /// `id`: a unique id such as `AIDA…`.
    fn unique_id(&mut self, f: &Fields<'_>) -> Option<String> {
        let (v, ptr) = f.get("id")?;
        let id = self.w.string(v, &ptr, "`id`")?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            self.w.error(
                "IAM301",
                format!("`{id}` is not a unique id (letters and digits, e.g. AIDA…, AROA…)"),
                &ptr,
                v.span,
            );
            return None;
        }
        Some(id.to_string())
    }

    /// `policies` (managed, or any policy form) then `inline`, all of type identity.
    fn identity_policies(&mut self, f: &Fields<'_>, owner: &str) -> Vec<Arc<PolicyDoc>> {
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
                        super::push_unique(&mut out, &d);
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
                            "IAM301",
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
    fn boundary(&mut self, f: &Fields<'_>, owner: &str) -> Option<Arc<PolicyDoc>> {
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
    fn tags(&mut self, f: &Fields<'_>) -> Tags {
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
                self.w
                    .error("IAM301", "a tag key must not be empty", &tptr, key.span);
                continue;
            }
            if let Some(other) = seen.insert(key.name.to_lowercase(), &key.name) {
                self.w.error(
                    "IAM309",
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

    fn group(&mut self, name: &str, node: &JsonNode, pointer: &str, prefix: &str) -> Option<Group> {
        let f = self.w.object(node, pointer, GROUP_FIELDS, "a group")?;
        let path = self.path(&f);
        let policies = self.identity_policies(&f, &format!("{prefix}group/{name}"));
        Some(Group {
            name: name.to_string(),
            path,
            policies,
        })
    }

    fn role(&mut self, name: &str, node: &JsonNode, pointer: &str, prefix: &str) -> Option<Role> {
        let f = self.w.object(node, pointer, ROLE_FIELDS, "a role")?;
        let owner = format!("{prefix}role/{name}");
        Some(Role {
            name: name.to_string(),
            path: self.path(&f),
            id: self.unique_id(&f),
            policies: self.identity_policies(&f, &owner),
            boundary: self.boundary(&f, &owner),
            tags: self.tags(&f),
        })
    }

    fn user(
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
                            "IAM306",
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

    /// `sessions`.
    fn sessions(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        accounts: &BTreeMap<String, Account>,
    ) -> BTreeMap<String, Session> {
        let mut out = BTreeMap::new();
        let Some(members) = self.w.map(node, pointer, "`sessions`") else {
            return out;
        };
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            let caller = Caller::parse(&key.name);
            let Some(skey) = caller.as_ref().ok().and_then(session_key) else {
                let why = match &caller {
                    Err(e) => e.clone(),
                    Ok(_) => "not a session".to_string(),
                };
                self.w.error_help(
                    "IAM308",
                    format!("`{}` is not a session ARN: {why}", key.name),
                    "a `sessions` key is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION or \
                     arn:aws:sts::ACCOUNT:federated-user/NAME",
                    &ptr,
                    key.span,
                );
                continue;
            };
            let Some(f) = self.w.object(entry, &ptr, SESSION_FIELDS, "a session") else {
                continue;
            };
            let mut user = None;
            if let Some((v, uptr)) = f.get("user") {
                if let Some(name) = self.w.string(v, &uptr, "`user`") {
                    match &caller {
                        Ok(Caller::FederatedUser { account, .. }) => {
                            if accounts.get(account).and_then(|a| a.user(name)).is_none() {
                                self.w.error(
                                    "IAM306",
                                    format!(
                                        "unknown user `{name}`: account {account} has no such user"
                                    ),
                                    &uptr,
                                    v.span,
                                );
                            } else {
                                user = Some(name.to_string());
                            }
                        }
                        _ => self.w.error(
                            "IAM301",
                            "`user` applies to federated-user sessions only (a role session's \
                             policies are its role's)",
                            &uptr,
                            v.span,
                        ),
                    }
                }
            }
            let policy = match f.get("policy") {
                Some((v, _)) if v.value == JsonValue::Null => None,
                Some((v, pptr)) => {
                    let slot = Slot {
                        ty: PolicyType::Session,
                        id: format!("session/{}", key.name),
                        attached_to: None,
                        names: Names::Allowed,
                    };
                    self.policy_ref(v, &pptr, &slot)
                }
                None => None,
            };
            let tags = self.tags(&f);
            let session = Session {
                arn: key.name.clone(),
                policy,
                tags,
                user,
            };
            if let Some(old) = out.insert(skey, session) {
                self.w.error(
                    "IAM309",
                    format!(
                        "sessions `{}` and `{}` differ only in the case of the role name; role \
                         names ignore case",
                        old.arn, key.name
                    ),
                    &ptr,
                    key.span,
                );
            }
        }
        out
    }

    /// `resources`.
    fn resources(&mut self, node: &JsonNode, pointer: &str) -> BTreeMap<String, Resource> {
        let mut out = BTreeMap::new();
        let Some(members) = self.w.map(node, pointer, "`resources`") else {
            return out;
        };
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            let arn = key.name.as_str();
            if let Err(why) = check_resource_arn(arn) {
                self.w.error(
                    "IAM308",
                    format!("`{arn}` is not a resource ARN: {why}"),
                    &ptr,
                    key.span,
                );
                continue;
            }
            let Some(f) = self.w.object(entry, &ptr, RESOURCE_FIELDS, "a resource") else {
                continue;
            };
            let default_ty = match ResourceType::of_arn(arn) {
                Some(ResourceType::Stream | ResourceType::Consumer) => PolicyType::KinesisResource,
                _ => PolicyType::Resource,
            };
            let ty = match f.get("type") {
                Some((v, tptr)) => self
                    .policy_type(
                        v,
                        &tptr,
                        &[PolicyType::Resource, PolicyType::KinesisResource],
                    )
                    .unwrap_or(default_ty),
                None => default_ty,
            };
            let policy = match f.get("policy") {
                Some((v, _)) if v.value == JsonValue::Null => None,
                Some((v, pptr)) => {
                    let slot = Slot {
                        ty,
                        id: format!("resource/{arn}"),
                        attached_to: Some(arn),
                        names: Names::Allowed,
                    };
                    self.policy_ref(v, &pptr, &slot)
                }
                None => None,
            };
            let tags = self.tags(&f);
            out.insert(
                arn.to_string(),
                Resource {
                    arn: arn.to_string(),
                    ty,
                    policy,
                    tags,
                },
            );
        }
        out
    }
}

/// Every policy type, for `policies` entries.
const ALL_TYPES: &[PolicyType] = &[
    PolicyType::Identity,
    PolicyType::Boundary,
    PolicyType::Session,
    PolicyType::Scp,
    PolicyType::Rcp,
    PolicyType::Resource,
    PolicyType::KinesisResource,
];

fn types_help() -> String {
    let names: Vec<&str> = ALL_TYPES.iter().map(|t| t.as_str()).collect();
    format!("add \"type\": one of {}", names.join(", "))
}
