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
use crate::arn::{Arn, ArnError};
use crate::ast::{Loc, PolicyDoc, PolicyType};
use crate::catalog::ResourceType;
use crate::diag::{Code, Diagnostic, Severity};
use crate::parse::json::reader::{child_pointer, parse_json, value_end, JsonNode, JsonValue, Span};
use crate::parse::json::walk::{self, loc, Codes, Fields, ReadError, Walker};
use crate::parse::{policy_from_node, Limits};
use crate::request::Caller;
use crate::validate::check_policy;

mod policies;
mod principals;
mod resources;

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
pub(super) const ROLE_FIELDS: &[&str] = &[
    "path", "id", "policies", "inline", "boundary", "tags", "trust",
];
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
pub(super) fn read_bounded(path: &Path) -> Result<String, (Code, String)> {
    let p = path.display();
    walk::read_bounded(path, MAX_STORE_BYTES).map_err(|e| match e {
        ReadError::Io(e) => (Code::StoreFileUnreadable, format!("cannot read `{p}`: {e}")),
        ReadError::NotAFile => (
            Code::StoreFileUnreadable,
            format!("cannot read `{p}`: it is not a file"),
        ),
        ReadError::TooBig(Some(len)) => (
            Code::BoundExceeded,
            format!(
                "`{p}` is {len} bytes, more than the bound max_store_bytes = {MAX_STORE_BYTES}"
            ),
        ),
        ReadError::TooBig(None) => (
            Code::BoundExceeded,
            format!("`{p}` is more than the bound max_store_bytes = {MAX_STORE_BYTES} bytes"),
        ),
        ReadError::NotUtf8(e) => (
            Code::StoreFileUnreadable,
            format!("`{p}` is not UTF-8 text: {e}"),
        ),
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
            wrong_type: Code::StoreWrongType,
            unknown_field: Code::StoreUnknownField,
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
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// `/`, or `/` + segments + `/`, in printable ASCII, at most 512 characters.
pub(crate) fn valid_path(path: &str) -> bool {
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
    let a = match Arn::parse(arn) {
        Ok(a) => a,
        Err(ArnError::TooFewFields { .. }) => return Err(
            "it needs six colon-separated parts (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
                .into(),
        ),
        Err(ArnError::NotArn) => return Err("it does not start with `arn:`".into()),
    };
    let (partition, service, account, resource) =
        (a.partition(), a.service(), a.account(), a.resource());
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
                Code::StoreMissingField,
                "the store has no `version` (it is required)",
                "add \"version\": 1",
                "",
                root.span,
            ),
            Some((v, ptr)) => {
                if !matches!(&v.value, JsonValue::Number(n) if n == "1") {
                    self.w.error_help(
                        Code::StoreWrongType,
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
        let mut resources = match top.get("resources") {
            Some((v, ptr)) => self.resources(v, &ptr),
            None => BTreeMap::new(),
        };
        // A role's trust policy is the resource-based policy of the role's ARN.
        for acct in store.accounts.values() {
            for role in acct.roles() {
                if let Some(trust) = &role.trust {
                    let arn = role.arn(&acct.id);
                    resources.insert(
                        arn.clone(),
                        Resource {
                            arn,
                            ty: PolicyType::RoleTrust,
                            policy: Some(Arc::clone(trust)),
                            tags: role.tags.clone(),
                        },
                    );
                }
            }
        }
        store.resources = Arc::new(
            resources
                .into_iter()
                .map(|(k, r)| (Arc::from(k), Arc::new(r)))
                .collect(),
        );
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
                    Code::UnattachedKinesisPolicy,
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
                Code::InvalidAccountId,
                format!("`{id}` is not an account id (12 digits)"),
                pointer,
                span,
            );
        }
        ok
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
    PolicyType::RoleTrust,
];

fn types_help() -> String {
    let names: Vec<&str> = ALL_TYPES.iter().map(|t| t.as_str()).collect();
    format!("add \"type\": one of {}", names.join(", "))
}
