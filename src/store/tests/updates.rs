//! Changes after loading (the gateway's overlay: resource policies, tags, sessions), file
//! references kept inside the folder, and requests completed by the prepare index.

use super::*;

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
