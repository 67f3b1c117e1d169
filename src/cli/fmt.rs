//! `iamc fmt`: format policies in the text form, and convert between the text form and JSON.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::diag::Diagnostic;
use crate::parse::text::{format_as_json, format_as_text, Form};
use crate::parse::Limits;

/// Largest file `fmt` reads.
const MAX_FILE: u64 = 16 * 1024 * 1024;

/// The file extension of the text form.
const TEXT_EXTENSION: &str = "iam";

/// Format policies in the text form, and convert JSON to text and text to JSON.
///
///   iamc fmt policy.iam                   print the policy, formatted
///   iamc fmt policy.json                  print its text form
///   iamc fmt --to json policy.iam         print its JSON form (comments are dropped)
///   iamc fmt --check policies/            fail if a file is not formatted (for CI)
///   iamc fmt --write policies/            format the files in place
///
/// A file is read as JSON when its first character other than whitespace is `{`, else as the
/// text form. A folder stands for the `.iam` files under it; `-` (or no PATH) reads standard
/// input. Only valid policies are formatted: a file with errors is reported, every error with
/// its line and column.
///
/// Without --to, output is in the text form; --check and --write compare and rewrite each file
/// in its own form (a JSON file against the JSON layout `--to json` prints) unless --to names
/// one. Text comments are kept from text to text, and dropped in JSON.
///
/// Exit codes: 0 all well; 1 a file is not formatted (--check) or does not parse; 2 bad
/// arguments or an unreadable file.
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Format text policies, and convert between text and JSON."
)]
pub struct Args {
    /// Policy files or folders (`-` for standard input, the default).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The form to write: `text` or `json`.
    #[arg(long, value_name = "FORM")]
    to: Option<String>,
    /// Print only the names of files that are not formatted, and exit 1 if there are any.
    #[arg(long, conflicts_with = "write")]
    check: bool,
    /// Rewrite files that are not formatted, in place.
    #[arg(long, short = 'w')]
    write: bool,
}

/// What happened to one file, as an exit code: worse is larger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Ok = 0,
    Failed = 1,
    BadInput = 2,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let to = match args.to.as_deref() {
        None => None,
        Some("text") => Some(Form::Text),
        Some("json") => Some(Form::Json),
        Some(other) => {
            eprintln!("error: --to takes `text` or `json`, not `{other}`");
            return ExitCode::from(Outcome::BadInput as u8);
        }
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.paths.clone()
    };
    if args.write && paths.iter().any(|p| p.as_os_str() == "-") {
        eprintln!("error: --write needs files, not standard input");
        return ExitCode::from(Outcome::BadInput as u8);
    }
    let mut worst = Outcome::Ok;
    let mut files = Vec::new();
    for p in &paths {
        match expand(p, &mut files) {
            Ok(()) => {}
            Err(msg) => {
                eprintln!("error: {msg}");
                worst = worst.max(Outcome::BadInput);
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    for file in &files {
        let outcome = one(file, to, &args, &mut stdout);
        worst = worst.max(outcome);
    }
    ExitCode::from(worst as u8)
}

/// A folder becomes its `.iam` files (sorted, recursively); anything else stays as given.
fn expand(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if !path.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut stack = vec![path.to_path_buf()];
    let mut found = Vec::new();
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
        for entry in entries {
            let p = entry
                .map_err(|e| format!("{}: cannot read: {e}", dir.display()))?
                .path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == TEXT_EXTENSION) {
                found.push(p);
            }
        }
    }
    found.sort();
    out.extend(found);
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("<stdin>: cannot read: {e}"))?;
        if text.len() as u64 > MAX_FILE {
            return Err(format!("<stdin>: more than the {MAX_FILE}-byte limit"));
        }
        return Ok(text);
    }
    let meta =
        std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if meta.len() > MAX_FILE {
        return Err(format!(
            "{}: {} bytes is more than the {MAX_FILE}-byte limit",
            path.display(),
            meta.len()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))
}

fn name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// `file:line:column: error[CODE]: message (at /pointer)`, and the help on the next line.
fn render(file: &str, d: &Diagnostic) -> String {
    let place = if d.loc.line > 0 {
        format!("{file}:{}:{}", d.loc.line, d.loc.column)
    } else {
        file.to_string()
    };
    let mut s = format!(
        "{place}: {}[{}]: {}",
        d.severity.as_str(),
        d.code,
        d.message
    );
    if !d.loc.pointer.is_empty() {
        s.push_str(&format!(" (at {})", d.loc.pointer));
    }
    if let Some(h) = &d.help {
        s.push_str(&format!("\n  help: {h}"));
    }
    s
}

fn one(path: &Path, to: Option<Form>, args: &Args, stdout: &mut impl Write) -> Outcome {
    let file = name(path);
    let source = match read(path) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Outcome::BadInput;
        }
    };
    let own = Form::detect(&source);
    let target = match to {
        Some(f) => f,
        None if args.check || args.write => own,
        None => Form::Text,
    };
    if args.write && target != own {
        eprintln!(
            "error: {file}: --write rewrites a file in its own form; print with --to to convert"
        );
        return Outcome::BadInput;
    }
    let limits = Limits {
        max_document_bytes: MAX_FILE as usize,
        ..Limits::default()
    };
    let formatted = match target {
        Form::Text => format_as_text(&source, &limits),
        Form::Json => format_as_json(&source, &limits),
    };
    let formatted = match formatted {
        Ok(f) => f,
        Err(diags) => {
            for d in &diags {
                eprintln!("{}", render(&file, d));
            }
            return Outcome::Failed;
        }
    };
    if args.check {
        if formatted == source {
            return Outcome::Ok;
        }
        let line = first_difference(&source, &formatted);
        let _ = writeln!(
            stdout,
            "{file}: not formatted (first difference at line {line})"
        );
        return Outcome::Failed;
    }
    if args.write {
        if formatted != source {
            if let Err(e) = std::fs::write(path, &formatted) {
                eprintln!("error: {file}: cannot write: {e}");
                return Outcome::BadInput;
            }
            eprintln!("formatted {file}");
        }
        return Outcome::Ok;
    }
    match stdout.write_all(formatted.as_bytes()) {
        Ok(()) => Outcome::Ok,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            Outcome::BadInput
        }
    }
}

/// The 1-based number of the first line where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> usize {
    let mut al = a.lines();
    let mut bl = b.lines();
    let mut n = 1;
    loop {
        match (al.next(), bl.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => return n,
            _ => return n,
        }
    }
}
