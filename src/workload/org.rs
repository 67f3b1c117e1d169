//! An organization-scale store (issue 14, item 7), generated from a seed: accounts in three
//! organizational units, users in groups, roles with permissions boundaries, streams and
//! consumers with resource policies shared across accounts, SCP levels (root, OU, account), and
//! conditions on tags, source IP and TLS. The requests come from sessions the store does not
//! list (any session name of a role), and are a mix of allowed, explicitly denied and implicitly
//! denied ones.
//!
//! The store is written in the store format ([`OrgStore::write`]: `store.json` and the policy
//! files it names), so `iamc check DIR` and `iamc authorize --store DIR` read it; the requests
//! are JSON Lines as `iamc authorize --requests` reads them ([`OrgStore::requests_jsonl`]).
//! Named policies (group policies, boundaries, SCPs) and resource policies live in files;
//! users' and roles' own policies are inline documents in `store.json`.
//!
//! At the default size ([`OrgSize::DEFAULT`]: 14 accounts, 1,000 users and roles, 3,600
//! streams) the store holds about 23,000 statements.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::Rng;
use crate::request::{Request, RequestJson};

mod policies;

/// The size of a generated organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrgSize {
    /// Member accounts (the management account is extra and holds nothing).
    pub accounts: usize,
    /// IAM users and roles, over all accounts (about 55% users).
    pub principals: usize,
    /// Kinesis streams, over all accounts; a third carry a resource policy, a sixth a consumer.
    pub streams: usize,
}

impl OrgSize {
    /// The organization of issue 14: 14 accounts, 1,000 users and roles, 3,600 streams.
    pub const DEFAULT: OrgSize = OrgSize {
        accounts: 14,
        principals: 1_000,
        streams: 3_600,
    };

    /// A small organization for tests: 3 accounts, 40 users and roles, 60 streams.
    pub const SMALL: OrgSize = OrgSize {
        accounts: 3,
        principals: 40,
        streams: 60,
    };
}

impl Default for OrgSize {
    fn default() -> OrgSize {
        OrgSize::DEFAULT
    }
}

/// What was generated, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OrgSummary {
    /// Member accounts.
    pub accounts: usize,
    /// IAM users.
    pub users: usize,
    /// IAM groups.
    pub groups: usize,
    /// IAM roles.
    pub roles: usize,
    /// Users and roles with a permissions boundary.
    pub with_boundary: usize,
    /// Streams.
    pub streams: usize,
    /// Stream consumers.
    pub consumers: usize,
    /// Streams and consumers with a resource policy.
    pub resource_policies: usize,
    /// Policy documents (named, inline, resource).
    pub documents: usize,
    /// Statements over every document.
    pub statements: usize,
    /// Policy files written beside `store.json`.
    pub files: usize,
    /// Requests.
    pub requests: usize,
}

/// A generated organization: the store text, its policy files, and requests against it.
#[derive(Clone, Debug)]
pub struct OrgStore {
    /// `store.json`.
    pub store: String,
    /// The policy files `store.json` refers to: (path relative to the store folder, text).
    pub files: Vec<(String, String)>,
    /// The requests.
    pub requests: Vec<RequestJson>,
    /// Counts.
    pub summary: OrgSummary,
}

impl OrgStore {
    /// Writes `store.json` and the policy files into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("store.json"), &self.store)?;
        for (rel, text) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(())
    }

    /// The requests as JSON Lines (`iamc authorize --requests`).
    pub fn requests_jsonl(&self) -> String {
        let mut out = String::new();
        for r in &self.requests {
            out.push_str(&serde_json::to_string(r).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    /// The requests as [`Request`]s (every generated request converts).
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .iter()
            .filter_map(|r| r.to_request().ok())
            .collect()
    }
}

const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2"];
const TEAMS: &[&str] = &[
    "payments",
    "search",
    "ads",
    "fraud",
    "logistics",
    "identity",
    "growth",
    "platform",
];
const KINDS: &[&str] = &["events", "clicks", "orders", "audit", "metrics", "logs"];
const ENVS: &[&str] = &["prod", "staging", "dev"];
const CLASSES: &[&str] = &["public", "internal", "restricted"];
const GROUPS: &[&str] = &[
    "readers", "writers", "admins", "auditors", "oncall", "analysts",
];
const ROLE_KINDS: &[&str] = &["producer", "consumer", "pipeline", "admin"];
/// The organization's networks: requests from elsewhere are denied by an SCP.
const CORP_CIDRS: &[&str] = &["10.0.0.0/8", "192.0.2.0/24"];

const READ: &[&str] = &[
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:DescribeStreamSummary",
    "kinesis:ListShards",
];
const WRITE: &[&str] = &["kinesis:PutRecord", "kinesis:PutRecords"];
const ADMIN: &[&str] = &[
    "kinesis:DeleteStream",
    "kinesis:IncreaseStreamRetentionPeriod",
    "kinesis:DecreaseStreamRetentionPeriod",
    "kinesis:AddTagsToStream",
    "kinesis:MergeShards",
    "kinesis:SplitShard",
];
/// Actions requests use beside those above (most are granted to nobody in particular).
const OTHER: &[&str] = &[
    "kinesis:DescribeStream",
    "kinesis:ListTagsForStream",
    "kinesis:SubscribeToShard",
    "kinesis:RegisterStreamConsumer",
    "kinesis:StartStreamEncryption",
    "kinesis:UpdateShardCount",
];

/// A stream (or consumer) of the organization.
#[derive(Clone, Debug)]
struct Stream {
    arn: String,
    account: usize,
    team: &'static str,
    consumer: Option<String>,
}

/// A user or a role.
#[derive(Clone, Debug)]
struct Principal {
    account: usize,
    /// `user` or `role`.
    role: bool,
    name: String,
    path: String,
    team: &'static str,
    kind: &'static str,
    /// (action, resource) pairs its Allow statements grant (examples for requests).
    grants: Vec<(String, String)>,
    /// (action, resource) pairs its own Deny statements refuse.
    denies: Vec<(String, String)>,
}

fn account_id(i: usize) -> String {
    format!("{:012}", 210_000_000_000u64 + i as u64 * 104_729)
}

fn env_of(account: usize) -> &'static str {
    ENVS[account % ENVS.len()]
}

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn allow(sid: &str, actions: &[&str], resources: Value) -> Map<String, Value> {
    let mut s = Map::new();
    s.insert("Sid".into(), json!(sid));
    s.insert("Effect".into(), json!("Allow"));
    s.insert("Action".into(), json!(actions));
    s.insert("Resource".into(), resources);
    s
}

fn deny(sid: &str, actions: &[&str], resources: Value) -> Map<String, Value> {
    let mut s = allow(sid, actions, resources);
    s.insert("Effect".into(), json!("Deny"));
    s
}

fn with_condition(mut s: Map<String, Value>, cond: Value) -> Value {
    s.insert("Condition".into(), cond);
    Value::Object(s)
}

fn some<'a>(rng: &mut Rng, items: &[&'a str], max: usize) -> Vec<&'a str> {
    let n = 1 + rng.below(max.min(items.len()));
    let start = rng.below(items.len());
    (0..n).map(|k| items[(start + k) % items.len()]).collect()
}

fn count_statements(doc: &Value) -> usize {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.len(),
        Some(_) => 1,
        None => 0,
    }
}

/// Builds the organization.
struct Builder {
    rng: Rng,
    size: OrgSize,
    streams: Vec<Stream>,
    principals: Vec<Principal>,
    /// Named policies: name -> (type, file).
    named: BTreeMap<String, Value>,
    files: Vec<(String, String)>,
    summary: OrgSummary,
}

impl Builder {
    fn file(&mut self, rel: String, doc: &Value) {
        self.summary.documents += 1;
        self.summary.statements += count_statements(doc);
        let text = serde_json::to_string_pretty(doc).unwrap_or_default();
        self.files.push((rel, text));
    }

    fn named_policy(&mut self, name: String, ty: &str, doc: &Value) -> String {
        let rel = format!("policies/{name}.json");
        self.file(rel.clone(), doc);
        self.named
            .insert(name.clone(), json!({"type": ty, "file": rel}));
        name
    }

    fn inline(&mut self, doc: Value) -> Value {
        self.summary.documents += 1;
        self.summary.statements += count_statements(&doc);
        doc
    }

    fn streams_of(&self, account: usize) -> Vec<usize> {
        (0..self.streams.len())
            .filter(|s| self.streams[*s].account == account)
            .collect()
    }

    fn make_streams(&mut self) {
        let n = self.size.accounts.max(1);
        for s in 0..self.size.streams {
            let account = s % n;
            let region = REGIONS[(s / n) % REGIONS.len()];
            let team = self.rng.pick(TEAMS);
            let kind = self.rng.pick(KINDS);
            let arn = format!(
                "arn:aws:kinesis:{region}:{}:stream/{team}-{kind}-{s}",
                account_id(account)
            );
            let consumer =
                (s % 6 == 0).then(|| format!("{arn}/consumer/{team}-reader-{s}:1700000{s:03}"));
            self.streams.push(Stream {
                arn,
                account,
                team,
                consumer,
            });
        }
    }

    fn make_principals(&mut self) {
        let n = self.size.accounts.max(1);
        for p in 0..self.size.principals {
            let account = p % n;
            let team = self.rng.pick(TEAMS);
            let role = self.rng.percent(45);
            let (name, kind, path) = if role {
                let kind = self.rng.pick(ROLE_KINDS);
                (format!("{team}-{kind}-{p}"), kind, "/".to_string())
            } else {
                let path = if self.rng.percent(20) {
                    format!("/teams/{team}/")
                } else {
                    "/".to_string()
                };
                (format!("{team}.user{p}"), "user", path)
            };
            self.principals.push(Principal {
                account,
                role,
                name,
                path,
                team,
                kind,
                grants: Vec::new(),
                denies: Vec::new(),
            });
        }
    }

    /// A role of `team` in another account than `account`, if there is one.
    fn foreign_role(&mut self, account: usize, team: &str, kind: &str) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.principals.len())
            .filter(|i| {
                let p = &self.principals[*i];
                p.role && p.account != account && p.team == team && p.kind == kind
            })
            .collect();
        candidates.get(self.rng.below(candidates.len())).copied()
    }

    fn principal_arn(&self, i: usize) -> String {
        let p = &self.principals[i];
        let kind = if p.role { "role" } else { "user" };
        format!(
            "arn:aws:iam::{}:{kind}{}{}",
            account_id(p.account),
            p.path,
            p.name
        )
    }

    fn accounts(&mut self) -> Value {
        let mut accounts = Map::new();
        for a in 0..self.size.accounts {
            let acct = account_id(a);
            let (groups, [dev_boundary, workload_boundary]) = self.account_policies(a);
            let mut users = Map::new();
            let mut roles = Map::new();
            let members: Vec<usize> = (0..self.principals.len())
                .filter(|i| self.principals[*i].account == a)
                .collect();
            for i in members {
                let own = self.own_policy(i);
                let own = self.inline(own);
                let p = self.principals[i].clone();
                let mut entry = Map::new();
                if p.path != "/" {
                    entry.insert("path".into(), json!(p.path));
                }
                entry.insert(
                    "tags".into(),
                    json!({"team": p.team, "cost-center": format!("cc-{}", self.rng.below(40))}),
                );
                entry.insert("inline".into(), json!({"own": own}));
                if p.role {
                    self.summary.roles += 1;
                    if self.rng.percent(60) {
                        entry.insert("boundary".into(), json!(workload_boundary));
                        self.summary.with_boundary += 1;
                    }
                    if p.kind == "admin" {
                        let admins = groups.iter().find(|g| g.ends_with("-admins")).cloned();
                        entry.insert(
                            "policies".into(),
                            json!(admins.into_iter().collect::<Vec<_>>()),
                        );
                    }
                    roles.insert(p.name.clone(), Value::Object(entry));
                } else {
                    self.summary.users += 1;
                    let member_of: Vec<&str> = some(&mut self.rng, GROUPS, 3);
                    entry.insert("groups".into(), json!(member_of));
                    if self.rng.percent(30) {
                        entry.insert("boundary".into(), json!(dev_boundary));
                        self.summary.with_boundary += 1;
                    }
                    users.insert(p.name.clone(), Value::Object(entry));
                }
            }
            let mut group_map = Map::new();
            for g in GROUPS {
                let policy = format!("{acct}-{g}");
                if groups.contains(&policy) {
                    group_map.insert((*g).to_string(), json!({"policies": [policy]}));
                    self.summary.groups += 1;
                }
            }
            accounts.insert(
                acct,
                json!({"users": users, "groups": group_map, "roles": roles}),
            );
        }
        Value::Object(accounts)
    }

    fn caller(&mut self, i: usize) -> String {
        let p = &self.principals[i];
        let acct = account_id(p.account);
        if p.role {
            // A session the store does not list: a random name each time.
            let session = match self.rng.below(3) {
                0 => format!("i-0{:016x}", self.rng.next_u64()),
                1 => format!("botocore-session-{}", self.rng.below(10_000_000)),
                _ => format!("{}@example.com", TEAMS[self.rng.below(TEAMS.len())]),
            };
            format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", p.name)
        } else {
            format!("arn:aws:iam::{acct}:user{}{}", p.path, p.name)
        }
    }

    fn request(&mut self, n: usize) -> RequestJson {
        let who = self.rng.below(self.principals.len());
        let p = self.principals[who].clone();
        let roll = self.rng.below(100);
        let random_stream = |b: &mut Builder| -> String {
            let s = b.rng.below(b.streams.len());
            b.streams[s].arn.clone()
        };
        let (action, resource) = if roll < 55 && !p.grants.is_empty() {
            p.grants[self.rng.below(p.grants.len())].clone()
        } else if roll < 65 && !p.denies.is_empty() {
            p.denies[self.rng.below(p.denies.len())].clone()
        } else if roll < 70 {
            // Guarded by an SCP in prod, by MFA for admins.
            ("kinesis:DeleteStream".to_string(), random_stream(self))
        } else if roll < 75 {
            ("kinesis:ListStreams".to_string(), "*".to_string())
        } else {
            let all = [READ, WRITE, ADMIN, OTHER].concat();
            (self.rng.pick(&all).to_string(), random_stream(self))
        };
        let secure = !self.rng.percent(6);
        let ip = if self.rng.percent(4) {
            format!("203.0.113.{}", self.rng.below(256))
        } else {
            format!(
                "10.{}.{}.{}",
                self.rng.below(20),
                self.rng.below(256),
                1 + self.rng.below(254)
            )
        };
        let mut context = Map::new();
        context.insert("aws:SecureTransport".into(), json!(secure));
        context.insert("aws:SourceIp".into(), json!(ip));
        RequestJson {
            id: Some(json!(format!("org-{n}"))),
            principal: self.caller(who),
            action,
            resource,
            extra_resources: Vec::new(),
            context,
        }
    }
}

/// Generates the organization of `size` and `requests` requests against it, deterministic for
/// `seed`.
pub fn generate(size: OrgSize, requests: usize, seed: u64) -> OrgStore {
    let size = OrgSize {
        accounts: size.accounts.max(1),
        principals: size.principals.max(1),
        streams: size.streams.max(1),
    };
    let mut b = Builder {
        rng: Rng::new(seed ^ 0x0126_0000),
        size,
        streams: Vec::new(),
        principals: Vec::new(),
        named: BTreeMap::new(),
        files: Vec::new(),
        summary: OrgSummary {
            accounts: size.accounts,
            streams: size.streams,
            ..OrgSummary::default()
        },
    };
    b.make_streams();
    b.make_principals();
    let resources = b.resource_policies();
    let organization = b.scps();
    let accounts = b.accounts();
    let requests: Vec<RequestJson> = (0..requests).map(|n| b.request(n)).collect();
    let store = json!({
        "version": 1,
        "policies": b.named,
        "organization": organization,
        "accounts": accounts,
        "resources": resources,
    });
    let mut summary = b.summary;
    summary.files = b.files.len();
    summary.requests = requests.len();
    OrgStore {
        store: serde_json::to_string_pretty(&store).unwrap_or_default(),
        files: b.files,
        requests,
        summary,
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::diag::Severity;
    use crate::eval::{reference, Outcome};
    use crate::{Authorizer, Semantics, Store};

    #[test]
    fn generation_is_deterministic() {
        let a = generate(OrgSize::SMALL, 50, 7);
        let b = generate(OrgSize::SMALL, 50, 7);
        assert_eq!(a.store, b.store);
        assert_eq!(a.files, b.files);
        assert_eq!(a.requests_jsonl(), b.requests_jsonl());
        assert_ne!(a.store, generate(OrgSize::SMALL, 50, 8).store);
    }

    #[test]
    fn the_small_store_loads_and_both_evaluators_agree() {
        let org = generate(OrgSize::SMALL, 400, 42);
        let dir = std::env::temp_dir().join(format!("iamc-org-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        org.write(&dir).expect("writable temp dir");
        let store = Store::load(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        let store = store.expect("the generated store loads");
        let errors: Vec<_> = store
            .warnings()
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(store.stats().statements, org.summary.statements);
        let authorizer =
            Authorizer::new(Arc::new(store), Semantics::default()).expect("within the limits");
        let sem = Semantics::default();
        let mut mix = [0usize; 3];
        for r in org.requests() {
            let d = authorizer.authorize(&r);
            let prepared = authorizer.prepare(r);
            let inputs = authorizer.store().inputs_for(&prepared);
            let expected = reference::evaluate(&inputs, &prepared, &sem);
            assert_eq!(d.decision, expected.decision, "{prepared:?}");
            mix[match d.decision {
                Outcome::Allow => 0,
                Outcome::ExplicitDeny => 1,
                Outcome::ImplicitDeny => 2,
            }] += 1;
        }
        println!("allow/explicit/implicit {mix:?}");
        assert!(
            mix.iter().all(|n| *n > 0),
            "allow/explicit/implicit {mix:?}"
        );
    }

    #[test]
    #[ignore = "prints the default size's counts"]
    fn default_size() {
        let org = generate(OrgSize::DEFAULT, 10, 42);
        println!("{:?}", org.summary);
    }
}
