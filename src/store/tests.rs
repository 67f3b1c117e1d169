//! Store tests: loading (inline and folder form), queries for every caller kind, and errors
//! with their pointers and lines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::diag::Code;
use std::path::{Path, PathBuf};

use super::*;
use crate::eval::reference::evaluate;
use crate::eval::Outcome;
use crate::request::{ContextValue, Scalar};
use crate::semantics::Semantics;

const ACCT: &str = "111122223333";
const STREAM: &str = "arn:aws:kinesis:us-east-2:111122223333:stream/orders";

/// A store with a user in a group with a boundary, a role with a session and a session
/// policy, a federated user, SCP and RCP levels, and a stream with a policy and tags.
const STORE: &str = r#"{
  "$schema": "./schema.json",
  "version": 1,
  "policies": {
    "KinesisRead": { "type": "identity", "document": {
      "Version": "2012-10-17",
      "Statement": [{ "Sid": "Read", "Effect": "Allow",
        "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream"],
        "Resource": "*" }] } },
    "Boundary": { "type": "boundary", "document": {
      "Version": "2012-10-17",
      "Statement": [{ "Effect": "Allow", "Action": "kinesis:*", "Resource": "*" }] } },
    "FullAWSAccess": { "type": "scp", "document": {
      "Version": "2012-10-17",
      "Statement": [{ "Effect": "Allow", "Action": "*", "Resource": "*" }] } },
    "DenyDelete": { "type": "scp", "document": {
      "Version": "2012-10-17",
      "Statement": [{ "Effect": "Deny", "Action": "kinesis:DeleteStream", "Resource": "*" }] } },
    "RCPFullAWSAccess": { "type": "rcp", "document": {
      "Version": "2012-10-17",
      "Statement": [{ "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*" }] } },
    "ReadOnlySession": { "type": "session", "document": {
      "Version": "2012-10-17",
      "Statement": [{ "Effect": "Allow", "Action": "kinesis:Get*", "Resource": "*" }] } }
  },
  "organization": {
    "management_account": "999999999999",
    "accounts": {
      "111122223333": {
        "scps": [["FullAWSAccess"], ["FullAWSAccess", "DenyDelete"]],
        "rcps": [["RCPFullAWSAccess"]]
      },
      "999999999999": { "scps": [["FullAWSAccess"]], "rcps": [["RCPFullAWSAccess"]] }
    }
  },
  "accounts": {
    "111122223333": {
      "users": {
        "alice": {
          "path": "/div/", "id": "AIDAALICE", "groups": ["Devs"],
          "policies": ["KinesisRead"],
          "inline": { "put": {
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:DeleteStream"],
                            "Resource": "arn:aws:kinesis:us-east-2:111122223333:stream/*" }] } },
          "boundary": "Boundary",
          "tags": { "team": "data" }
        }
      },
      "groups": {
        "devs": {
          "policies": ["KinesisRead"],
          "inline": { "list": {
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*" }] } }
        }
      },
      "roles": {
        "KCL-App": {
          "path": "/teams/", "id": "AROAKCL",
          "policies": ["KinesisRead"],
          "inline": {},
          "boundary": null,
          "tags": { "team": "apps", "env": "dev" }
        }
      }
    }
  },
  "sessions": {
    "arn:aws:sts::111122223333:assumed-role/KCL-App/s1": {
      "policy": "ReadOnlySession", "tags": { "Env": "test" } },
    "arn:aws:sts::111122223333:federated-user/bob": {
      "user": "alice",
      "policy": { "Version": "2012-10-17",
                  "Statement": [{ "Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "*" }] },
      "tags": { "via": "broker" } }
  },
  "resources": {
    "arn:aws:kinesis:us-east-2:111122223333:stream/orders": {
      "policy": { "Version": "2012-10-17",
        "Statement": [{ "Sid": "KclRead", "Effect": "Allow",
          "Principal": { "AWS": "arn:aws:iam::111122223333:role/teams/KCL-App" },
          "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"],
          "Resource": "arn:aws:kinesis:us-east-2:111122223333:stream/orders" }] },
      "tags": { "env": "prod" }
    }
  }
}"#;

fn store() -> Store {
    match Store::from_str(STORE, None) {
        Ok(s) => s,
        Err(e) => unreachable!("the test store does not load:\n{}", show(&e)),
    }
}

fn show(found: &[Diagnostic]) -> String {
    found
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn ids(docs: &[Arc<PolicyDoc>]) -> Vec<&str> {
    docs.iter().map(|d| d.id.as_ref()).collect()
}

fn levels(levels: &[Vec<Arc<PolicyDoc>>]) -> Vec<Vec<&str>> {
    levels.iter().map(|l| ids(l)).collect()
}

fn request(caller: &str, action: &str, resource: &str) -> Request {
    Request::new(Caller::parse(caller).unwrap(), action, resource)
}

fn text<'r>(req: &'r Request, key: &str) -> Option<&'r str> {
    req.context.variable(&key.to_lowercase())
}

/// Loads `text`, which must fail; returns the errors.
fn errors(text: &str) -> Vec<Diagnostic> {
    errors_in(text, None)
}

fn errors_in(text: &str, base: Option<&Path>) -> Vec<Diagnostic> {
    match Store::from_str(text, base) {
        Ok(_) => unreachable!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

/// No `file` references allowed (as `Store::from_str` without a folder).
fn no_files() -> FileRefs<'static> {
    FileRefs::Refused {
        why: "no folder",
        help: "none",
    }
}

/// The one finding with `code`, which must exist.
fn find(found: &[Diagnostic], code: Code) -> &Diagnostic {
    match found.iter().find(|d| d.code == code) {
        Some(d) => d,
        None => unreachable!("no {code} in:\n{}", show(found)),
    }
}

/// A minimal valid identity policy.
const DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:PutRecord","Resource":"*"}]}"#;

/// A unique empty folder under the system temp folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("iamc-store-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        TempDir(dir)
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.0.join(rel), text).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn user_gets_own_group_boundary_scps_and_resource_side() {
    let s = store();
    let req = request(
        "arn:aws:iam::111122223333:user/div/alice",
        "kinesis:PutRecord",
        STREAM,
    );
    let inputs = s.inputs_for(&req);
    // KinesisRead is attached to the user and to its group: it applies once.
    assert_eq!(
        ids(&inputs.identity),
        [
            "policy/KinesisRead",
            "user/alice/inline/put",
            "group/devs/inline/list"
        ]
    );
    assert_eq!(
        inputs.boundary.as_ref().map(|b| b.id.as_ref()),
        Some("policy/Boundary")
    );
    assert_eq!(
        inputs.boundary.as_ref().map(|b| b.ty),
        Some(PolicyType::Boundary)
    );
    assert!(inputs.session.is_none());
    assert_eq!(
        levels(&inputs.scps),
        [
            vec!["scp/FullAWSAccess"],
            vec!["scp/FullAWSAccess", "scp/DenyDelete"]
        ]
    );
    assert_eq!(inputs.resources.len(), 1);
    let side = inputs.side(STREAM).unwrap();
    assert_eq!(
        side.policy.as_ref().map(|p| p.id.clone()),
        Some(format!("resource/{STREAM}").into())
    );
    assert_eq!(
        side.policy.as_ref().map(|p| p.ty),
        Some(PolicyType::KinesisResource)
    );
    assert_eq!(levels(&side.rcps), [vec!["rcp/RCPFullAWSAccess"]]);

    // An ARN with another path names another user: no identity policies, still the SCPs.
    let other = s.inputs_for(&request(
        "arn:aws:iam::111122223333:user/alice",
        "kinesis:PutRecord",
        STREAM,
    ));
    assert!(other.identity.is_empty() && other.boundary.is_none());
    assert_eq!(other.scps.len(), 2);
}

#[test]
fn prepare_user_adds_tags_userid_and_resource_tags() {
    let s = store();
    let mut req = request(
        "arn:aws:iam::111122223333:user/div/alice",
        "kinesis:PutRecord",
        STREAM,
    );
    req.context.insert(
        "aws:ResourceTag/ENV",
        ContextValue::One(Scalar::string("given")),
    );
    s.prepare(&mut req);
    assert_eq!(text(&req, "aws:PrincipalTag/team"), Some("data"));
    assert_eq!(text(&req, "aws:userid"), Some("AIDAALICE"));
    assert_eq!(text(&req, "aws:username"), Some("alice"));
    assert_eq!(
        text(&req, "aws:PrincipalArn"),
        Some("arn:aws:iam::111122223333:user/div/alice")
    );
    // The request's own value wins over the store's.
    assert_eq!(text(&req, "aws:ResourceTag/env"), Some("given"));
}

#[test]
fn role_session_gets_role_policies_session_policy_and_tags() {
    let s = store();
    // Role names ignore case: the session ARN may spell the role in any case.
    let mut req = request(
        "arn:aws:sts::111122223333:assumed-role/kcl-app/s1",
        "kinesis:GetRecords",
        STREAM,
    );
    s.prepare(&mut req);
    match &req.caller {
        Caller::RoleSession { role_path, .. } => assert_eq!(role_path, "/teams/"),
        other => unreachable!("{other:?}"),
    }
    assert_eq!(
        text(&req, "aws:PrincipalArn"),
        Some("arn:aws:iam::111122223333:role/teams/kcl-app")
    );
    assert_eq!(text(&req, "aws:userid"), Some("AROAKCL:s1"));
    assert_eq!(text(&req, "aws:PrincipalTag/team"), Some("apps"));
    // The session tag `Env` overrides the role tag `env`.
    assert_eq!(text(&req, "aws:PrincipalTag/env"), Some("test"));
    assert_eq!(text(&req, "aws:ResourceTag/env"), Some("prod"));

    let inputs = s.inputs_for(&req);
    assert_eq!(ids(&inputs.identity), ["policy/KinesisRead"]);
    assert!(inputs.boundary.is_none());
    assert_eq!(
        inputs.session.as_ref().map(|p| p.id.as_ref()),
        Some("policy/ReadOnlySession")
    );
    assert_eq!(inputs.scps.len(), 2);

    // A session with no entry: the role's policies and tags, no session policy.
    let mut other = request(
        "arn:aws:sts::111122223333:assumed-role/KCL-App/s2",
        "kinesis:GetRecords",
        STREAM,
    );
    s.prepare(&mut other);
    assert_eq!(text(&other, "aws:PrincipalTag/env"), Some("dev"));
    let inputs = s.inputs_for(&other);
    assert_eq!(ids(&inputs.identity), ["policy/KinesisRead"]);
    assert!(inputs.session.is_none());
}

#[test]
fn role_federated_root_anonymous_and_management_account() {
    let s = store();
    let role = request(
        "arn:aws:iam::111122223333:role/teams/KCL-App",
        "kinesis:GetRecords",
        STREAM,
    );
    assert_eq!(ids(&s.inputs_for(&role).identity), ["policy/KinesisRead"]);

    let mut fed = request(
        "arn:aws:sts::111122223333:federated-user/bob",
        "kinesis:PutRecord",
        STREAM,
    );
    s.prepare(&mut fed);
    assert_eq!(text(&fed, "aws:userid"), Some("111122223333:bob"));
    assert_eq!(text(&fed, "aws:PrincipalTag/via"), Some("broker"));
    assert_eq!(text(&fed, "aws:PrincipalTag/team"), Some("data"));
    let inputs = s.inputs_for(&fed);
    assert_eq!(
        ids(&inputs.identity),
        [
            "policy/KinesisRead",
            "user/alice/inline/put",
            "group/devs/inline/list"
        ]
    );
    assert_eq!(
        inputs.boundary.as_ref().map(|b| b.id.as_ref()),
        Some("policy/Boundary")
    );
    assert_eq!(
        inputs.session.as_ref().map(|p| p.id.clone()),
        Some("session/arn:aws:sts::111122223333:federated-user/bob".into())
    );

    let root = s.inputs_for(&request(
        "arn:aws:iam::111122223333:root",
        "kinesis:PutRecord",
        STREAM,
    ));
    assert!(root.identity.is_empty());
    assert_eq!(root.scps.len(), 2);

    let anon = s.inputs_for(&request("anonymous", "kinesis:PutRecord", STREAM));
    assert!(anon.identity.is_empty() && anon.scps.is_empty());
    assert_eq!(anon.resources.len(), 1);

    // The management account: no SCPs for its principals, no RCPs for its resources.
    let mgmt_stream = "arn:aws:kinesis:us-east-2:999999999999:stream/m";
    let mgmt = s.inputs_for(&request(
        "arn:aws:iam::999999999999:user/ops",
        "kinesis:PutRecord",
        mgmt_stream,
    ));
    assert!(mgmt.identity.is_empty() && mgmt.scps.is_empty() && mgmt.resources.is_empty());

    // A resource with no policy in a member account still gets its RCPs; the extra resource
    // of a multi-resource request gets its own side.
    let mut req = request(
        "arn:aws:iam::111122223333:user/div/alice",
        "kinesis:StartStreamEncryption",
        "arn:aws:kinesis:us-east-2:111122223333:stream/other",
    );
    req.extra_resources
        .push("arn:aws:kms:us-east-2:999999999999:key/k1".into());
    req.extra_resources.push(STREAM.into());
    let inputs = s.inputs_for(&req);
    let sides: Vec<(&str, bool, usize)> = inputs
        .resources
        .iter()
        .map(|r| (r.arn.as_str(), r.policy.is_some(), r.rcps.len()))
        .collect();
    assert_eq!(
        sides,
        [
            (
                "arn:aws:kinesis:us-east-2:111122223333:stream/other",
                false,
                1
            ),
            (STREAM, true, 1)
        ]
    );

    // An unknown account: nothing, and not an error.
    let unknown = s.inputs_for(&request(
        "arn:aws:iam::444455556666:user/x",
        "kinesis:PutRecord",
        "*",
    ));
    assert!(unknown.identity.is_empty() && unknown.scps.is_empty() && unknown.resources.is_empty());
}

#[test]
fn decisions_through_the_reference_evaluator() {
    let s = store();
    let decide = |caller: &str, action: &str| {
        let mut req = request(caller, action, STREAM);
        s.prepare(&mut req);
        evaluate(&s.inputs_for(&req), &req, &Semantics::default()).decision
    };
    let alice = "arn:aws:iam::111122223333:user/div/alice";
    assert_eq!(decide(alice, "kinesis:PutRecord"), Outcome::Allow);
    // Allowed by the inline policy and the boundary, denied by an SCP level.
    assert_eq!(decide(alice, "kinesis:DeleteStream"), Outcome::ExplicitDeny);
    let session = "arn:aws:sts::111122223333:assumed-role/KCL-App/s1";
    assert_eq!(decide(session, "kinesis:GetRecords"), Outcome::Allow);
    // The role allows DescribeStream, the session policy does not.
    assert_eq!(
        decide(session, "kinesis:DescribeStream"),
        Outcome::ImplicitDeny
    );
}

#[test]
fn every_policy_once_and_stats() {
    let s = store();
    let all: Vec<&str> = s.policies().map(|p| p.id.as_ref()).collect();
    let mut unique = all.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(all.len(), unique.len(), "{all:?}");
    assert_eq!(all.len(), 10, "{all:?}");
    assert_eq!(
        s.stats(),
        StoreStats {
            accounts: 1,
            users: 1,
            roles: 1,
            groups: 1,
            sessions: 2,
            policies: 10,
            statements: 10,
            resources: 1,
        }
    );
    assert!(s.warnings().is_empty(), "{}", show(s.warnings()));
    assert_eq!(
        s.policy("KinesisRead").map(|p| p.ty),
        Some(PolicyType::Identity)
    );
    assert!(s.account(ACCT).and_then(|a| a.user("ALICE")).is_some());
    assert!(s
        .session("arn:aws:sts::111122223333:assumed-role/kcl-app/s1")
        .is_some());
    assert_eq!(s.resource(STREAM).map(|r| r.tags.len()), Some(1));
    assert_eq!(s.sessions().count(), 2);
    assert_eq!(
        s.resources().map(|r| r.arn.as_str()).collect::<Vec<_>>(),
        [STREAM]
    );
    assert_eq!(
        s.accounts().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        [ACCT]
    );
    assert_eq!(
        s.organization()
            .and_then(|o| o.management_account.as_deref()),
        Some("999999999999")
    );
}

#[test]
fn ids_carry_the_account_when_there_are_several() {
    let text = format!(
        r#"{{"version":1,"accounts":{{
            "111122223333":{{"users":{{"a":{{"inline":{{"p":{DOC}}}}}}}}},
            "444455556666":{{"roles":{{"r":{{"inline":{{"p":{DOC}}}}}}}}}}}}}"#
    );
    let s = Store::from_str(&text, None).unwrap();
    let all: Vec<&str> = s.policies().map(|p| p.id.as_ref()).collect();
    assert_eq!(
        all,
        [
            "111122223333/user/a/inline/p",
            "444455556666/role/r/inline/p"
        ]
    );
}

#[test]
fn folder_form_with_file_references() {
    let dir = TempDir::new("folder");
    dir.write(
        "store.json",
        r#"{
  "version": 1,
  "policies": {
    "Boundary": { "type": "boundary", "file": "policies/boundary.json" }
  },
  "accounts": { "111122223333": { "users": { "alice": {
    "boundary": "Boundary",
    "inline": { "put": { "file": "policies/put.json" } } } } } },
  "resources": {
    "arn:aws:kinesis:us-east-2:111122223333:stream/orders": { "policy": { "file": "policies/orders.json" } }
  }
}"#,
    );
    dir.write("policies/boundary.json", DOC);
    dir.write("policies/put.json", DOC);
    dir.write(
        "policies/orders.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},
            "Action":"kinesis:PutRecord",
            "Resource":"arn:aws:kinesis:us-east-2:111122223333:stream/orders"}]}"#,
    );
    for path in [dir.0.clone(), dir.0.join("store.json")] {
        let s = match Store::load(&path) {
            Ok(s) => s,
            Err(e) => unreachable!("{}: {}", path.display(), show(&e)),
        };
        let inputs = s.inputs_for(&request(
            "arn:aws:iam::111122223333:user/alice",
            "kinesis:PutRecord",
            STREAM,
        ));
        assert_eq!(ids(&inputs.identity), ["user/alice/inline/put"]);
        assert_eq!(
            inputs.boundary.as_ref().map(|b| b.id.as_ref()),
            Some("policy/Boundary")
        );
        assert!(inputs
            .side(STREAM)
            .and_then(|r| r.policy.as_ref())
            .is_some());
        assert_eq!(s.stats().policies, 3);
    }

    // A broken policy file: the error names the file, points through the `file` member,
    // and has the line in that file.
    dir.write(
        "policies/put.json",
        "{\"Version\":\"2012-10-17\",\n\"Statement\":[\n  {\"Effect\":\"allow\",\"Action\":\"kinesis:PutRecord\",\"Resource\":\"*\"}]}",
    );
    let e = match Store::load(&dir.0) {
        Ok(_) => unreachable!("a broken file loaded"),
        Err(e) => e,
    };
    let d = find(&e, Code::InvalidEffect);
    assert!(d.message.starts_with("policies/put.json: "), "{d}");
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/inline/put/file/Statement/0/Effect"
    );
    assert_eq!(d.loc.line, 3);

    // A missing file: the error names its path.
    std::fs::remove_file(dir.0.join("policies/boundary.json")).unwrap();
    dir.write("policies/put.json", DOC);
    let e = match Store::load(&dir.0) {
        Ok(_) => unreachable!("a missing file loaded"),
        Err(e) => e,
    };
    let d = find(&e, Code::StoreFileUnreadable);
    assert!(d.message.contains("policies/boundary.json"), "{d}");
    assert_eq!(d.loc.pointer, "/policies/Boundary/file");
    assert_eq!(d.loc.line, 4);
    // The boundary is invalid, so `"boundary": "Boundary"` adds no second error.
    assert_eq!(e.iter().filter(|d| d.is_error()).count(), 1, "{}", show(&e));

    // A missing store.
    let e = match Store::load(&dir.0.join("nope.json")) {
        Ok(_) => unreachable!(),
        Err(e) => e,
    };
    assert_eq!(e[0].code, Code::StoreFileUnreadable);
    assert!(e[0].message.contains("nope.json"), "{}", e[0]);
}

#[test]
fn file_reference_without_a_folder_or_absolute() {
    let text = r#"{"version":1,"policies":{"B":{"type":"boundary","file":"b.json"}}}"#;
    let d = find(&errors(text), Code::FileReferenceRefused).clone();
    assert_eq!(d.loc.pointer, "/policies/B/file");
    let dir = TempDir::new("absolute");
    let abs = dir.0.join("policies/b.json");
    dir.write("policies/b.json", DOC);
    let text = format!(
        r#"{{"version":1,"policies":{{"B":{{"type":"boundary","file":{}}}}}}}"#,
        serde_json::Value::String(abs.display().to_string())
    );
    let e = errors_in(&text, Some(&dir.0));
    assert!(find(&e, Code::FileReferenceRefused)
        .message
        .contains("relative"));
}

#[test]
fn file_size_bound() {
    let dir = TempDir::new("big");
    let big = std::fs::File::create(dir.0.join("policies/big.json")).unwrap();
    big.set_len(MAX_STORE_BYTES as u64 + 1).unwrap();
    let text = r#"{"version":1,"policies":{"B":{"type":"boundary","file":"policies/big.json"}}}"#;
    let e = errors_in(text, Some(&dir.0));
    assert!(
        find(&e, Code::BoundExceeded)
            .message
            .contains("max_store_bytes"),
        "{}",
        show(&e)
    );
}

#[test]
fn unknown_policy_name() {
    let text = r#"{"version": 1,
"policies": {"KinesisRead": {"type": "identity", "document": DOC}},
"accounts": {"111122223333": {"users": {"alice": {
  "policies": ["KinesisRaed", "kinesisread"]}}}}}"#
        .replace("DOC", DOC);
    let e = errors(&text);
    let d = find(&e, Code::UnknownPolicyName);
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/policies/0"
    );
    assert_eq!((d.loc.line, d.loc.column), (4, 16));
    assert!(d.message.contains("KinesisRaed"), "{d}");
    // The other is a case slip, with a hint.
    let hinted: Vec<&Diagnostic> = e
        .iter()
        .filter(|d| d.code == Code::UnknownPolicyName)
        .collect();
    assert_eq!(hinted.len(), 2);
    assert_eq!(
        hinted[1].loc.pointer,
        "/accounts/111122223333/users/alice/policies/1"
    );
    assert!(hinted[1]
        .help
        .as_deref()
        .is_some_and(|h| h.contains("KinesisRead")));
}

#[test]
fn wrong_policy_type() {
    let text = r#"{"version": 1,
"policies": {"Id": {"type": "identity", "document": DOC}},
"organization": {"accounts": {"111122223333": {"scps": [["Id"]]}}},
"accounts": {"111122223333": {"roles": {"r": {"boundary": "Id"}}}}}"#
        .replace("DOC", DOC);
    let e = errors(&text);
    let wrong: Vec<(&str, u32)> = e
        .iter()
        .filter(|d| d.code == Code::PolicyTypeMismatch)
        .map(|d| (d.loc.pointer.as_str(), d.loc.line))
        .collect();
    assert_eq!(
        wrong,
        [
            ("/organization/accounts/111122223333/scps/0/0", 3),
            ("/accounts/111122223333/roles/r/boundary", 4)
        ]
    );
    assert!(find(&e, Code::PolicyTypeMismatch).message.contains("`scp`"));
}

#[test]
fn duplicate_key() {
    let text = "{\"version\": 1,\n\"accounts\": {\"111122223333\": {\"users\": {\n  \"a\": {},\n  \"a\": {}}}}}";
    let e = errors(text);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, Code::DuplicateKey);
    assert_eq!(e[0].loc.line, 4);
    // Inside an inline document too.
    let text = "{\"version\": 1, \"policies\": {\"P\": {\"type\": \"identity\", \"document\":\n {\"Version\": \"2012-10-17\", \"Version\": \"2012-10-17\"}}}}";
    let e = errors(text);
    assert_eq!((e[0].code, e[0].loc.line), (Code::DuplicateKey, 2));
}

#[test]
fn unknown_fields() {
    let text = r#"{"version": 1, "acounts": {},
"accounts": {"111122223333": {"users": {"alice": {"grups": []}}}},
"resources": {"arn:aws:kinesis:us-east-2:111122223333:stream/s": {"Policy": null}}}"#;
    let e = errors(text);
    let unknown: Vec<(&str, u32, u32)> = e
        .iter()
        .filter(|d| d.code == Code::StoreUnknownField)
        .map(|d| (d.loc.pointer.as_str(), d.loc.line, d.loc.column))
        .collect();
    assert_eq!(
        unknown,
        [
            ("/acounts", 1, 16),
            ("/accounts/111122223333/users/alice/grups", 2, 51),
            (
                "/resources/arn:aws:kinesis:us-east-2:111122223333:stream~1s/Policy",
                3,
                67
            )
        ]
    );
    assert!(e
        .iter()
        .any(|d| d.message.contains("did you mean `policy`")));
}

#[test]
fn bad_policy_inside_is_re_pointed() {
    let text = r#"{"version": 1,
"accounts": {"111122223333": {"users": {"alice": {"inline": {"put": {
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "*",
                 "Principal": "*"},
                {"Effect": "Permit", "Action": "kinesis:PutRecord", "Resource": "*"}]}}}}}}}"#;
    let e = errors(text);
    // Parser error: pointer = the document's + the policy's; line in the store.
    let d = find(&e, Code::InvalidEffect);
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/inline/put/Statement/1/Effect"
    );
    assert_eq!(d.loc.line, 6);
    // The parser failed, so the validator did not run; with a parsable policy it does.
    let text = text.replace("Permit", "Allow");
    let e = errors(&text);
    let d = find(&e, Code::PrincipalNotAllowed);
    assert_eq!(
        d.loc.pointer,
        "/accounts/111122223333/users/alice/inline/put/Statement/0/Principal"
    );
    assert_eq!(d.loc.line, 4);
}

#[test]
fn kinesis_resource_policy_checked_against_its_arn() {
    let text = r#"{"version": 1,
"policies": {
  "Shared": {"type": "kinesis-resource", "document": {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kinesis:GetRecords",
    "Resource": "arn:aws:kinesis:us-east-2:111122223333:stream/a"}]}},
  "Unused": {"type": "kinesis-resource", "document": {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "kinesis:GetRecords",
    "Resource": "arn:aws:kinesis:us-east-2:111122223333:stream/a"}]}}
},
"resources": {
  "arn:aws:kinesis:us-east-2:111122223333:stream/a": {"policy": "Shared"},
  "arn:aws:kinesis:us-east-2:111122223333:stream/b": {"policy": "Shared"}
}}"#;
    let e = errors(text);
    // Valid for stream/a, not for stream/b: one error, pointing into the named document.
    let bad: Vec<&Diagnostic> = e.iter().filter(|d| d.is_error()).collect();
    assert_eq!(bad.len(), 1, "{}", show(&e));
    assert_eq!(bad[0].code, Code::KinesisResourceNotAttached);
    assert!(bad[0]
        .loc
        .pointer
        .starts_with("/policies/Shared/document/Statement/0/Resource"));
    assert!(bad[0].message.contains("stream/b"), "{}", bad[0]);
    let w = find(&e, Code::UnattachedKinesisPolicy);
    assert_eq!(
        (w.loc.pointer.as_str(), w.loc.line),
        ("/policies/Unused", 6)
    );

    // An identity policy where the stream's policy goes.
    let text = format!(
        r#"{{"version": 1, "policies": {{"Id": {{"type": "identity", "document": {DOC}}}}},
"resources": {{"{STREAM}": {{"policy": "Id"}}}}}}"#
    );
    assert!(find(&errors(&text), Code::PolicyTypeMismatch)
        .message
        .contains("kinesis-resource"));
}

#[test]
fn warnings_are_kept() {
    let text = r#"{"version": 1, "policies": {"P": {"type": "identity", "document":
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecordz", "Resource": "*"}]}}}}"#;
    let s = Store::from_str(text, None).unwrap();
    let w = find(s.warnings(), Code::UnknownAction);
    assert!(
        w.loc
            .pointer
            .starts_with("/policies/P/document/Statement/0/Action"),
        "{w}"
    );
    assert_eq!(w.loc.line, 2);
}

#[test]
fn names_ids_arns_and_accounts() {
    let text = r#"{"version": 2,
"policies": {"P": {"type": "identiy", "document": {}}, "Q": {"type": "scp"}},
"organization": {"management_account": "12345", "accounts": {"111122223333": {"scps": [[]]}}},
"accounts": {
  "1111": {},
  "111122223333": {
    "users": {"alice": {"groups": ["nope"], "path": "div"}, "Alice": {}, "bad name": {}},
    "roles": {"r": {"id": "", "tags": {"Team": "a", "team": "b"}}}}},
"sessions": {
  "arn:aws:iam::111122223333:user/alice": {},
  "arn:aws:sts::111122223333:assumed-role/r/s": {"user": "alice"},
  "arn:aws:sts::111122223333:federated-user/f": {"user": "ghost"}},
"resources": {"arn:aws:kinesis:us-east-2:1234:stream/s": {}, "not-an-arn": {}}}"#;
    let e = errors(text);
    let got: Vec<(Code, &str)> = e.iter().map(|d| (d.code, d.loc.pointer.as_str())).collect();
    let want = [
        (Code::StoreWrongType, "/version"),
        (Code::StoreWrongType, "/policies/P/type"),
        (Code::StoreMissingField, "/policies/Q"),
        (Code::InvalidAccountId, "/organization/management_account"),
        (
            Code::StoreWrongType,
            "/organization/accounts/111122223333/scps/0",
        ),
        (Code::InvalidAccountId, "/accounts/1111"),
        (Code::CaseCollision, "/accounts/111122223333/users/Alice"),
        (
            Code::StoreWrongType,
            "/accounts/111122223333/users/bad name",
        ),
        (Code::StoreWrongType, "/accounts/111122223333/roles/r/id"),
        (
            Code::CaseCollision,
            "/accounts/111122223333/roles/r/tags/team",
        ),
        (
            Code::UnknownGroupOrUser,
            "/accounts/111122223333/users/alice/groups/0",
        ),
        (
            Code::StoreWrongType,
            "/accounts/111122223333/users/alice/path",
        ),
        (
            Code::InvalidStoreArn,
            "/sessions/arn:aws:iam::111122223333:user~1alice",
        ),
        (
            Code::StoreWrongType,
            "/sessions/arn:aws:sts::111122223333:assumed-role~1r~1s/user",
        ),
        (
            Code::UnknownGroupOrUser,
            "/sessions/arn:aws:sts::111122223333:federated-user~1f/user",
        ),
        (
            Code::InvalidStoreArn,
            "/resources/arn:aws:kinesis:us-east-2:1234:stream~1s",
        ),
        (Code::InvalidStoreArn, "/resources/not-an-arn"),
    ];
    for w in want {
        assert!(got.contains(&w), "missing {w:?} in:\n{}", show(&e));
    }
    assert!(e.iter().all(|d| d.loc.line > 0), "{}", show(&e));
}

#[test]
fn version_is_required_and_store_must_be_an_object() {
    let e = errors("{}");
    assert_eq!((e[0].code, e[0].loc.line), (Code::StoreMissingField, 1));
    assert_eq!(errors("[]")[0].code, Code::StoreWrongType);
    assert_eq!(errors("{\"version\": 1,}")[0].code, Code::InvalidJson);
    assert!(Store::from_str(r#"{"version": 1}"#, None).is_ok());
}

#[test]
fn inline_document_size_is_its_source_text() {
    // A Kinesis resource policy over 20,480 bytes of source is rejected: the size counted is
    // that of the inline document's text in the store.
    let pad = " ".repeat(21_000);
    let text = format!(
        r#"{{"version": 1, "resources": {{"{STREAM}": {{"policy": {{"Version": "2012-10-17",{pad}"Statement": [{{
  "Effect": "Allow", "Principal": {{"AWS": "444455556666"}}, "Action": "kinesis:GetRecords",
  "Resource": "{STREAM}"}}]}}}}}}}}"#
    );
    assert!(find(&errors(&text), Code::KinesisPolicyTooLarge)
        .loc
        .pointer
        .ends_with("/policy"));
    let small = text.replace(&pad, "");
    assert!(Store::from_str(&small, None).is_ok());
    assert_eq!(
        crate::parse::json::reader::value_end("{\"a\": \"}\\\"\"} tail", 0),
        12
    );
    assert_eq!(crate::parse::json::reader::value_end("12, 3", 0), 2);
    assert_eq!(crate::parse::json::reader::value_end("[12]", 1), 3);
}

#[test]
fn schema_lists_the_same_fields_as_the_loader() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let props = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    let sorted = |f: &[&str]| -> Vec<String> {
        let mut k: Vec<String> = f.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    };
    let defs = &schema["$defs"];
    use super::load::*;
    assert_eq!(props(&schema), sorted(TOP_FIELDS));
    for (def, fields) in [
        ("namedPolicy", NAMED_POLICY_FIELDS),
        ("organization", ORGANIZATION_FIELDS),
        ("orgAccount", ORG_ACCOUNT_FIELDS),
        ("account", ACCOUNT_FIELDS),
        ("user", USER_FIELDS),
        ("group", GROUP_FIELDS),
        ("role", ROLE_FIELDS),
        ("session", SESSION_FIELDS),
        ("resource", RESOURCE_FIELDS),
        ("fileRef", FILE_REF_FIELDS),
    ] {
        assert_eq!(props(&defs[def]), sorted(fields), "$defs/{def}");
        assert_eq!(defs[def]["additionalProperties"], false, "$defs/{def}");
    }
}

#[test]
fn policy_and_statement_bounds() {
    use super::load::{load_bounded, Bounds};
    let text = format!(
        r#"{{"version": 1, "accounts": {{"111122223333": {{"users": {{"a": {{"inline": {{
  "p1": {DOC}, "p2": {DOC},
  "p3": {DOC}}}}}}}}}}}}}"#
    );
    let bounds = Bounds {
        policies: 2,
        statements: 10,
    };
    let e = load_bounded(&text, no_files(), bounds).err().unwrap();
    assert_eq!(e.len(), 1, "{}", show(&e));
    assert_eq!(e[0].code, Code::BoundExceeded);
    assert!(e[0].message.contains("max_policies = 2"), "{}", e[0]);
    assert_eq!(
        (e[0].loc.pointer.as_str(), e[0].loc.line),
        ("/accounts/111122223333/users/a/inline/p3", 3)
    );
    let bounds = Bounds {
        policies: 10,
        statements: 2,
    };
    let e = load_bounded(&text, no_files(), bounds).err().unwrap();
    assert!(find(&e, Code::BoundExceeded)
        .message
        .contains("max_statements = 2"));
    assert!(load_bounded(
        &text,
        no_files(),
        Bounds {
            policies: 3,
            statements: 3
        }
    )
    .is_ok());
}

#[test]
fn store_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<Store>();
}

/// The overlay the gateway uses: resource policies and tags set after loading, and session
/// entries from its credentials file.
#[test]
fn overlay_sets_resource_policies_tags_and_sessions() {
    let mut s = store();
    let other = "arn:aws:kinesis:us-east-2:111122223333:stream/other";
    let doc = PolicyDoc::new(
        "resource/other",
        PolicyType::KinesisResource,
        crate::parse::parse_policy(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": "kinesis:GetRecords", "Resource": "arn:aws:kinesis:us-east-2:111122223333:stream/other"}]}"#,
            &crate::parse::Limits::default(),
        )
        .unwrap(),
    );
    let before = s.stats();
    s.set_resource_policy(other, PolicyType::KinesisResource, Some(Arc::clone(&doc)));
    assert_eq!(s.stats().resources, before.resources + 1);
    assert_eq!(s.stats().statements, before.statements + 1);
    let req = request(
        "arn:aws:iam::210987654321:user/partner",
        "kinesis:GetRecords",
        other,
    );
    let inputs = s.inputs_for(&req);
    assert_eq!(
        ids(&[inputs.resources[0].policy.clone().unwrap()]),
        ["resource/other"]
    );
    s.set_resource_policy(other, PolicyType::KinesisResource, None);
    assert!(s
        .inputs_for(&req)
        .resources
        .iter()
        .all(|r| r.policy.is_none()));

    // Tags merge over the store's, ignoring the key's case.
    let mut tags = Tags::new();
    tags.insert("ENV".into(), "staging".into());
    tags.insert("team".into(), "ops".into());
    s.merge_resource_tags(STREAM, &tags);
    let r = s.resource(STREAM).unwrap();
    assert_eq!(r.tags.get("ENV").map(String::as_str), Some("staging"));
    assert!(!r.tags.contains_key("env"));
    assert!(r.policy.is_some(), "merging tags keeps the policy");

    // A session entry: its policy applies and its tags become principal tags.
    let arn = "arn:aws:sts::111122223333:assumed-role/kcl-app/gw";
    let session_doc = PolicyDoc::new(
        "credentials/k/session-policy",
        PolicyType::Session,
        crate::parse::parse_policy(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": "*"}]}"#,
            &crate::parse::Limits::default(),
        )
        .unwrap(),
    );
    let mut st = Tags::new();
    st.insert("team".into(), "gateway".into());
    s.set_session(arn, Some(session_doc), &st).unwrap();
    let mut req = request(arn, "kinesis:GetRecords", STREAM);
    s.prepare(&mut req);
    assert_eq!(text(&req, "aws:PrincipalTag/team"), Some("gateway"));
    assert_eq!(
        ids(s.inputs_for(&req).session.as_slice()),
        ["credentials/k/session-policy"]
    );
    let e = s
        .set_session("arn:aws:iam::111122223333:user/x", None, &st)
        .unwrap_err();
    assert_eq!(
        e,
        super::SessionError::NotASession("arn:aws:iam::111122223333:user/x".into())
    );
    assert_eq!(
        super::SessionError::CODE,
        crate::diag::Code::InvalidStoreArn
    );
    assert!(matches!(
        s.set_session("not an arn", None, &st),
        Err(super::SessionError::Caller(_))
    ));
}

#[test]
fn file_references_stay_inside_the_store_folder() {
    // A store folder `dir/store`, and a secret file next to it, outside the folder.
    let dir = TempDir::new("escape");
    let store_dir = dir.0.join("store");
    std::fs::create_dir_all(store_dir.join("policies")).unwrap();
    dir.write(
        "secret.txt",
        "TOPSECRET-TOKEN: the first line of a file outside\n",
    );
    std::fs::write(store_dir.join("policies/ok.json"), DOC).unwrap();
    let escapes = [
        "../secret.txt",
        "policies/../../secret.txt",
        "./policies/../../secret.txt",
    ];
    for rel in escapes {
        let text = format!(
            r#"{{"version":1,"policies":{{"B":{{"type":"identity","file":{}}}}}}}"#,
            serde_json::Value::String(rel.into())
        );
        let e = errors_in(&text, Some(&store_dir));
        let d = find(&e, Code::FileReferenceRefused);
        assert!(
            d.message.contains("inside the store's folder"),
            "{rel}: {d}"
        );
        assert_eq!(d.loc.pointer, "/policies/B/file");
        assert!(
            !show(&e).contains("TOPSECRET"),
            "{rel}: an error quotes a file outside the folder:\n{}",
            show(&e)
        );
    }
    // A symbolic link inside the folder that points outside is refused too; one that stays
    // inside is followed.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            dir.0.join("secret.txt"),
            store_dir.join("policies/link.json"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            store_dir.join("policies/ok.json"),
            store_dir.join("policies/inside.json"),
        )
        .unwrap();
        let text =
            r#"{"version":1,"policies":{"B":{"type":"identity","file":"policies/link.json"}}}"#;
        let e = errors_in(text, Some(&store_dir));
        assert!(find(&e, Code::FileReferenceRefused)
            .message
            .contains("inside the store's folder"));
        assert!(!show(&e).contains("TOPSECRET"), "{}", show(&e));
        let text =
            r#"{"version":1,"policies":{"B":{"type":"identity","file":"policies/inside.json"}}}"#;
        assert!(Store::from_str(text, Some(&store_dir)).is_ok());
    }
    // A file inside the folder still loads.
    let text = r#"{"version":1,"policies":{"B":{"type":"identity","file":"policies/ok.json"}}}"#;
    assert!(Store::from_str(text, Some(&store_dir)).is_ok());
}

/// The layers an `Authorizer` keeps complete a request exactly as the store does, for every
/// kind of caller, names in another case (which the index does not have and the store
/// resolves), unknown principals, tagged and untagged resources, and keys the request gives.
#[test]
fn prepare_index_completes_requests_as_the_store_does() {
    let s = store();
    let idx = s.prepare_index();
    let callers = [
        "arn:aws:iam::111122223333:user/div/alice",
        "arn:aws:iam::111122223333:user/div/ALICE",
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::111122223333:role/teams/KCL-App",
        "arn:aws:iam::111122223333:role/teams/kcl-app",
        "arn:aws:sts::111122223333:assumed-role/KCL-App/s1",
        "arn:aws:sts::111122223333:assumed-role/kcl-app/s1",
        "arn:aws:sts::111122223333:assumed-role/kcl-app/never-seen",
        "arn:aws:sts::111122223333:assumed-role/nobody/s1",
        "arn:aws:sts::111122223333:federated-user/bob",
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::444455556666:user/mallory",
        // Another partition: the index's derived keys are for `aws`; these are computed.
        "arn:aws-cn:iam::111122223333:user/div/alice",
        "arn:aws-cn:sts::111122223333:assumed-role/kcl-app/s1",
    ];
    let resources = [
        STREAM,
        "arn:aws:kinesis:us-east-1:111122223333:stream/untagged",
    ];
    let mut compared = 0;
    for c in callers {
        for r in resources {
            for given in [false, true] {
                let mut req = request(c, "kinesis:GetRecords", r);
                if given {
                    req.context.insert(
                        "aws:PrincipalTag/TEAM",
                        ContextValue::One(Scalar::string("given")),
                    );
                }
                let mut by_store = req.clone();
                s.prepare(&mut by_store);
                let mut by_index = req;
                s.complete(&mut by_index, Some(&idx));
                assert_eq!(by_index, by_store, "{c} on {r}");
                assert_eq!(by_index.context.len(), by_store.context.len());
                assert_eq!(by_index.context.to_json(), by_store.context.to_json());
                compared += 1;
            }
        }
    }
    // The tagged principals did get layers (the comparison is not between two empty sets).
    let mut alice = request(callers[0], "kinesis:GetRecords", STREAM);
    s.complete(&mut alice, Some(&idx));
    assert_eq!(text(&alice, "aws:PrincipalTag/team"), Some("data"));
    assert_eq!(text(&alice, "aws:username"), Some("alice"));
    assert_eq!(
        text(&alice, "aws:PrincipalArn"),
        Some("arn:aws:iam::111122223333:user/div/alice")
    );
    assert_eq!(compared, callers.len() * resources.len() * 2);
}
