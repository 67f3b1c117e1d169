//! Shared by the integration tests: reading conformance cases (the shared corpus and the
//! project's own) into evaluator inputs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod gen;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use iamc::ast::{Inputs, PolicyDoc, PolicyType, ResourceSide};
use iamc::eval::Outcome;
use iamc::parse::{parse_policy, Limits};
use iamc::request::{Caller, Context, Request};
use serde_json::Value;

/// `../shared/conformance`, or `$IAMC_SHARED/conformance`.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("IAMC_SHARED") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// The JSON files of a folder, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// One decision case, ready to evaluate.
pub struct Case {
    pub file: String,
    pub id: String,
    pub inputs: Inputs,
    pub request: Request,
    pub expect: Outcome,
    pub note: String,
    /// The case as written.
    pub raw: Value,
}

pub fn doc(id: &str, ty: PolicyType, v: &Value) -> Arc<PolicyDoc> {
    let text = serde_json::to_string(v).unwrap();
    let policy = parse_policy(&text, &Limits::default())
        .unwrap_or_else(|e| panic!("{id}: policy does not parse: {e:?}"));
    let ty_for_check = if ty == PolicyType::KinesisResource {
        PolicyType::Resource
    } else {
        ty
    };
    let errors: Vec<_> = iamc::validate::check_policy(&policy, ty_for_check, None)
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{id}: {errors:?}");
    PolicyDoc::new(id, ty, policy)
}

fn levels(
    case_id: &str,
    what: &str,
    v: Option<&Value>,
    ty: PolicyType,
) -> Vec<Vec<Arc<PolicyDoc>>> {
    let Some(Value::Array(levels)) = v else {
        return Vec::new();
    };
    levels
        .iter()
        .enumerate()
        .map(|(i, level)| {
            level
                .as_array()
                .unwrap_or_else(|| panic!("{case_id}: {what} level {i} is not an array"))
                .iter()
                .enumerate()
                .map(|(j, d)| doc(&format!("{what}[{i}][{j}]"), ty, d))
                .collect()
        })
        .collect()
}

/// Reads every decision case of a file.
pub fn load_decision_file(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_string();
            let identity = c["identity_policies"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .enumerate()
                        .map(|(i, d)| doc(&format!("identity[{i}]"), PolicyType::Identity, d))
                        .collect()
                })
                .unwrap_or_default();
            let opt = |k: &str, ty| match &c[k] {
                Value::Null => None,
                v => Some(doc(k, ty, v)),
            };
            let r = &c["request"];
            let caller = Caller::parse(r["principal"].as_str().unwrap())
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            let mut request = Request::new(
                caller,
                r["action"].as_str().unwrap(),
                r["resource"].as_str().unwrap(),
            );
            if let Some(extra) = r.get("extra_resources").and_then(Value::as_array) {
                request.extra_resources = extra
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
            }
            let empty = serde_json::json!({});
            request.context = Context::from_json(r.get("context").unwrap_or(&empty))
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            request.derive_keys();
            let resource_policy = opt("resource_policy", PolicyType::Resource);
            let rcps = levels(&id, "rcp", c.get("rcps"), PolicyType::Rcp);
            let mut resources = Vec::new();
            if resource_policy.is_some() || !rcps.is_empty() {
                resources.push(ResourceSide {
                    arn: request.resource.clone(),
                    policy: resource_policy,
                    rcps: rcps.clone(),
                });
            }
            for extra in &request.extra_resources {
                if !rcps.is_empty() {
                    resources.push(ResourceSide {
                        arn: extra.clone(),
                        policy: None,
                        rcps: rcps.clone(),
                    });
                }
            }
            let inputs = Inputs {
                identity,
                boundary: opt("permissions_boundary", PolicyType::Boundary),
                session: opt("session_policy", PolicyType::Session),
                scps: levels(&id, "scp", c.get("scps"), PolicyType::Scp),
                resources,
            };
            let expect = match c["expect"].as_str().unwrap() {
                "Allow" => Outcome::Allow,
                "ExplicitDeny" => Outcome::ExplicitDeny,
                "ImplicitDeny" => Outcome::ImplicitDeny,
                other => panic!("{id}: unknown expectation {other}"),
            };
            Case {
                file: name.clone(),
                id,
                inputs,
                request,
                expect,
                note: c["note"].as_str().unwrap_or("").to_string(),
                raw: c.clone(),
            }
        })
        .collect()
}

/// Every decision case: the shared corpus, then the project's own under tests/corpus.
pub fn all_decision_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for f in json_files(&shared_dir().join("conformance/decisions")) {
        cases.extend(load_decision_file(&f));
    }
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for f in json_files(&own) {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        // Decision files have cases with a `request`; validation files do not.
        let is_decisions = v["cases"]
            .as_array()
            .is_some_and(|c| c.iter().all(|c| c.get("request").is_some()));
        if is_decisions {
            cases.extend(load_decision_file(&f));
        }
    }
    cases
}

/// The store a case describes, as store JSON: the caller as a user, role or session of its
/// account with the case's identity policies (inline), boundary and session policy; the SCP and
/// RCP levels in an organization whose management account is another one; the resource policy
/// on the requested resource. `None` for callers a store does not describe (anonymous,
/// services, root, a federated user, whose policies come from the IAM user that made it).
pub fn case_store(case: &Case) -> Option<Value> {
    use serde_json::json;
    let c = &case.raw;
    let docs = |k: &str| -> Vec<Value> {
        match &c[k] {
            Value::Array(a) => a.clone(),
            _ => Vec::new(),
        }
    };
    let inline: serde_json::Map<String, Value> = docs("identity_policies")
        .into_iter()
        .enumerate()
        .map(|(i, d)| (format!("identity{i}"), d))
        .collect();
    let mut principal = json!({ "inline": inline });
    if !c["permissions_boundary"].is_null() {
        principal["boundary"] = c["permissions_boundary"].clone();
    }
    let mut store = json!({ "version": 1, "accounts": {}, "sessions": {}, "resources": {} });
    let account = match &case.request.caller {
        Caller::User {
            account, path_name, ..
        } => {
            let (path, name) = split_path(path_name);
            principal["path"] = json!(path);
            store["accounts"][account.as_str()] = json!({ "users": { name: principal } });
            account.clone()
        }
        Caller::Role {
            account, path_name, ..
        } => {
            let (path, name) = split_path(path_name);
            principal["path"] = json!(path);
            store["accounts"][account.as_str()] = json!({ "roles": { name: principal } });
            account.clone()
        }
        Caller::RoleSession {
            account, role_name, ..
        } => {
            store["accounts"][account.as_str()] =
                json!({ "roles": { role_name.as_str(): principal } });
            let arn = case.request.caller.arn()?;
            store["sessions"][arn.as_str()] = json!({ "policy": c["session_policy"] });
            account.clone()
        }
        _ => return None,
    };
    if !c["resource_policy"].is_null() {
        store["resources"][case.request.resource.as_str()] =
            json!({ "type": "resource", "policy": c["resource_policy"] });
    }
    let mut policies = serde_json::Map::new();
    let mut levels = |what: &str, ty: &str| -> Vec<Vec<String>> {
        docs(what)
            .into_iter()
            .enumerate()
            .map(|(i, level)| {
                let level = level.as_array().cloned().unwrap_or_default();
                level
                    .into_iter()
                    .enumerate()
                    .map(|(j, d)| {
                        let name = format!("{what}-{i}-{j}");
                        policies.insert(name.clone(), json!({ "type": ty, "document": d }));
                        name
                    })
                    .collect()
            })
            .collect()
    };
    let scps = levels("scps", "scp");
    let rcps = levels("rcps", "rcp");
    if !scps.is_empty() || !rcps.is_empty() {
        let mut accounts = serde_json::Map::new();
        let resource_account = case
            .request
            .resource_account(&case.request.resource)
            .map(str::to_string)
            .unwrap_or_else(|| account.clone());
        if !scps.is_empty() {
            accounts.insert(account.clone(), json!({ "scps": scps }));
        }
        if !rcps.is_empty() {
            let entry = accounts
                .entry(resource_account)
                .or_insert_with(|| json!({}));
            entry["rcps"] = json!(rcps);
        }
        // A management account that is neither side's: SCPs and RCPs apply to both.
        store["organization"] =
            json!({ "management_account": "000000000001", "accounts": accounts });
    }
    store["policies"] = Value::Object(policies);
    Some(store)
}

/// `path/to/name` -> (`/path/to/`, `name`).
fn split_path(path_name: &str) -> (String, String) {
    match path_name.rsplit_once('/') {
        Some((path, name)) => (format!("/{path}/"), name.to_string()),
        None => ("/".to_string(), path_name.to_string()),
    }
}
