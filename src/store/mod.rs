//! The policy store: who has which policies.
//!
//! A store is one JSON file (or a folder holding `store.json` and the policy files it refers
//! to) that lists the accounts, their users, groups and roles, role and federated sessions,
//! resources with resource-based policies, and the organization's SCPs and RCPs. From it,
//! [`Store::inputs_for`] gathers the policies that apply to a request (spec §5.1) and
//! [`Store::prepare`] adds the context keys that follow from the principal and the resource
//! (principal tags, `aws:userid`, resource tags; spec §4.6, §6).
//!
//! The JSON Schema (draft 2020-12) of the format is `src/store/schema.json` beside this file.
//!
//! # Format
//!
//! ```json
//! {
//!   "version": 1,
//!   "policies": {
//!     "KinesisRead": { "type": "identity", "document": { "Version": "2012-10-17", "Statement": [] } },
//!     "Boundary":    { "type": "boundary", "file": "policies/boundary.json" },
//!     "DenyDelete":  { "type": "scp", "document": { "...": "..." } }
//!   },
//!   "organization": {
//!     "management_account": "999999999999",
//!     "accounts": {
//!       "111122223333": { "scps": [["FullAWSAccess"], ["DenyDelete"]], "rcps": [["RCPFullAWSAccess"]] }
//!     }
//!   },
//!   "accounts": {
//!     "111122223333": {
//!       "users": {
//!         "alice": {
//!           "path": "/", "id": "AIDAEXAMPLE", "groups": ["devs"], "policies": ["KinesisRead"],
//!           "inline": { "put": { "...": "..." } }, "boundary": "Boundary", "tags": { "team": "data" }
//!         }
//!       },
//!       "groups": { "devs": { "policies": ["KinesisRead"], "inline": {} } },
//!       "roles": {
//!         "kcl-app": { "path": "/teams/", "id": "AROAEXAMPLE", "policies": [], "inline": {},
//!                      "boundary": null, "tags": {}, "trust": { "file": "policies/trust.json" } }
//!       }
//!     }
//!   },
//!   "sessions": {
//!     "arn:aws:sts::111122223333:assumed-role/kcl-app/s1": { "policy": "ReadOnlySession", "tags": { "team": "ops" } },
//!     "arn:aws:sts::111122223333:federated-user/bob": { "user": "alice", "policy": { "...": "..." } }
//!   },
//!   "resources": {
//!     "arn:aws:kinesis:us-east-2:111122223333:stream/orders": {
//!       "policy": { "file": "policies/orders-stream.json" }, "tags": { "env": "prod" }
//!     }
//!   }
//! }
//! ```
//!
//! | Place | Content |
//! | --- | --- |
//! | `version` | Required, the number `1`. |
//! | `$schema` | Optional string, ignored (for editors). |
//! | `policies` | Named (managed) policies: `name -> {"type", "document" \| "file"}`. `type` is one of `identity`, `boundary`, `session`, `scp`, `rcp`, `resource`, `kinesis-resource`, `role-trust`; exactly one of `document` (the IAM JSON) or `file` (a path relative to the store's folder). |
//! | `organization` | Optional. `management_account`: a 12-digit id; SCPs do not apply to its principals, RCPs not to its resources. `accounts`: `account id -> {"scps": LEVELS, "rcps": LEVELS}`, where LEVELS is an array of levels, root first, each a non-empty array of policies (of type `scp` resp. `rcp`). An account with no entry has no SCPs/RCPs. |
//! | `accounts` | `account id -> {"users", "groups", "roles"}`, each `name -> entry`. |
//! | user | `path` (default `/`), `id` (unique id, `AIDA…`), `groups` (names of groups of the same account), `policies` (managed, type `identity`), `inline` (`name -> document`, type `identity`), `boundary` (type `boundary`, or `null`), `tags` (`key -> value`). |
//! | group | `path`, `policies`, `inline`. |
//! | role | `path`, `id` (`AROA…`), `policies`, `inline`, `boundary`, `tags`, `trust` (the trust policy, type `role-trust`, or `null`: it becomes the resource-based policy of the role's ARN `arn:aws:iam::ACCOUNT:role/PATH/NAME` for the `sts:` actions, with the role's tags as its resource tags; a `resources` entry for a role ARN is refused). |
//! | `sessions` | Optional. Keyed by a role-session ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) or a federated-user ARN (`…:federated-user/NAME`): `policy` (type `session`, or `null`), `tags` (session tags; they override the role's or user's tags with the same key), and for a federated user `user`: the IAM user that called `GetFederationToken`, whose policies and boundary then apply. |
//! | `resources` | Optional. Keyed by resource ARN: `policy` (or `null`), `tags`, and `type` (`resource` or `kinesis-resource`; the default is `kinesis-resource` for a Kinesis stream or consumer ARN, else `resource`). |
//!
//! **Policies.** Wherever a policy goes, the store accepts an inline IAM JSON object, a
//! `{"file": "relative/path.json"}` reference, or (except under `inline`) a string naming an
//! entry of `policies`. A named policy must have the type its place requires: `identity` under
//! `policies`/`inline`, `boundary` for `boundary`, `session` for a session's `policy`, `scp` and
//! `rcp` in the organization's levels, and the resource's type for a resource's `policy`.
//!
//! **Names.** User, group and role names (letters, digits and `+=,.@_-`) ignore ASCII case, as
//! in IAM: two names of one kind that differ only in case are an error, and lookups (a user's
//! `groups`, a role session's role) ignore case. Policy names are exact. Paths start and end
//! with `/`. Tag keys ignore case (as condition keys do).
//!
//! **Ids.** Each policy gets a readable [`PolicyDoc::id`]: `policy/<name>` for a named policy
//! (`scp/<name>`, `rcp/<name>` for named SCPs and RCPs); `user/<name>/inline/<policy>`,
//! `user/<name>/policy/<index>` (a document in `policies`) and `user/<name>/boundary`, the same
//! with `group/` and `role/`; `session/<arn>`; `resource/<arn>`; `scp/<account>/<level>/<index>`
//! and `rcp/…` for documents written in the levels. When the store has more than one account,
//! the ids of principals' policies start with the account: `111122223333/user/alice/…`.
//!
//! # Loading
//!
//! [`Store::load`] reads a store file, or a folder holding `store.json`; `file` references are
//! relative to the folder the store file is in, and must stay inside it: `..` and symbolic
//! links are resolved, and a file that lies outside is refused (`IAM310`) without being read,
//! so no error ever quotes it. [`Store::from_str`] reads store text, with an optional base
//! folder for `file` references; [`Store::from_str_with`] can refuse them with a reason. The store is read with the span-preserving
//! reader (`crate::parse::json::reader`), so a duplicate key anywhere is an error and every
//! error has a JSON pointer and a line and column. Every policy is parsed and validated for the
//! type of its place ([`crate::validate::check_policy`]); a Kinesis resource policy is checked
//! against the ARN it is attached to. Loading collects **all** errors.
//!
//! Errors in a policy are re-pointed into the store: the pointer is the store pointer of the
//! document followed by the policy's own pointer (`/accounts/111122223333/users/alice/inline/put/Statement/0/Action`).
//! For a policy read from a file, the pointer is that of the `file` member followed by the
//! policy's pointer, the message starts with the file name as written (`policies/x.json: …`),
//! and line and column are those in that file.
//!
//! # Bounds
//!
//! | Bound | Value |
//! | --- | --- |
//! | [`MAX_STORE_BYTES`] | 64 MiB: the store file and every referenced file. |
//! | [`MAX_POLICIES`] | 100,000 policies in one store. |
//! | [`MAX_STATEMENTS`] | 1,000,000 statements in all policies of one store. |
//!
//! Each policy is also bounded by the parser's [`Limits`](crate::parse::Limits) (1 MiB,
//! 10,000 statements). Exceeding a bound is an error `IAM003` that names the bound.
//!
//! # Codes
//!
//! | Code | Meaning |
//! | --- | --- |
//! | `IAM003` | A bound is exceeded (store size, policies, statements; see above). |
//! | `IAM300` | A file cannot be read (missing, not a file, not UTF-8); the message names the path. |
//! | `IAM301` | A store field has the wrong JSON type or an invalid value (version, type name, path, name, id, empty SCP level…). |
//! | `IAM302` | Unknown field; the pointer names it. |
//! | `IAM303` | A required field is missing (`version`, a policy's `type`, its `document`/`file`). |
//! | `IAM304` | Unknown policy name (no entry of `policies`). |
//! | `IAM305` | A named policy has the wrong type for its place. |
//! | `IAM306` | Unknown group (in a user's `groups`) or user (a federated session's `user`). |
//! | `IAM307` | An account id is not 12 digits. |
//! | `IAM308` | A key of `resources` or `sessions` is not a valid ARN of its kind. |
//! | `IAM309` | Two names (users, groups, roles, sessions, tag keys) differ only in case. |
//! | `IAM310` | A `file` reference cannot be used (no base folder or refused, absolute path, a path that leads out of the store's folder by `..` or a symbolic link, both `document` and `file`). |
//! | `IAM350` | Warning: a named `kinesis-resource` policy is attached to no resource, so its Kinesis checks (which need the ARN) were not run. |
//!
//! Policy documents report the parser's (`IAM0xx`) and the validator's (`IAM1xx`) codes.
//!
//! # Queries
//!
//! | Caller | Identity policies | Boundary | Session policy | SCPs |
//! | --- | --- | --- | --- | --- |
//! | IAM user | its `policies` and `inline`, then each group's | the user's | — | caller's account |
//! | IAM role | its `policies` and `inline` | the role's | — | caller's account |
//! | role session | its role's (found by name, ignoring case) | the role's | `sessions` entry | caller's account |
//! | federated user | its `sessions` entry's `user`'s (with groups) | that user's | `sessions` entry | caller's account |
//! | root | none | — | — | caller's account |
//! | anonymous, service | none | — | — | none |
//!
//! A user or role ARN must carry the store's path (`user/div/alice` for path `/div/`): an ARN
//! with another path names another principal. An unknown principal gets no identity policies;
//! that is not an error. SCPs do not apply in the management account or an account with no
//! `organization` entry. Each requested resource gets a [`ResourceSide`] when it has a policy
//! or its account has RCPs (not in the management account).

mod load;
mod prepare;
mod update;
#[cfg(feature = "server")]
pub(crate) use load::{resolve_inside, Escape};
pub(crate) use load::{valid_name, valid_path};
pub(crate) use prepare::PrepareIndex;
pub use update::SessionError;
#[cfg(test)]
mod tests;

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::ast::{Inputs, Loc, PolicyDoc, PolicyType, ResourceSide};
use crate::diag::Diagnostic;
use crate::request::{Caller, Request};

/// Largest store file, and largest file a store refers to, in bytes (64 MiB).
pub const MAX_STORE_BYTES: usize = 64 * 1024 * 1024;
/// Most policies in one store.
pub const MAX_POLICIES: usize = 100_000;
/// Most statements in all the policies of one store.
pub const MAX_STATEMENTS: usize = 1_000_000;

/// Tags: key -> value. Keys are unique ignoring case.
pub type Tags = BTreeMap<String, String>;

/// A loaded, validated store. Immutable; share it behind an `Arc`.
#[derive(Clone, Debug, Default)]
///
/// Its parts are shared behind `Arc`s, so a copy costs a few reference counts, and an update
/// ([`Store::set_resource_policy`] and the other setters) copies only the part it changes
/// (copy on write): the gateway's `PutResourcePolicy` does not copy the principals.
pub struct Store {
    /// Named policies by name.
    named: Arc<BTreeMap<String, Arc<PolicyDoc>>>,
    organization: Option<Arc<Organization>>,
    accounts: Arc<BTreeMap<String, Account>>,
    /// Sessions by [`session_key`].
    sessions: Arc<BTreeMap<String, Session>>,
    /// Resources by ARN; the keys and entries are shared, so copying the map for an update
    /// copies no string.
    resources: Arc<BTreeMap<Arc<str>, Arc<Resource>>>,
    /// Every policy once, in the order read.
    all: Arc<Vec<Arc<PolicyDoc>>>,
    statements: usize,
    warnings: Arc<Vec<Diagnostic>>,
}

/// The organization: SCP and RCP levels per account.
#[derive(Clone, Debug, Default)]
pub struct Organization {
    /// The management account, to whose principals SCPs and to whose resources RCPs do not
    /// apply.
    pub management_account: Option<String>,
    /// Policy levels per member account.
    pub accounts: BTreeMap<String, OrgAccount>,
}

/// The organization policies of one account.
#[derive(Clone, Debug, Default)]
pub struct OrgAccount {
    /// SCP levels, root first; each level holds one or more policies.
    pub scps: Vec<Vec<Arc<PolicyDoc>>>,
    /// RCP levels, root first; each level holds one or more policies.
    pub rcps: Vec<Vec<Arc<PolicyDoc>>>,
}

/// The IAM principals of one account. Names are looked up ignoring ASCII case.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// Keyed by the lower-cased name.
    users: BTreeMap<String, User>,
    groups: BTreeMap<String, Group>,
    roles: BTreeMap<String, Role>,
}

impl Account {
    /// The user `name` (any case).
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(&name.to_ascii_lowercase())
    }

    /// The group `name` (any case).
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(&name.to_ascii_lowercase())
    }

    /// The role `name` (any case).
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(&name.to_ascii_lowercase())
    }

    /// Every user, by lower-cased name.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// Every group, by lower-cased name.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Every role, by lower-cased name.
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    /// The user an ARN's `path/name` (the part after `user/`) names: same name ignoring case,
    /// and the same path.
    fn user_at(&self, path_name: &str) -> Option<&User> {
        let (path, name) = split_path_name(path_name);
        self.user(name).filter(|u| u.path == path)
    }

    /// The role an ARN's `path/name` (the part after `role/`) names.
    fn role_at(&self, path_name: &str) -> Option<&Role> {
        let (path, name) = split_path_name(path_name);
        self.role(name).filter(|r| r.path == path)
    }
}

/// `division/alice` -> (`/division/`, `alice`); `alice` -> (`/`, `alice`).
fn split_path_name(path_name: &str) -> (String, &str) {
    match path_name.rsplit_once('/') {
        Some((dirs, name)) => (format!("/{dirs}/"), name),
        None => ("/".to_string(), path_name),
    }
}

/// An IAM user.
#[derive(Clone, Debug, Default)]
pub struct User {
    /// The name as written.
    pub name: String,
    /// The path, `/` by default.
    pub path: String,
    /// The unique id (`AIDA…`), when given; it is `aws:userid`.
    pub id: Option<String>,
    /// Names of its groups, as written.
    pub groups: Vec<String>,
    /// Its identity policies: managed ones, then inline ones.
    pub policies: Vec<Arc<PolicyDoc>>,
    /// Its permissions boundary.
    pub boundary: Option<Arc<PolicyDoc>>,
    /// Its tags.
    pub tags: Tags,
}

/// An IAM group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// The name as written.
    pub name: String,
    /// The path, `/` by default.
    pub path: String,
    /// Its identity policies: managed ones, then inline ones.
    pub policies: Vec<Arc<PolicyDoc>>,
}

/// An IAM role.
#[derive(Clone, Debug, Default)]
pub struct Role {
    /// The name as written.
    pub name: String,
    /// The path, `/` by default.
    pub path: String,
    /// The unique id (`AROA…`), when given; sessions' `aws:userid` is `id:session-name`.
    pub id: Option<String>,
    /// Its identity policies: managed ones, then inline ones.
    pub policies: Vec<Arc<PolicyDoc>>,
    /// Its permissions boundary.
    pub boundary: Option<Arc<PolicyDoc>>,
    /// Its tags.
    pub tags: Tags,
    /// Its trust policy (type `role-trust`): who may assume it. The store also files it as the
    /// resource-based policy of the role's ARN ([`Role::arn`]), so `sts:AssumeRole` on that
    /// ARN is decided like any request.
    pub trust: Option<Arc<PolicyDoc>>,
}

impl Role {
    /// The role's ARN in `account`: `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub fn arn(&self, account: &str) -> String {
        format!("arn:aws:iam::{account}:role{}{}", self.path, self.name)
    }
}

/// A role session or a federated-user session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The session ARN as written in the store.
    pub arn: String,
    /// The session policy.
    pub policy: Option<Arc<PolicyDoc>>,
    /// Session tags; they override the role's (or user's) tags with the same key.
    pub tags: Tags,
    /// For a federated user: the IAM user that called `GetFederationToken`.
    pub user: Option<String>,
}

/// A resource with its policy and tags.
#[derive(Clone, Debug)]
pub struct Resource {
    /// The resource ARN.
    pub arn: String,
    /// The type of its policy: `kinesis-resource` or `resource`.
    pub ty: PolicyType,
    /// The resource-based policy.
    pub policy: Option<Arc<PolicyDoc>>,
    /// Its tags (`aws:ResourceTag/<k>`).
    pub tags: Tags,
}

/// Counts of what a store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    /// Entries of `accounts`.
    pub accounts: usize,
    /// IAM users in all accounts.
    pub users: usize,
    /// IAM roles in all accounts.
    pub roles: usize,
    /// IAM groups in all accounts.
    pub groups: usize,
    /// Entries of `sessions`.
    pub sessions: usize,
    /// Policies (each once, named or not).
    pub policies: usize,
    /// Statements in all policies.
    pub statements: usize,
    /// Entries of `resources`.
    pub resources: usize,
}

/// The key of a session ARN in [`Store::sessions`]: the ARN with the role name lower-cased
/// (role names ignore case). `None` for callers that are not sessions.
pub(crate) fn session_key(caller: &Caller) -> Option<String> {
    match caller {
        Caller::RoleSession {
            partition,
            account,
            role_name,
            session,
            ..
        } => Some(format!(
            "arn:{partition}:sts::{account}:assumed-role/{}/{session}",
            role_name.to_ascii_lowercase()
        )),
        Caller::FederatedUser { .. } => caller.arn(),
        _ => None,
    }
}

/// Appends `doc` unless that very policy is there already (a managed policy attached to a user
/// and to one of its groups applies once).
fn push_unique(list: &mut Vec<Arc<PolicyDoc>>, doc: &Arc<PolicyDoc>) {
    if !list.iter().any(|d| Arc::ptr_eq(d, doc)) {
        list.push(Arc::clone(doc));
    }
}

/// Where the `file` references of a store text may be read from.
#[derive(Clone, Copy, Debug)]
pub enum FileRefs<'a> {
    /// Relative to this folder, and only inside it: after `..` and symbolic links are resolved,
    /// the file must lie in the folder (else `IAM310`, and the file is not read).
    In(&'a Path),
    /// Nowhere: a `file` reference is an error `IAM310`, with this message and help.
    Refused {
        /// Why (the message, after the reference).
        why: &'a str,
        /// How to make it work.
        help: &'a str,
    },
}

impl Store {
    /// Loads a store from `path`: a store JSON file, or a folder holding `store.json`. `file`
    /// references are relative to the folder the store file is in.
    ///
    /// Returns every error found (with the warnings found on the way) when the store or any of
    /// its policies is invalid.
    pub fn load(path: &Path) -> Result<Store, Vec<Diagnostic>> {
        let (file, base) = if path.is_dir() {
            (path.join("store.json"), path.to_path_buf())
        } else {
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (path.to_path_buf(), base)
        };
        let text = load::read_bounded(&file).map_err(|(code, msg)| {
            vec![Diagnostic::error(
                code,
                format!("{}: {msg}", file.display()),
                Loc::default(),
            )]
        })?;
        Store::from_str(&text, Some(&base))
    }

    /// Reads a store from its JSON text. `base_dir` is the folder `file` references are
    /// relative to (they must stay inside it); without it, a `file` reference is an error.
    ///
    /// Returns every error found (with the warnings found on the way) when the store or any of
    /// its policies is invalid.
    pub fn from_str(text: &str, base_dir: Option<&Path>) -> Result<Store, Vec<Diagnostic>> {
        let files = match base_dir {
            Some(base) => FileRefs::In(base),
            None => FileRefs::Refused {
                why: "a file reference needs the store's folder",
                help: "load the store with Store::load (a file or folder), or pass a base folder",
            },
        };
        load::load(text, files)
    }

    /// [`Store::from_str`], saying where `file` references may be read.
    pub fn from_str_with(text: &str, files: FileRefs<'_>) -> Result<Store, Vec<Diagnostic>> {
        load::load(text, files)
    }

    /// The policies that apply to `req` (spec §5.1; see the module docs for the table). Call
    /// [`Store::prepare`] on the request first so that its keys are complete; this method
    /// reads only the caller and the resources.
    pub fn inputs_for(&self, req: &Request) -> Inputs {
        let mut inputs = self.caller_inputs(&req.caller);
        for arn in req.resources() {
            if inputs.resources.iter().any(|s| s.arn == arn) {
                continue;
            }
            if let Some(side) = self.resource_side(arn, req.resource_account(arn)) {
                inputs.resources.push(side);
            }
        }
        inputs
    }

    /// The caller's part of [`Store::inputs_for`]: identity policies, boundary, session policy
    /// and SCP levels (no resources). It depends on the caller alone.
    pub fn caller_inputs(&self, caller: &Caller) -> Inputs {
        let mut inputs = Inputs::default();
        let account = caller.account().and_then(|a| self.accounts.get(a));
        let session = session_key(caller).and_then(|k| self.sessions.get(&k));
        match caller {
            Caller::User { path_name, .. } => {
                if let Some((acct, user)) = account.and_then(|a| Some((a, a.user_at(path_name)?))) {
                    Self::add_user(acct, user, &mut inputs);
                }
            }
            Caller::Role { path_name, .. } => {
                if let Some(role) = account.and_then(|a| a.role_at(path_name)) {
                    Self::add_role(role, &mut inputs);
                }
            }
            Caller::RoleSession { role_name, .. } => {
                if let Some(role) = account.and_then(|a| a.role(role_name)) {
                    Self::add_role(role, &mut inputs);
                }
                inputs.session = session.and_then(|s| s.policy.clone());
            }
            Caller::FederatedUser { .. } => {
                let user = session.and_then(|s| s.user.as_deref());
                if let Some((acct, user)) = account.and_then(|a| Some((a, a.user(user?)?))) {
                    Self::add_user(acct, user, &mut inputs);
                }
                inputs.session = session.and_then(|s| s.policy.clone());
            }
            Caller::Root { .. } | Caller::Anonymous | Caller::Service { .. } => {}
        }
        if let Some(acct) = caller.account() {
            inputs.scps = self.scp_levels(acct);
        }
        inputs
    }

    /// The resource side of `arn` in [`Store::inputs_for`]: its policy ([`Store::resource`])
    /// and the RCP levels of `account` ([`Store::rcp_levels`]; the resource's account, or the
    /// caller's for an ARN without one). `None` when it has neither.
    pub fn resource_side(&self, arn: &str, account: Option<&str>) -> Option<ResourceSide> {
        let policy = self.resources.get(arn).and_then(|r| r.policy.clone());
        let rcps = account.map(|a| self.rcp_levels(a)).unwrap_or_default();
        (policy.is_some() || !rcps.is_empty()).then(|| ResourceSide {
            arn: arn.to_string(),
            policy,
            rcps,
        })
    }

    /// The SCP levels that apply to principals of `account`: none in the management account
    /// or an account the organization does not list.
    pub fn scp_levels(&self, account: &str) -> Vec<Vec<Arc<PolicyDoc>>> {
        self.org_levels(account, |o| &o.scps)
    }

    /// The RCP levels that apply to resources of `account`: none in the management account
    /// or an account the organization does not list.
    pub fn rcp_levels(&self, account: &str) -> Vec<Vec<Arc<PolicyDoc>>> {
        self.org_levels(account, |o| &o.rcps)
    }

    /// The SCP or RCP levels of `account`: none in the management account or an account the
    /// organization does not list.
    fn org_levels(
        &self,
        account: &str,
        pick: impl Fn(&OrgAccount) -> &Vec<Vec<Arc<PolicyDoc>>>,
    ) -> Vec<Vec<Arc<PolicyDoc>>> {
        let Some(org) = &self.organization else {
            return Vec::new();
        };
        if org.management_account.as_deref() == Some(account) {
            return Vec::new();
        }
        org.accounts
            .get(account)
            .map(pick)
            .cloned()
            .unwrap_or_default()
    }

    fn add_user(account: &Account, user: &User, inputs: &mut Inputs) {
        for p in &user.policies {
            push_unique(&mut inputs.identity, p);
        }
        for g in user.groups.iter().filter_map(|g| account.group(g)) {
            for p in &g.policies {
                push_unique(&mut inputs.identity, p);
            }
        }
        inputs.boundary = user.boundary.clone();
    }

    fn add_role(role: &Role, inputs: &mut Inputs) {
        for p in &role.policies {
            push_unique(&mut inputs.identity, p);
        }
        inputs.boundary = role.boundary.clone();
    }

    /// Completes a request from the store, in place:
    ///
    /// 1. fills the role's path into a [`Caller::RoleSession`] (so `aws:PrincipalArn` is the
    ///    role's full ARN);
    /// 2. [`Request::derive_keys`];
    /// 3. adds, where the request lacks them: `aws:PrincipalTag/<k>` from the user's or role's
    ///    tags (a session's tags override them), `aws:userid` from the user's `id`, or
    ///    `role-id:session-name` for a role session whose role has an `id`, and
    ///    `aws:ResourceTag/<k>` from the tags of the primary resource (`req.resource`).
    ///
    /// Keys the request already has (in any case) are kept.
    pub fn prepare(&self, req: &mut Request) {
        self.complete(req, None);
    }

    /// Every policy of the store once (named policies once however often they are attached),
    /// in the order read.
    pub fn policies(&self) -> impl Iterator<Item = &Arc<PolicyDoc>> {
        self.all.iter()
    }

    /// Counts of accounts, principals, sessions, policies, statements and resources.
    pub fn stats(&self) -> StoreStats {
        let sum = |f: fn(&Account) -> usize| self.accounts.values().map(f).sum();
        StoreStats {
            accounts: self.accounts.len(),
            users: sum(|a| a.users.len()),
            roles: sum(|a| a.roles.len()),
            groups: sum(|a| a.groups.len()),
            sessions: self.sessions.len(),
            policies: self.all.len(),
            statements: self.statements,
            resources: self.resources.len(),
        }
    }

    /// The validators' warnings (and other non-error findings) of the loaded store, for
    /// display.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The named policy `name` (exact name).
    pub fn policy(&self, name: &str) -> Option<&Arc<PolicyDoc>> {
        self.named.get(name)
    }

    /// The account `id`.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// Every account, by id.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// The organization, when the store has one.
    pub fn organization(&self) -> Option<&Organization> {
        self.organization.as_deref()
    }

    /// The session entry of a session ARN (the role name in any case).
    pub fn session(&self, arn: &str) -> Option<&Session> {
        let caller = Caller::parse(arn).ok()?;
        self.sessions.get(&session_key(&caller)?)
    }

    /// Every session entry, ordered by ARN (role names lower-cased).
    pub fn sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// The resource entry of an ARN (exact).
    pub fn resource(&self, arn: &str) -> Option<&Resource> {
        self.resources.get(arn).map(|r| &**r)
    }

    /// Every resource entry, ordered by ARN.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.values().map(|r| &**r)
    }
}
