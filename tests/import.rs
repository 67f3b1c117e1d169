//! `iamc import` and `iamc replay` on the fixtures of tests/import/ (written from the formats
//! AWS documents: GetAccountAuthorizationDetails, describe-policy, the CloudTrail record), a
//! round trip of the bundled example store through a generated authorization-details dump, and
//! replays whose answers are known by construction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assert_cmd::Command;
use iamc::request::{Caller, RequestJson};
use iamc::{Authorizer, Outcome, Request, Semantics, Store};
use serde_json::{json, Value};

const A: &str = "111122223333";
const B: &str = "210987654321";
const ORDERS: &str = "arn:aws:kinesis:us-east-2:111122223333:stream/orders";

fn iamc() -> Command {
    Command::cargo_bin("iamc").unwrap()
}

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import")
        .join(p)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("iamc-import-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Imports the fixtures (with `authz` as account A's dump) into a fresh folder; returns the
/// folder and the findings (standard error, JSON Lines).
fn import(name: &str, authz: &str) -> (PathBuf, Vec<Value>) {
    let dir = tmp(name);
    let out = iamc()
        .arg("import")
        .arg("--authorization-details")
        .arg(fixture(authz))
        .arg(fixture(&format!("authz-{B}.json")))
        .arg("--organization")
        .arg(fixture("org.json"))
        .arg("--kinesis")
        .arg(fixture(&format!("kinesis-{A}-us-east-2.json")))
        .arg("-o")
        .arg(&dir)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = String::from_utf8(out.stderr)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (dir, findings)
}

fn authorizer(dir: &Path) -> Authorizer {
    Authorizer::new(Arc::new(Store::load(dir).unwrap()), Semantics::default()).unwrap()
}

fn decide(a: &Authorizer, principal: &str, action: &str, resource: &str) -> Outcome {
    let mut r = Request::new(Caller::parse(principal).unwrap(), action, resource);
    r.add_time_keys(std::time::SystemTime::UNIX_EPOCH);
    a.authorize(&r).decision
}

fn has(findings: &[Value], code: &str, pointer: &str) -> bool {
    findings
        .iter()
        .any(|f| f["code"] == code && f["pointer"] == pointer)
}

#[test]
fn import_maps_what_the_store_models_and_reports_the_rest_with_its_place() {
    let (dir, findings) = import("fixtures", &format!("authz-{A}.json"));
    // The store passes `iamc check`.
    iamc().arg("check").arg(&dir).assert().code(0);
    let a = authorizer(&dir);
    let alice = format!("arn:aws:iam::{A}:user/alice");
    let bob = format!("arn:aws:iam::{A}:user/bob");
    let clicks = format!("arn:aws:kinesis:us-east-2:{A}:stream/clicks");
    // The default version (v2: orders only), not v1 (kinesis:* on *).
    assert_eq!(
        decide(&a, &alice, "kinesis:PutRecord", ORDERS),
        Outcome::Allow
    );
    assert_eq!(
        decide(&a, &alice, "kinesis:PutRecord", &clicks),
        Outcome::ImplicitDeny
    );
    // The URL-encoded inline policy allows DeleteStream; the SCP of the prod OU denies it.
    let store = a.store();
    let user = store.account(A).unwrap().user("alice").unwrap();
    assert_eq!(user.policies.len(), 2);
    assert!(user.boundary.is_some());
    assert_eq!(user.tags.get("team").map(String::as_str), Some("data"));
    assert_eq!(
        decide(&a, &alice, "kinesis:DeleteStream", ORDERS),
        Outcome::ExplicitDeny
    );
    // The group's AWS managed policy (List*) within the boundary (List*).
    assert_eq!(
        decide(&a, &alice, "kinesis:ListStreamConsumers", &clicks),
        Outcome::Allow
    );
    // Bob has only his group's AWS managed policy.
    assert_eq!(
        decide(&a, &bob, "kinesis:GetRecords", &clicks),
        Outcome::Allow
    );
    assert_eq!(
        decide(&a, &bob, "kinesis:PutRecord", ORDERS),
        Outcome::ImplicitDeny
    );
    // A role with a path, its session, its tags; the resource's tags.
    let role = store.account(A).unwrap().role("kcl-app").unwrap();
    assert_eq!(role.path, "/apps/");
    assert_eq!(role.tags.get("app").map(String::as_str), Some("kcl"));
    assert_eq!(
        store
            .resource(ORDERS)
            .unwrap()
            .tags
            .get("env")
            .map(String::as_str),
        Some("prod")
    );
    let session = format!("arn:aws:sts::{A}:assumed-role/kcl-app/w1");
    assert_eq!(
        decide(&a, &session, "kinesis:GetRecords", ORDERS),
        Outcome::Allow
    );
    // Cross-account: the partner's identity policy and the stream policy.
    let partner = format!("arn:aws:sts::{B}:assumed-role/partner-producer/s");
    assert_eq!(
        decide(&a, &partner, "kinesis:PutRecord", ORDERS),
        Outcome::Allow
    );
    assert_eq!(
        decide(&a, &partner, "kinesis:GetRecords", ORDERS),
        Outcome::ImplicitDeny
    );
    // Reported with their places.
    assert!(has(
        &findings,
        "IAM504",
        "/RoleDetailList/0/AttachedManagedPolicies/0"
    ));
    assert!(has(
        &findings,
        "IAM503",
        "/UserDetailList/0/UserPolicyList/0/PolicyDocument/Statement/0/Effect"
    ));
    assert!(has(&findings, "IAM505", "/policies/2"));
    // Trust policies are imported, not reported.
    assert!(!findings
        .iter()
        .any(|f| f["code"] == "IAM505" && f["pointer"] == ""));
    // The tag policy is reported once, where it is defined.
    assert!(!findings
        .iter()
        .any(|f| f["code"] == "IAM504" && f["message"].as_str().unwrap().contains("p-tags")));
    assert_eq!(findings.len(), 3, "{findings:#?}");
    // The analyst's only policy was invalid: the user is there, with no policy.
    assert!(store
        .account(B)
        .unwrap()
        .user("analyst")
        .unwrap()
        .policies
        .is_empty());
}

#[test]
fn an_input_that_is_not_json_writes_nothing() {
    let dir = tmp("bad");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"UserDetailList\": [}").unwrap();
    let out_dir = dir.join("store");
    let out = iamc()
        .args(["import", "--authorization-details"])
        .arg(&bad)
        .arg("-o")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("error[IAM500]") && err.contains("bad.json"),
        "{err}"
    );
    assert!(!out_dir.join("store.json").exists());
}

fn replay(args: &[&str], store: &Path, against: Option<&Path>) -> (Option<i32>, String) {
    let mut cmd = iamc();
    cmd.arg("replay").arg("--store").arg(store);
    if let Some(n) = against {
        cmd.arg("--against").arg(n);
    }
    let out = cmd.args(args).arg(fixture("trail")).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn replay_alone_measures_agreement_with_what_aws_recorded() {
    let (old, _) = import("replay-alone", &format!("authz-{A}.json"));
    let (code, out) = replay(&["--format", "json"], &old, None);
    assert_eq!(code, Some(0));
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["files"], 2);
    assert_eq!(r["records"], 15);
    assert_eq!(r["decided"], 12);
    let t = &r["totals"];
    assert_eq!(
        (t["agree"].clone(), t["aws_allowed_iamc_denied"].clone()),
        (json!(10), json!(1))
    );
    assert_eq!(t["aws_denied_iamc_allowed"], 0);
    assert_eq!(t["other_error"], 1);
    let skipped = &r["skipped"];
    assert_eq!(skipped["another service (s3.amazonaws.com)"]["count"], 1);
    assert_eq!(
        skipped["identity type not modeled (AWSAccount)"]["count"],
        1
    );
    assert_eq!(
        skipped["principal not in the store"]["examples"][0],
        "e11: arn:aws:iam::111122223333:user/mallory"
    );
    // The one disagreement: bob's PutRecord that AWS recorded as allowed.
    let bob = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["aws_allowed_iamc_denied"] == 1)
        .unwrap();
    assert_eq!(bob["principal"], "arn:aws:iam::111122223333:user/bob");
    assert_eq!(bob["action"], "kinesis:PutRecord");
    assert_eq!(bob["examples"][0]["event_id"], "e12");
    // Role sessions are grouped under their role (with its path).
    assert!(r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(
            |g| g["principal"] == "arn:aws:iam::111122223333:role/apps/kcl-app"
                && g["events"] == 1
                && g["action"] == "kinesis:GetShardIterator"
        ));
    let (_, csv) = replay(&["--format", "csv"], &old, None);
    assert!(csv.starts_with("principal,action,events,agree,"));
    assert!(csv.contains("arn:aws:iam::111122223333:user/bob,kinesis:PutRecord,2,1,1,0,0\n"));
}

#[test]
fn replay_against_a_changed_store_lists_what_it_would_break() {
    let (old, _) = import("replay-old", &format!("authz-{A}.json"));
    // The change: KinesisReadWrite's default version v3 drops PutRecord(s); bob gets PutRecord.
    let (new, _) = import("replay-new", &format!("authz-{A}-changed.json"));
    let (code, out) = replay(&["--format", "json"], &old, Some(&new));
    assert_eq!(code, Some(1), "something breaks: exit 1");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["totals"]["newly_denied"], 2);
    assert_eq!(r["totals"]["newly_allowed"], 2);
    let changed: Vec<(String, String, u64, u64)> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["newly_denied"] != 0 || g["newly_allowed"] != 0)
        .map(|g| {
            (
                g["principal"].as_str().unwrap().to_string(),
                g["action"].as_str().unwrap().to_string(),
                g["newly_denied"].as_u64().unwrap(),
                g["newly_allowed"].as_u64().unwrap(),
            )
        })
        .collect();
    let alice = "arn:aws:iam::111122223333:user/alice".to_string();
    let bob = "arn:aws:iam::111122223333:user/bob".to_string();
    assert_eq!(
        changed,
        vec![
            (alice.clone(), "kinesis:PutRecord".into(), 1, 0),
            (alice, "kinesis:PutRecords".into(), 1, 0),
            (bob, "kinesis:PutRecord".into(), 0, 2),
        ]
    );
    let (code, csv) = replay(&["--format", "csv"], &old, Some(&new));
    assert_eq!(code, Some(1));
    assert_eq!(
        csv,
        "principal,action,change,events,example_event_ids\n\
         arn:aws:iam::111122223333:user/alice,kinesis:PutRecord,newly-denied,1,e1\n\
         arn:aws:iam::111122223333:user/alice,kinesis:PutRecords,newly-denied,1,e15\n\
         arn:aws:iam::111122223333:user/bob,kinesis:PutRecord,newly-allowed,2,e4 e12\n"
    );
    // The same store on both sides changes nothing: exit 0.
    let (code, text) = replay(&[], &old, Some(&old));
    assert_eq!(code, Some(0));
    assert!(
        text.contains("0 events newly denied (would break), 0 newly allowed"),
        "{text}"
    );
}

#[test]
fn generated_events_replay_in_agreement_with_the_store_that_labelled_them() {
    let (old, _) = import("replay-gen", &format!("authz-{A}.json"));
    let dir = tmp("gen");
    let out = iamc()
        .args(["replay", "--generate", "3000", "--delivered", "--store"])
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(dir.join("trail.json"), &out.stdout).unwrap();
    let out = iamc()
        .args(["replay", "--format", "json", "--batch", "700", "--store"])
        .arg(&old)
        .arg(&dir)
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["records"], 3000);
    assert_eq!(r["decided"], 3000, "{:#}", r["skipped"]);
    assert_eq!(r["totals"]["agree"], 3000);
    assert!(r["totals"]["aws_allowed_iamc_denied"] == 0);
}

/// The bundled example store, written out as AWS would print it: an authorization-details dump
/// per account (named identity policies as customer managed policies, documents URL-encoded),
/// the organization file and the Kinesis file.
fn dump_example(dir: &Path) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kinesis");
    let store: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("store.json")).unwrap()).unwrap();
    let doc = |entry: &Value| -> String {
        match entry.get("file") {
            Some(f) => std::fs::read_to_string(root.join(f.as_str().unwrap())).unwrap(),
            None => entry["document"].to_string(),
        }
    };
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let named = store["policies"].as_object().unwrap();
    let mut args = Vec::new();
    for (acct, a) in store["accounts"].as_object().unwrap() {
        let arn = |name: &str| format!("arn:aws:iam::{acct}:policy/{name}");
        let attached = |p: &Value| -> Value {
            p["policies"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .map(|n| json!({"PolicyName": n, "PolicyArn": arn(n.as_str().unwrap())}))
                        .collect()
                })
                .unwrap_or_default()
        };
        let list = |kind: &str, f: &dyn Fn(&str, &Value) -> Value| -> Value {
            a[kind]
                .as_object()
                .map(|m| m.iter().map(|(n, p)| f(n, p)).collect())
                .unwrap_or_default()
        };
        let users = list("users", &|n, p| {
            json!({"UserName": n, "Path": "/", "Arn": format!("arn:aws:iam::{acct}:user/{n}"),
                   "GroupList": p.get("groups").cloned().unwrap_or(json!([])),
                   "AttachedManagedPolicies": attached(p), "UserPolicyList": [],
                   "Tags": p.get("tags").cloned().unwrap_or(json!({})).as_object().unwrap()
                       .iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()})
        });
        let groups = list("groups", &|n, p| {
            json!({"GroupName": n, "Path": "/", "Arn": format!("arn:aws:iam::{acct}:group/{n}"),
                   "AttachedManagedPolicies": attached(p), "GroupPolicyList": []})
        });
        let roles = list("roles", &|n, p| {
            json!({"RoleName": n, "Path": "/", "Arn": format!("arn:aws:iam::{acct}:role/{n}"),
                   "AttachedManagedPolicies": attached(p), "RolePolicyList": [],
                   "AssumeRolePolicyDocument": p.get("trust").map(|t| encode(&doc(t)))})
        });
        let policies: Vec<Value> = named
            .iter()
            .filter(|(_, e)| e["type"] == "identity")
            .map(|(n, e)| {
                json!({"PolicyName": n, "Arn": arn(n), "DefaultVersionId": "v1",
                       "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true,
                                              "Document": encode(&doc(e))}]})
            })
            .collect();
        let dump = json!({"UserDetailList": users, "GroupDetailList": groups,
                          "RoleDetailList": roles, "Policies": policies});
        let p = dir.join(format!("authz-{acct}.json"));
        std::fs::write(&p, dump.to_string()).unwrap();
        args.extend([
            "--authorization-details".to_string(),
            p.display().to_string(),
        ]);
    }
    let org = &store["organization"];
    let mut org_policies = Vec::new();
    for (n, e) in named.iter().filter(|(_, e)| e["type"] == "scp") {
        org_policies.push(json!({"PolicySummary": {"Id": format!("p-{n}"), "Name": n,
                                 "Type": "SERVICE_CONTROL_POLICY"}, "Content": doc(e)}));
    }
    let mut children = Vec::new();
    // The example has one member account.
    if let Some((acct, o)) = org["accounts"].as_object().unwrap().iter().next() {
        // The example's levels: root, then the account.
        let levels = o["scps"].as_array().unwrap();
        let ids = |l: &Value| -> Vec<String> {
            l.as_array()
                .unwrap()
                .iter()
                .map(|n| format!("p-{}", n.as_str().unwrap()))
                .collect()
        };
        assert_eq!(levels.len(), 2);
        children.push(json!({"account": acct, "policies": ids(&levels[1])}));
        let root = json!({"id": "r-1", "policies": ids(&levels[0]), "children": children});
        let o = json!({"management_account": org["management_account"],
                       "policies": org_policies, "root": root});
        let p = dir.join("org.json");
        std::fs::write(&p, o.to_string()).unwrap();
        args.extend(["--organization".to_string(), p.display().to_string()]);
    }
    let mut streams = Vec::new();
    for (arn, r) in store["resources"].as_object().unwrap() {
        if arn.contains("/consumer/") {
            continue;
        }
        let consumers: Vec<Value> = store["resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(c, _)| c.starts_with(&format!("{arn}/consumer/")))
            .map(|(c, cr)| json!({"ConsumerARN": c, "Policy": doc(&cr["policy"])}))
            .collect();
        streams.push(json!({"StreamARN": arn, "Policy": doc(&r["policy"]),
                            "Tags": r.get("tags").cloned().unwrap_or(json!({})),
                            "Consumers": consumers}));
    }
    let p = dir.join("kinesis.json");
    std::fs::write(&p, json!({ "streams": streams }).to_string()).unwrap();
    args.extend(["--kinesis".to_string(), p.display().to_string()]);
    args
}

#[test]
fn the_example_store_round_trips_through_an_authorization_details_dump() {
    let dir = tmp("roundtrip");
    let args = dump_example(&dir);
    let out = iamc()
        .arg("import")
        .args(&args)
        .arg("-o")
        .arg(dir.join("store"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kinesis");
    let original = authorizer(&example);
    let imported = authorizer(&dir.join("store"));
    let so = original.store().stats();
    let si = imported.store().stats();
    assert_eq!(
        (so.accounts, so.users, so.groups, so.roles, so.resources),
        (si.accounts, si.users, si.groups, si.roles, si.resources)
    );
    let requests = std::fs::read_to_string(example.join("requests.jsonl")).unwrap();
    let mut n = 0;
    for line in requests.lines().filter(|l| !l.trim().is_empty()) {
        let mut r = serde_json::from_str::<RequestJson>(line)
            .unwrap()
            .to_request()
            .unwrap();
        r.add_time_keys(std::time::SystemTime::UNIX_EPOCH);
        assert_eq!(
            original.authorize(&r).decision,
            imported.authorize(&r).decision,
            "{line}"
        );
        n += 1;
    }
    assert!(n >= 10);
}
