//! `iamc fmt` on the command line: conversions, `--check`, errors and exit codes.

use super::*;

// ---------------------------------------------------------------------------------------------
// `iamc fmt`, run for real

fn iamc() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("iamc").unwrap()
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn cli_fmt_converts_json_to_text_and_text_to_json() {
    let json = examples_dir().join("policies/datastreamABC-stream-policy.json");
    let text = examples_dir().join("text/datastreamABC-stream-policy.iam");
    let out = iamc().arg("fmt").arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // The bundled text form is the same, plus its opening comment.
    let bundled = std::fs::read_to_string(&text).unwrap();
    let uncommented: String = bundled
        .lines()
        .filter(|l| !l.starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(stdout_of(&out), uncommented);

    let out = iamc()
        .args(["fmt", "--to", "json"])
        .arg(&text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let back = json_ok(&stdout_of(&out));
    assert_eq!(
        strip(&back),
        strip(&json_ok(&std::fs::read_to_string(&json).unwrap()))
    );

    // Standard input, either form.
    let out = iamc()
        .args(["fmt", "-"])
        .write_stdin("policy version 2012-10-17 { allow kinesis:ListStreams\n on * ; }")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout_of(&out),
        "policy version 2012-10-17 {\n  allow kinesis:ListStreams on *;\n}\n"
    );
}

#[test]
fn cli_fmt_check() {
    // The bundled text policies are formatted.
    let out = iamc()
        .args(["fmt", "--check"])
        .arg(examples_dir().join("text"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    assert!(stdout_of(&out).is_empty());

    let messy = tmp("messy.iam", "policy {\n allow   x:y on *;}\n");
    let tidy = tmp("tidy.iam", "policy {\n  allow x:y on *;\n}\n");
    let out = iamc()
        .args(["fmt", "--check"])
        .arg(&messy)
        .arg(&tidy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout_of(&out),
        format!(
            "{}: not formatted (first difference at line 2)\n",
            messy.display()
        )
    );
    // A JSON file is checked against the JSON layout, unless --to says otherwise.
    let json = tmp(
        "p.json",
        &policy_to_json(&text_ok("policy { allow x:y on *; }")),
    );
    let out = iamc().args(["fmt", "--check"]).arg(&json).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let out = iamc()
        .args(["fmt", "--check", "--to", "text"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));

    // --write formats in place.
    let out = iamc()
        .args(["fmt", "--write"])
        .arg(&messy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "policy {\n  allow x:y on *;\n}\n"
    );
}

#[test]
fn cli_fmt_errors_and_exit_codes() {
    let bad = tmp(
        "bad.iam",
        "policy {\n  allow x:y on *\n  deny kinesis on *;\n  allow on *;\n}\n",
    );
    let out = iamc().arg("fmt").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    let name = bad.display().to_string();
    assert!(
        err.contains(&format!(
            "{name}:3:3: error[IAM005]: unexpected `deny`; expected `when`, `,` or `;`\n  help: each statement ends with `;`"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:4:9: error[IAM005]: unexpected `on`")),
        "{err}"
    );
    // Value errors come with the JSON pointer they stand for.
    let bad = tmp("bad-value.iam", "policy {\n  allow kinesis on *;\n}\n");
    let out = iamc().arg("fmt").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains(":2:9: error[IAM017]: action \"kinesis\" has no service prefix"),
        "{}",
        stderr_of(&out)
    );
    assert!(stderr_of(&out).contains("(at /Statement/0/Action)"));

    // Bad arguments and unreadable files: 2.
    let out = iamc()
        .args(["fmt", "--to", "yaml", "x.iam"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("--to takes `text` or `json`, not `yaml`"));
    let out = iamc().args(["fmt", "no/such/file.iam"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no/such/file.iam: cannot read"));
    let json = tmp(
        "w.json",
        "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"x:y\"}}",
    );
    let out = iamc()
        .args(["fmt", "--write", "--to", "text"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
