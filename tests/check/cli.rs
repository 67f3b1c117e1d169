//! The command line: exit codes, policy types and attachment, JSON and SARIF output, stores,
//! files of several policies, help.

use super::*;

#[test]
fn exit_codes() {
    let (code, out, _) = run(&[&format!("{FIX}/clean.json")]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "0 errors, 0 warnings in 1 file");
    assert_eq!(run(&[&format!("{FIX}/identity-mistakes.json")]).0, 1);
    assert_eq!(run(&[&format!("{FIX}/broken.json")]).0, 1);

    // Warnings only: 0, unless --deny.
    let dir = tempdir("warn");
    let p = dir.join("warn.json");
    std::fs::write(&p, doc(&allow(&q("kinesis:PutRecordz"), &q(STREAM), ""))).unwrap();
    let p = p.to_str().unwrap();
    assert_eq!(run(&[p]).0, 0);
    assert_eq!(run(&[p, "--deny", "warnings"]).0, 1);
    assert_eq!(run(&[p, "--deny", "security-warnings"]).0, 0);
    assert_eq!(run(&[p, "--deny", "suggestions"]).0, 1);

    // Could not run: 2.
    let (code, _, err) = run(&["tests/check/no-such-file.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-file.json"), "{err}");
    assert_eq!(run(&["--type", "nope", p]).0, 2);
    assert_eq!(run(&["--format", "xml", p]).0, 2);
    assert_eq!(run(&["--deny", "everything", p]).0, 2);
    assert_eq!(run(&[]).0, 2);
    let bad = dir.join("latin.json");
    std::fs::write(&bad, [0xff_u8, 0xfe, 0x00]).unwrap();
    assert_eq!(run(&[bad.to_str().unwrap()]).0, 2);
}

#[test]
fn types_and_attachment_from_the_command_line() {
    let f = format!("{FIX}/stream-policy.json");
    let (_, out, _) = run(&[&f]);
    assert!(out.contains("error[IAM101]"), "{out}");
    let (code, out, _) = run(&[
        "--type",
        "kinesis-resource",
        "--attached-to",
        "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
        &f,
    ]);
    assert_eq!(code, 1);
    for c in ["IAM110", "IAM111", "IAM112", "IAM114", "IAM115", "IAM116"] {
        assert!(out.contains(&format!("error[{c}]")), "{c}:\n{out}");
    }
    assert!(!out.contains("IAM101"));
    // --attached-to a stream implies kinesis-resource.
    let (_, out2, _) = run(&[
        "--attached-to",
        "arn:aws:kinesis:us-east-2:123456789012:stream/orders",
        &f,
    ]);
    assert_eq!(out, out2);
}

#[test]
fn json_output() {
    let (code, out, _) = run(&["--format", "json", &format!("{FIX}/identity-mistakes.json")]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let f = findings.iter().find(|f| f["code"] == "IAM150").unwrap();
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["path"], format!("{FIX}/identity-mistakes.json"));
    assert_eq!(f["pointer"], "/Statement/0/Action/0");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(7), Some(18))
    );
    assert_eq!(f["type"], "identity");
    assert!(f["help"].as_str().unwrap().contains("kinesis:PutRecord"));
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["files"], 1);
    let total: u64 = ["errors", "security_warnings", "warnings", "suggestions"]
        .iter()
        .map(|k| v["summary"][k].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, findings.len());
}

#[test]
fn sarif_output() {
    let (code, out, _) = run(&["--format", "sarif", FIX]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(
        v["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "iamc");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], id);
        assert!(rules[idx]["shortDescription"]["text"].as_str().is_some());
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(r["message"]["text"].as_str().is_some());
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with(FIX));
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(levels.contains(&"error") && levels.contains(&"warning") && levels.contains(&"note"));
}

#[test]
fn stores_are_checked_with_their_types() {
    let (code, out, _) = run(&["--format", "json", "tests/check/store"]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let get = |c: &str| {
        findings
            .iter()
            .find(|f| f["code"] == c)
            .unwrap_or_else(|| panic!("{c}: {out}"))
    };
    // The stream policy, checked as a Kinesis policy of the stream it is attached to, placed in
    // its own file.
    let f = get("IAM115");
    assert_eq!(f["path"], "tests/check/store/policies/orders-stream.json");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(7), Some(68))
    );
    // The identity policy, in its file.
    assert_eq!(
        get("IAM170")["path"],
        "tests/check/store/policies/producer.json"
    );
    // The boundary, written inline in the store.
    let f = get("IAM180");
    assert_eq!(f["path"], "tests/check/store/store.json");
    assert_eq!(
        f["pointer"],
        "/policies/Boundary/document/Statement/0/NotAction"
    );
    // The bundled example store is clean.
    let (code, out, _) = run(&["examples/kinesis/store.json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "0 errors, 0 warnings in 1 file");
}

#[test]
fn a_file_of_several_policies_is_checked_policy_by_policy() {
    // One SCP level, as `iamc authorize --scp` takes it: a JSON array of policies.
    let dir = tempdir("scps");
    let p = dir.join("level.json");
    std::fs::write(
        &p,
        format!(
            "[{},\n{}]",
            doc(&allow(&q("*"), &q("*"), "")),
            doc(&st(
                r#""Effect":"Deny","Action":"kinesis:DeleteStrem","Resource":"*""#
            ))
        ),
    )
    .unwrap();
    let (code, out, _) = run(&["--type", "scp", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let f = findings.iter().find(|f| f["code"] == "IAM150").unwrap();
    assert_eq!(f["pointer"], "/1/Statement/0/Action");
    assert_eq!(f["line"], 2);
}

#[test]
fn help_teaches() {
    let out = iamc().args(["check", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--attached-to",
        "--deny",
        "sarif",
        "Exit codes",
        "iamc check --type",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
}
