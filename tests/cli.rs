//! The `iamc` binary, run for real: exit codes, output formats, errors with places.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn iamc() -> Command {
    Command::cargo_bin("iamc").unwrap()
}

fn example(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/kinesis")
        .join(p)
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("iamc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const STREAM1: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/stream1";

#[test]
fn adhoc_allow_exits_0_and_deny_exits_2() {
    let policy = example("policies/identity-1-read-stream1.json");
    let out = iamc()
        .args([
            "authorize",
            "--principal",
            ALICE,
            "--action",
            "kinesis:GetRecords",
        ])
        .args([
            "--resource",
            STREAM1,
            "--format",
            "json",
            "--identity-policy",
        ])
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "Allow");
    assert_eq!(v["determining"][0]["sid"], "ReadStream1");

    let out = iamc()
        .args([
            "authorize",
            "--principal",
            ALICE,
            "--action",
            "kinesis:PutRecord",
        ])
        .args(["--resource", STREAM1, "--identity-policy"])
        .arg(&policy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ImplicitDeny"), "{text}");
    assert!(text.contains("no identity-based policy allows"), "{text}");
}

#[test]
fn adhoc_layers_context_and_explain() {
    let deny = tmp(
        "deny-insecure.json",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
    );
    let scp = tmp(
        "scp-level.json",
        r#"[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}]"#,
    );
    let allow = example("policies/identity-1-read-stream1.json");
    let run = |secure: &str| {
        iamc()
            .args([
                "authorize",
                "--principal",
                ALICE,
                "--action",
                "kinesis:GetRecords",
            ])
            .args(["--resource", STREAM1, "--format", "json", "--explain"])
            .arg("--identity-policy")
            .arg(&allow)
            .arg("--identity-policy")
            .arg(&deny)
            .arg("--scp")
            .arg(&scp)
            .args(["--context", &format!("aws:SecureTransport={secure}")])
            .output()
            .unwrap()
    };
    let out = run("false");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "ExplicitDeny");
    let explain = v["explain"].as_array().unwrap();
    assert!(explain.iter().any(|s| s["matched"] == true
        && s["effect"] == "Deny"
        && s["conditions"][0]["result"] == "true"));
    let out = run("true");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_bad_policy_is_an_error_with_its_place() {
    let bad = tmp(
        "bad.json",
        "{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"allow\", \"Action\": \"kinesis:GetRecords\", \"Resource\": \"*\"}]}",
    );
    let out = iamc()
        .args([
            "authorize",
            "--principal",
            ALICE,
            "--action",
            "kinesis:GetRecords",
        ])
        .args(["--resource", "*", "--identity-policy"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json"), "{err}");
    assert!(err.contains("/Statement/0/Effect"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn bad_arguments_exit_1() {
    let out = iamc()
        .args([
            "authorize",
            "--principal",
            "bob",
            "--action",
            "kinesis:GetRecords",
            "--resource",
            "*",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--principal"));
    let out = iamc().args(["authorize", "--frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn batch_mode_echoes_ids_in_order_and_reports_bad_lines() {
    let requests = tmp(
        "requests.jsonl",
        &format!(
            "{{\"id\": \"a\", \"principal\": \"{ALICE}\", \"action\": \"kinesis:GetRecords\", \"resource\": \"{STREAM1}\"}}\n\
             this is not json\n\
             \n\
             {{\"id\": 7, \"principal\": \"{ALICE}\", \"action\": \"kinesis:PutRecord\", \"resource\": \"{STREAM1}\"}}\n"
        ),
    );
    let out = iamc()
        .args(["authorize", "--format", "json", "--store"])
        .arg(example("store.json"))
        .arg("--requests")
        .arg(&requests)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a malformed line makes the exit code 1"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["decision"], "Allow");
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("not a request"));
    assert_eq!(lines[2]["id"], 7);
    assert_eq!(lines[2]["decision"], "ImplicitDeny");
}

/// `--format outcomes` (the fast path) gives, line for line, the decision and id that
/// `--format json` gives, and keeps bad lines as errors in their place.
#[test]
fn batch_outcomes_match_the_full_decisions_line_for_line() {
    let run = |format: &str| {
        let mut input = std::fs::read_to_string(example("requests.jsonl")).unwrap();
        input.push_str("this is not json\n");
        let out = iamc()
            .args(["authorize", "--format", format, "--store"])
            .arg(example("store.json"))
            .args(["--requests", "-"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "the bad line makes it 1");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let full = run("json");
    let fast = run("outcomes");
    assert_eq!(full.len(), 22);
    assert_eq!(fast.len(), full.len());
    let mut decisions = std::collections::BTreeSet::new();
    for (f, o) in full.iter().zip(&fast) {
        assert_eq!(o["id"], f["id"]);
        assert_eq!(o["decision"], f["decision"]);
        assert_eq!(o.get("determining"), None, "outcomes only: {o}");
        decisions.insert(f["decision"].to_string());
    }
    assert_eq!(
        decisions.len(),
        4,
        "Allow, both denies and the error line: {decisions:?}"
    );
    assert_eq!(fast[21]["line"], 22);
}

#[test]
fn batch_reads_standard_input_and_the_example_runs() {
    let out = iamc()
        .args(["authorize", "--store"])
        .arg(example("store.json"))
        .args(["--requests", "-", "--format", "json"])
        .write_stdin(format!(
            "{{\"principal\": \"{ALICE}\", \"action\": \"kinesis:ListStreams\", \"resource\": \"*\"}}\n"
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"Allow\""));
    let out = iamc()
        .args(["authorize", "--store"])
        .arg(example("store.json"))
        .arg("--requests")
        .arg(example("requests.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 21);
    assert!(
        text.contains("[admin-deletes-stream1] ExplicitDeny"),
        "{text}"
    );
    assert!(text.contains("[partner-producer-writes] Allow"), "{text}");
}

#[test]
fn a_bad_store_names_the_place() {
    let store = tmp(
        "store.json",
        "{\"version\": 1,\n \"accounts\": {\"111122223333\": {\"users\": {\"alice\": {\"policies\": [\"Nope\"]}}}}}",
    );
    let out = iamc()
        .args(["authorize", "--store"])
        .arg(&store)
        .args(["--requests", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Nope"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn help_teaches() {
    let out = iamc().args(["authorize", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Exit codes"), "{text}");
    assert!(text.contains("--requests"), "{text}");
}

#[test]
fn every_verb_takes_the_text_form() {
    // authorize with a policy in the text language
    let out = iamc()
        .args([
            "authorize",
            "--principal",
            ALICE,
            "--action",
            "kinesis:GetRecords",
        ])
        .args(["--resource", STREAM1, "--identity-policy"])
        .arg(example("text/identity-1-read-stream1.iam"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // a store whose policy files are in the text language
    let dir = std::env::temp_dir().join(format!("iamc-text-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        example("text/identity-1-read-stream1.iam"),
        dir.join("read.iam"),
    )
    .unwrap();
    std::fs::write(
        dir.join("store.json"),
        r#"{"version": 1,
            "policies": {"Read": {"type": "identity", "file": "read.iam"}},
            "accounts": {"111122223333": {"users": {"alice": {"policies": ["Read"]}}}}}"#,
    )
    .unwrap();
    let out = iamc()
        .args(["authorize", "--format", "json", "--store"])
        .arg(&dir)
        .args(["--requests", "-"])
        .write_stdin(format!(
            "{{\"principal\": \"{ALICE}\", \"action\": \"kinesis:GetRecords\", \"resource\": \"{STREAM1}\"}}\n"
        ))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"Allow\""));
    // check a text-form file: clean, and a broken one is an error with its line
    let out = iamc()
        .arg("check")
        .arg(example("text/identity-1-read-stream1.iam"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = tmp(
        "bad.iam",
        "policy version 2012-10-17 {\n  allow kinesis:GetRecords on ;\n}\n",
    );
    let out = iamc().arg("check").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("IAM005"), "{text}");
    assert!(text.contains(":2:"), "{text}");
}

/// Runs `iamc ARGS` and returns its exit code and standard error.
fn code_and_stderr(args: &[&str]) -> (Option<i32>, String) {
    let out = iamc().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn usage_errors_exit_2_in_every_verb_but_authorize() {
    let store = example("store.json");
    let store = store.to_str().unwrap();
    // clap's own refusals: an unknown flag, a missing argument.
    for args in [
        &["bench", "--frobnicate"][..],
        &["check", "--frobnicate"],
        &["compile", "--frobnicate"],
        &["compile"],
        &["fmt", "--frobnicate"],
        &["gateway", "--frobnicate"],
        // Neither --db nor --state, and both.
        &[
            "gateway",
            "--store",
            "s",
            "--credentials",
            "c",
            "--upstream",
            "http://h:1",
            "--account",
            "111122223333",
        ],
        &[
            "gateway",
            "--db",
            "d",
            "--state",
            "sqlite:d",
            "--store",
            "s",
            "--credentials",
            "c",
            "--upstream",
            "http://h:1",
            "--account",
            "111122223333",
        ],
        &["serve", "--frobnicate"],
        &["serve"],
        &["frobnicate"],
    ] {
        let (code, err) = code_and_stderr(args);
        assert_eq!(code, Some(2), "iamc {}: {err}", args.join(" "));
    }
    // The verbs' own checks of their arguments.
    for args in [
        &["bench", "--workload", "S9"][..],
        &["bench", "--workload", "S1", "--mix", "M9"],
        &["serve", "--store", store, "--request-timeout", "0"],
        &["serve", "--store", store, "--watch-interval", "-1"],
        &[
            "gateway",
            "--store",
            store,
            "--credentials",
            "c.json",
            "--db",
            "d.sqlite",
            "--upstream",
            "ftp://x",
            "--account",
            "111122223333",
        ],
        &[
            "gateway",
            "--store",
            store,
            "--credentials",
            "c.json",
            "--db",
            "d.sqlite",
            "--upstream",
            "http://127.0.0.1:1",
            "--account",
            "1111",
        ],
        // Not a state URL the gateway knows.
        &[
            "gateway",
            "--store",
            store,
            "--credentials",
            "c.json",
            "--state",
            "redis://127.0.0.1:6379",
            "--upstream",
            "http://127.0.0.1:1",
            "--account",
            "111122223333",
        ],
        &["check", "--format", "xml", store],
        &["fmt", "--to", "xml"],
    ] {
        let (code, err) = code_and_stderr(args);
        assert_eq!(code, Some(2), "iamc {}: {err}", args.join(" "));
        assert!(err.starts_with("error: "), "iamc {}: {err}", args.join(" "));
    }
    // `authorize` says "denied" with 2, so its usage errors are errors like the others: 1.
    let (code, err) = code_and_stderr(&["authorize", "--frobnicate"]);
    assert_eq!(code, Some(1), "{err}");
    let out = iamc().args(["authorize", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("1 error (a bad argument included)"), "{help}");
    let out = iamc().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Exit codes"), "{help}");
}

/// Every path a `--help` text names (examples/…, tests/…) exists.
#[test]
fn help_texts_name_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named = 0;
    for verb in [
        "authorize",
        "bench",
        "check",
        "compile",
        "fmt",
        "gateway",
        "import",
        "replay",
        "serve",
    ] {
        let out = iamc().args([verb, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        for word in help.split(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
            let word = word.trim_end_matches([',', '.', ';', ')']);
            if word.starts_with("examples/") || word.starts_with("tests/") {
                assert!(
                    root.join(word).exists(),
                    "`iamc {verb} --help` names {word}, which does not exist"
                );
                named += 1;
            }
        }
    }
    assert!(named >= 5, "only {named} paths found in the help texts");
}

/// README's main job: the output it shows is the command's, and it says how much of it.
#[test]
fn readme_shows_the_main_job_honestly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let out = iamc()
        .current_dir(root)
        .args([
            "authorize",
            "--store",
            "examples/kinesis/store.json",
            "--requests",
            "examples/kinesis/requests.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let after = readme
        .split_once("The first command prints")
        .map(|(_, a)| a)
        .expect("README introduces the main job's output");
    let intro = after.split("```text").next().unwrap();
    let block = after
        .split_once("```text\n")
        .and_then(|(_, b)| b.split_once("\n```"))
        .map(|(b, _)| b)
        .unwrap();
    let shown: Vec<&str> = block.lines().collect();
    // The lines shown are lines of the output, in its order.
    let mut rest = lines.iter();
    for l in &shown {
        assert!(
            rest.any(|o| o == l),
            "README shows a line that is not in the output (in this order):\n{l}\n\n{text}"
        );
    }
    if shown.len() < lines.len() {
        let claim = format!("{} of its {} lines", shown.len(), lines.len());
        assert!(
            intro.contains(&claim),
            "README should say \"{claim}\":{intro}"
        );
    }
}

/// `iamc --help` at 80 columns: one line per subcommand, no line wider than 80.
#[test]
fn top_level_help_reads_well_at_80_columns() {
    let out = iamc().arg("--help").env("COLUMNS", "80").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for l in help.lines() {
        assert!(
            l.chars().count() <= 80,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    let commands = help
        .split_once("Commands:\n")
        .and_then(|(_, c)| c.split_once("\n\n"))
        .map(|(c, _)| c)
        .unwrap();
    for l in commands.lines() {
        assert!(
            !l.starts_with("             "),
            "a subcommand's line wraps:\n{commands}"
        );
    }
    for verb in [
        "authorize",
        "bench",
        "check",
        "compile",
        "fmt",
        "gateway",
        "serve",
        "who-can",
        "what-can",
        "diff",
        "check-access",
    ] {
        assert!(
            commands.lines().any(|l| l.trim_start().starts_with(verb)),
            "{verb}:\n{commands}"
        );
    }
}

#[test]
fn a_wildcard_only_action_denied_says_it_needs_resource_star() {
    let policy = tmp(
        "all-on-stream1.json",
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "kinesis:*", "Resource": "{STREAM1}"}}]}}"#
        ),
    );
    for action in ["kinesis:UpdateShardCount", "kinesis:ListStreams"] {
        let out = iamc()
            .args(["authorize", "--principal", ALICE, "--action", action])
            .args(["--resource", STREAM1, "--identity-policy"])
            .arg(&policy)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!(
                "{action} is authorized against \"Resource\": \"*\", so only a statement with \"Resource\": \"*\" allows it"
            )),
            "{text}"
        );
        let out = iamc()
            .args(["authorize", "--principal", ALICE, "--action", action])
            .args(["--resource", "*", "--format", "json", "--identity-policy"])
            .arg(&policy)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["reason"]
                .as_str()
                .unwrap()
                .contains("\"Resource\": \"*\""),
            "{v}"
        );
    }
    // Not for an action that takes a resource.
    let out = iamc()
        .args([
            "authorize",
            "--principal",
            ALICE,
            "--action",
            "kinesis:PutRecord",
        ])
        .args([
            "--resource",
            "arn:aws:kinesis:us-east-1:111122223333:stream/other",
        ])
        .arg("--identity-policy")
        .arg(&policy)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\"Resource\": \"*\""));
}

/// A store where alice may read stream1, but not over plain HTTP (`aws:SecureTransport`
/// false) and not after 2020 (`aws:CurrentTime`): the Denies that a lost context or a missing
/// clock would skip.
fn guarded_store(name: &str, deny: &str) -> PathBuf {
    let store = serde_json::json!({
        "version": 1,
        "policies": {"Guarded": {"type": "identity", "document": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": STREAM1},
                serde_json::from_str::<serde_json::Value>(deny).unwrap()
            ]}}},
        "accounts": {"111122223333": {"users": {"alice": {"policies": ["Guarded"]}}}}
    });
    tmp(name, &store.to_string())
}

const DENY_PLAIN_HTTP: &str = r#"{"Sid": "DenyPlainHttp", "Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}"#;
const DENY_AFTER_2020: &str = r#"{"Sid": "Expired", "Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}"#;

#[test]
fn batch_lines_with_unknown_fields_are_errors_that_name_the_field() {
    let store = guarded_store("guarded-transport.json", DENY_PLAIN_HTTP);
    let lines = format!(
        "{}\n{}\n{}\n",
        serde_json::json!({"id": "typo", "principal": ALICE, "action": "kinesis:GetRecords",
            "resource": STREAM1, "Context": {"aws:SecureTransport": false}}),
        serde_json::json!({"id": "right", "principal": ALICE, "action": "kinesis:GetRecords",
            "resource": STREAM1, "context": {"aws:SecureTransport": false}}),
        serde_json::json!({"id": "far", "principal": ALICE, "action": "kinesis:GetRecords",
            "resource": STREAM1, "zzz": 1}),
    );
    let out = iamc()
        .args([
            "authorize",
            "--format",
            "json",
            "--requests",
            "-",
            "--store",
        ])
        .arg(&store)
        .write_stdin(lines)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let got: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 3, "{stdout}");
    // Never an Allow for the misspelt line: it is an error naming the field and the fix.
    assert_ne!(got[0]["decision"], "Allow", "{stdout}");
    let e = got[0]["error"].as_str().unwrap_or_default();
    assert_eq!(got[0]["line"], 1, "{stdout}");
    assert!(
        e.contains("`Context`") && e.contains("did you mean `context`"),
        "{e}"
    );
    assert_eq!(got[1]["decision"], "ExplicitDeny", "{stdout}");
    let e = got[2]["error"].as_str().unwrap_or_default();
    assert!(e.contains("`zzz`") && e.contains("principal"), "{e}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_clock_sets_the_time_keys_unless_the_request_gives_them() {
    let store = guarded_store("guarded-time.json", DENY_AFTER_2020);
    // Ad hoc, with no time key: now is after 2020, so the expiry Deny fires.
    let adhoc = |extra: &[&str]| {
        iamc()
            .args(["authorize", "--format", "json", "--principal", ALICE])
            .args(["--action", "kinesis:GetRecords", "--resource", STREAM1])
            .arg("--store")
            .arg(&store)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = adhoc(&[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "ExplicitDeny", "{v}");
    assert_eq!(v["determining"][0]["sid"], "Expired", "{v}");
    assert_eq!(out.status.code(), Some(2));
    // The request's own time wins over the clock.
    let out = adhoc(&["--context", "aws:CurrentTime=2019-06-01T00:00:00Z"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "Allow", "{v}");
    assert_eq!(out.status.code(), Some(0));

    // Batch: the same, line by line.
    let lines = format!(
        "{}\n{}\n",
        serde_json::json!({"id": "clock", "principal": ALICE, "action": "kinesis:GetRecords",
            "resource": STREAM1}),
        serde_json::json!({"id": "given", "principal": ALICE, "action": "kinesis:GetRecords",
            "resource": STREAM1, "context": {"aws:CurrentTime": "2019-06-01T00:00:00Z"}}),
    );
    let out = iamc()
        .args([
            "authorize",
            "--format",
            "json",
            "--requests",
            "-",
            "--store",
        ])
        .arg(&store)
        .write_stdin(lines)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let got: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got[0]["decision"], "ExplicitDeny", "{stdout}");
    assert_eq!(got[1]["decision"], "Allow", "{stdout}");
    assert_eq!(out.status.code(), Some(0));
}
