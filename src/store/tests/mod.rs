//! Store tests: the example store and what it answers for every caller kind (here), loading
//! and its errors with their pointers and lines ([`loading`]), and changes after loading and
//! request completion ([`updates`]).

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

mod loading;
mod updates;
