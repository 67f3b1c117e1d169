//! `iamc check`: validate and lint policy files, folders and stores, like IAM Access
//! Analyzer's policy validation, with the Kinesis resource-policy rules.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};

use crate::ast::PolicyType;
use crate::catalog::ResourceType;
use crate::diag::{Code, Diagnostic, Severity};
use crate::parse::json::reader::{JsonNode, JsonValue};
use crate::parse::{policy_from_node, Limits};
use crate::store::{Store, MAX_STORE_BYTES};
use crate::validate::{check_policy, check_text, value_end, Locator, SourceSpan};

mod render;
use render::render;

/// Check IAM policies before they ship: grammar and type errors, unknown actions, ARNs the
/// actions never take, condition keys the actions never set, over-broad grants, redundant
/// statements, and the limits of Kinesis resource policies.
///
///   iamc check policy.json                           an identity policy (the default type)
///   iamc check --type scp scps/                      every *.json under a folder
///   iamc check --type kinesis-resource \
///     --attached-to arn:aws:kinesis:us-east-2:123456789012:stream/orders stream-policy.json
///   iamc check examples/kinesis/store.json           a store: each policy with its own type
///   iamc check --format sarif policies/ > iamc.sarif     for code scanning in CI
///
/// A PATH is a policy file, a folder (searched for *.json; a folder holding store.json is a
/// store), a store file, or `-` for standard input (a policy or a store; a store's file
/// references are then relative to the current folder). Policies in a store are checked with the type of their place, and
/// Kinesis stream and consumer policies against the ARN they are attached to; --type and
/// --attached-to apply to the other files.
///
/// Findings have a code (IAM0xx parse, IAM1xx validate, IAM3xx store), a severity (error,
/// security-warning, warning, suggestion), the place (line:column; the JSON pointer in JSON and
/// SARIF) and a help text. For example:
///
///  error[IAM110]
///
///    × action "kinesis:*": wildcards are not supported for actions in a Kinesis resource policy
///     ╭─[stream-policy.json:6:17]
///   6 │       "Action": "kinesis:*",
///     ·                 ^^^^^^^^^^^
///     ╰────
///    help: list the actions to share by name
///
/// A long source line is shown as a window of at most 120 characters around the finding, cut
/// with `…`. At most --max-findings findings (100) are shown per file; the rest are counted.
///
/// Exit codes: 0 no error (warnings allowed unless --deny), 1 errors (or findings --deny
/// refuses), 2 the check could not run (bad arguments, a file that cannot be read).
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Find the mistakes in policies that IAM accepts silently."
)]
pub struct Args {
    /// Policy files, folders or stores.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The type of the policy files (not of policies in a store): identity, boundary, session,
    /// scp, rcp, resource, kinesis-resource. Default: identity, or with --attached-to a
    /// Kinesis stream or consumer ARN, kinesis-resource.
    #[arg(long = "type", value_name = "TYPE")]
    ty: Option<String>,
    /// The ARN of the resource the policies are attached to (a Kinesis stream or consumer for
    /// kinesis-resource): every Resource must name it.
    #[arg(long, value_name = "ARN")]
    attached_to: Option<String>,
    /// Output: human (the source with the element underlined), json (a list of findings), or
    /// sarif (SARIF 2.1.0, for code scanning).
    #[arg(long, value_name = "FORMAT", default_value = "human")]
    format: String,
    /// Also fail (exit 1) on findings of this severity and worse: security-warnings, warnings
    /// (security warnings and warnings), or suggestions (every finding).
    #[arg(long, value_name = "LEVEL")]
    deny: Option<String>,
    /// Show at most N findings per file (0: all). The rest are counted: in a line after the
    /// file's findings, in `truncated` (json) and in the run's `properties.truncated` (sarif).
    /// The summary, and the exit code, count every finding.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_findings: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Sarif,
}

/// One finding, with the file it is in.
struct Finding {
    /// Index into [`Run::files`].
    file: usize,
    /// The policy type it was checked as (unknown for store findings).
    ty: Option<PolicyType>,
    diag: Diagnostic,
    span: Option<SourceSpan>,
}

/// A file findings point into.
struct SourceFile {
    /// As shown (the path as given, joined with relative parts).
    path: String,
    text: Option<String>,
}

#[derive(Default)]
struct Run {
    files: Vec<SourceFile>,
    /// Where each path is in `files`.
    file_index: HashMap<String, usize>,
    findings: Vec<Finding>,
    /// Findings shown per file (0: all).
    max_findings: usize,
    /// Policy files and stores checked.
    checked: usize,
    /// Why something could not be checked (exit code 2).
    failures: Vec<String>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let usage = |msg: String| {
        eprintln!("error: {msg}\n\nFor more information, try 'iamc check --help'.");
        ExitCode::from(2)
    };
    let format = match args.format.as_str() {
        "human" | "text" => Format::Human,
        "json" => Format::Json,
        "sarif" => Format::Sarif,
        other => {
            return usage(format!(
                "unknown --format `{other}`: expected human, json or sarif"
            ))
        }
    };
    let deny = match args.deny.as_deref() {
        None => None,
        Some("warnings" | "warning") => Some(Severity::Warning),
        Some("security-warnings" | "security-warning") => Some(Severity::SecurityWarning),
        Some("suggestions" | "suggestion") => Some(Severity::Suggestion),
        Some(other) => {
            return usage(format!(
                "unknown --deny `{other}`: expected security-warnings, warnings or suggestions"
            ))
        }
    };
    let ty = match args.ty.as_deref() {
        Some(name) => match PolicyType::from_name(name) {
            Some(t) => t,
            None => {
                return usage(format!(
                    "unknown --type `{name}`: expected identity, boundary, session, scp, rcp, resource or kinesis-resource"
                ))
            }
        },
        None => match args.attached_to.as_deref().map(ResourceType::of_arn) {
            Some(Some(ResourceType::Stream | ResourceType::Consumer)) => PolicyType::KinesisResource,
            Some(_) => PolicyType::Resource,
            None => PolicyType::Identity,
        },
    };
    if args.paths.is_empty() {
        return usage("no PATH given: name a policy file, a folder or a store".into());
    }
    let mut run = Run {
        max_findings: args.max_findings,
        ..Run::default()
    };
    for path in &args.paths {
        run.path(path, ty, args.attached_to.as_deref());
    }
    let mut stdout = std::io::stdout().lock();
    let written = match format {
        Format::Human => writeln!(stdout, "{}", run.human()),
        Format::Json => writeln!(stdout, "{:#}", run.json()),
        Format::Sarif => writeln!(stdout, "{:#}", run.sarif()),
    };
    if written.is_err() {
        return ExitCode::from(2);
    }
    for f in &run.failures {
        eprintln!("error: {f}");
    }
    if !run.failures.is_empty() {
        return ExitCode::from(2);
    }
    let fails = run
        .findings
        .iter()
        .any(|f| f.diag.severity == Severity::Error || deny.is_some_and(|d| f.diag.severity <= d));
    ExitCode::from(u8::from(fails))
}

/// Whether a JSON document is a store rather than a policy: an object with `version` and no
/// `Statement`.
fn is_store(root: &JsonNode) -> bool {
    root.get("version").is_some() && root.get("Statement").is_none()
}

/// `-`: standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The name a path is shown with (`<stdin>` for `-`).
fn shown(path: &Path) -> String {
    if is_stdin(path) {
        STDIN.to_string()
    } else {
        path.display().to_string()
    }
}

const STDIN: &str = "<stdin>";

fn read(path: &Path) -> Result<String, String> {
    if is_stdin(path) {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_STORE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{STDIN}: cannot read: {e}"))?;
        if bytes.len() > MAX_STORE_BYTES {
            return Err(format!(
                "{STDIN}: more than the {MAX_STORE_BYTES}-byte limit"
            ));
        }
        return String::from_utf8(bytes)
            .map_err(|_| format!("{STDIN}: cannot read: not UTF-8 text"));
    }
    let meta =
        std::fs::metadata(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if meta.len() > MAX_STORE_BYTES as u64 {
        return Err(format!(
            "{}: {} bytes is more than the {MAX_STORE_BYTES}-byte limit",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{}: cannot read: not UTF-8 text", path.display()))
}

/// The `*.json` files under `dir`, sorted, hidden folders skipped; a folder with `store.json`
/// stands for its store.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>, failures: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            failures.push(format!("{}: cannot read: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            if p.join("store.json").is_file() {
                out.push(p);
            } else {
                json_files(&p, out, failures, depth + 1);
            }
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

impl Run {
    fn add_file(&mut self, path: String, text: Option<String>) -> usize {
        if let Some(i) = self.file_index.get(&path) {
            return *i;
        }
        self.file_index.insert(path.clone(), self.files.len());
        self.files.push(SourceFile { path, text });
        self.files.len() - 1
    }

    fn path(&mut self, path: &Path, ty: PolicyType, attached_to: Option<&str>) {
        if path.is_dir() {
            if path.join("store.json").is_file() {
                self.store(path, None);
                return;
            }
            let mut files = Vec::new();
            let mut failures = Vec::new();
            json_files(path, &mut files, &mut failures, 0);
            self.failures.extend(failures);
            for f in files {
                if f.is_dir() {
                    self.store(&f, None);
                } else {
                    self.file(&f, ty, attached_to);
                }
            }
            return;
        }
        self.file(path, ty, attached_to);
    }

    fn file(&mut self, path: &Path, ty: PolicyType, attached_to: Option<&str>) {
        let text = match read(path) {
            Ok(t) => t,
            Err(e) => {
                self.failures.push(e);
                return;
            }
        };
        let locator = Locator::new(&text);
        if locator.node("").is_some_and(is_store) {
            let stdin = is_stdin(path).then(|| text.clone());
            self.store(path, stdin);
            return;
        }
        self.checked += 1;
        let found = match locator.node("").map(|n| &n.value) {
            // A JSON array of policies (one SCP or RCP level, as `iamc authorize --scp` takes).
            Some(JsonValue::Array(items))
                if !items.is_empty()
                    && items
                        .iter()
                        .all(|n| matches!(n.value, JsonValue::Object(_))) =>
            {
                let mut found = Vec::new();
                for (i, node) in items.iter().enumerate() {
                    let bytes = value_end(&text, node.span.offset).saturating_sub(node.span.offset);
                    let diags = match policy_from_node(node, bytes, &Limits::default()) {
                        Ok(p) => check_policy(&p, ty, attached_to),
                        Err(e) => e,
                    };
                    for mut d in diags {
                        d.loc.pointer = format!("/{i}{}", d.loc.pointer);
                        locator.place(&mut d);
                        found.push(d);
                    }
                }
                found.sort_by_key(|d| (d.loc.line, d.loc.column, d.severity));
                found
            }
            // Either form: `check_text` reads the text policy language too.
            _ => check_text(&text, ty, attached_to),
        };
        let spans: Vec<Option<SourceSpan>> = found.iter().map(|d| span_for(&locator, d)).collect();
        let file = self.add_file(shown(path), Some(text));
        for (diag, span) in found.into_iter().zip(spans) {
            self.findings.push(Finding {
                file,
                ty: Some(ty),
                diag,
                span,
            });
        }
    }

    /// A store: every finding of loading it (errors and warnings), placed in the store file or
    /// in the policy file it refers to.
    ///
    /// `stdin` is the text of a store read from standard input: its `file` references are
    /// relative to the current folder.
    fn store(&mut self, path: &Path, stdin: Option<String>) {
        let (store_file, base) = if path.is_dir() {
            (path.join("store.json"), path.to_path_buf())
        } else if stdin.is_some() {
            (path.to_path_buf(), PathBuf::from("."))
        } else {
            (
                path.to_path_buf(),
                path.parent().map(Path::to_path_buf).unwrap_or_default(),
            )
        };
        let text = match stdin {
            Some(t) => t,
            None => match read(&store_file) {
                Ok(t) => t,
                Err(e) => {
                    self.failures.push(e);
                    return;
                }
            },
        };
        self.checked += 1;
        let loaded = if is_stdin(path) {
            Store::from_str(&text, Some(&base))
        } else {
            Store::load(path)
        };
        let found = match loaded {
            Ok(store) => store.warnings().to_vec(),
            Err(all) => all,
        };
        // Each file is read and indexed (a `Locator`) once, and its text moved into the run
        // once: an organization's store has thousands of findings over a store.json of
        // megabytes, so nothing per finding may copy or re-read a file.
        let store_locator = Locator::new(&text);
        let mut texts: HashMap<PathBuf, Option<String>> = HashMap::new();
        let mut targets = Vec::with_capacity(found.len());
        for d in &found {
            let mut target: Option<(PathBuf, String, String)> = None;
            if let Some((rel, inner)) = split_file_pointer(&store_locator, &d.loc.pointer) {
                let p = base.join(&rel);
                let t = texts.entry(p.clone()).or_insert_with(|| read(&p).ok());
                if t.is_some() {
                    target = Some((p, inner, rel));
                }
            }
            targets.push(target);
        }
        let locators: HashMap<&PathBuf, Locator<'_>> = texts
            .iter()
            .filter_map(|(p, t)| Some((p, Locator::new(t.as_deref()?))))
            .collect();
        // (the file, or None for store.json; its span; the finding)
        let mut placed: Vec<(Option<PathBuf>, Option<SourceSpan>, Diagnostic)> = Vec::new();
        for (mut d, target) in found.into_iter().zip(targets) {
            match target {
                Some((p, inner, rel)) => {
                    let span = locators.get(&p).and_then(|l| {
                        span_for(
                            l,
                            &Diagnostic {
                                loc: crate::ast::Loc {
                                    pointer: inner,
                                    ..d.loc.clone()
                                },
                                ..d.clone()
                            },
                        )
                    });
                    if let Some(s) = d.message.strip_prefix(&format!("{rel}: ")) {
                        d.message = s.to_string();
                    }
                    relocate(&mut d, span);
                    placed.push((Some(p), span, d));
                }
                None => {
                    let span = span_for(&store_locator, &d);
                    relocate(&mut d, span);
                    placed.push((None, span, d));
                }
            }
        }
        drop(locators);
        drop(store_locator);
        let store_shown = shown(&store_file);
        let mut keyed: Vec<(String, Option<PathBuf>, Option<SourceSpan>, Diagnostic)> = placed
            .into_iter()
            .map(|(p, span, d)| {
                let name = p
                    .as_ref()
                    .map_or_else(|| store_shown.clone(), |p| p.display().to_string());
                (name, p, span, d)
            })
            .collect();
        keyed.sort_by(|a, b| {
            (&a.0, a.3.loc.line, a.3.loc.column).cmp(&(&b.0, b.3.loc.line, b.3.loc.column))
        });
        let mut store_text = Some(text);
        for (name, p, span, d) in keyed {
            // The text goes with the first finding of its file (`add_file` keeps the first).
            let t = match &p {
                Some(p) => texts.remove(p).flatten(),
                None => store_text.take(),
            };
            let file = self.add_file(name, t);
            self.findings.push(Finding {
                file,
                ty: None,
                diag: d,
                span,
            });
        }
    }

    fn counts(&self) -> [usize; 4] {
        let mut c = [0usize; 4];
        for f in &self.findings {
            let i = match f.diag.severity {
                Severity::Error => 0,
                Severity::SecurityWarning => 1,
                Severity::Warning => 2,
                Severity::Suggestion => 3,
            };
            if let Some(n) = c.get_mut(i) {
                *n += 1;
            }
        }
        c
    }

    fn summary(&self) -> String {
        let [e, s, w, n] = self.counts();
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut parts = vec![plural(e, "error", "errors")];
        if s > 0 {
            parts.push(plural(s, "security warning", "security warnings"));
        }
        parts.push(plural(w, "warning", "warnings"));
        if n > 0 {
            parts.push(plural(n, "suggestion", "suggestions"));
        }
        format!(
            "{} in {}",
            parts.join(", "),
            plural(self.checked, "file", "files")
        )
    }

    /// The findings shown (at most `max_findings` per file, in order), and how many of each
    /// file's were left out (by file index).
    fn shown(&self) -> (Vec<&Finding>, Vec<usize>) {
        let mut seen = vec![0usize; self.files.len()];
        let mut omitted = vec![0usize; self.files.len()];
        let mut shown = Vec::new();
        for f in &self.findings {
            let Some(n) = seen.get_mut(f.file) else {
                continue;
            };
            *n += 1;
            if self.max_findings == 0 || *n <= self.max_findings {
                shown.push(f);
            } else if let Some(o) = omitted.get_mut(f.file) {
                *o += 1;
            }
        }
        (shown, omitted)
    }

    fn human(&self) -> String {
        let mut out = String::new();
        let (shown, omitted) = self.shown();
        for f in shown {
            let Some(file) = self.files.get(f.file) else {
                continue;
            };
            out.push_str(&render(&f.diag, &file.path, file.text.as_deref(), f.span));
            out.push('\n');
        }
        for (file, n) in self.files.iter().zip(omitted) {
            if n > 0 {
                out.push_str(&format!(
                    "… {n} more finding{} in {} not shown (--max-findings 0 shows them all)\n\n",
                    if n == 1 { "" } else { "s" },
                    file.path
                ));
            }
        }
        out.push_str(&self.summary());
        out
    }

    fn json(&self) -> Value {
        let [e, s, w, n] = self.counts();
        let (shown, omitted) = self.shown();
        let findings: Vec<Value> = shown
            .into_iter()
            .map(|f| {
                let mut v = json!({
                    "path": self.files.get(f.file).map(|x| x.path.as_str()).unwrap_or(""),
                    "code": f.diag.code,
                    "severity": f.diag.severity.as_str(),
                    "message": f.diag.message,
                    "pointer": f.diag.loc.pointer,
                    "line": f.diag.loc.line,
                    "column": f.diag.loc.column,
                });
                if let Value::Object(m) = &mut v {
                    if let Some(h) = &f.diag.help {
                        m.insert("help".into(), json!(h));
                    }
                    if let Some(t) = f.ty {
                        m.insert("type".into(), json!(t.as_str()));
                    }
                }
                v
            })
            .collect();
        json!({
            "findings": findings,
            "summary": {"files": self.checked, "errors": e, "security_warnings": s, "warnings": w, "suggestions": n},
            "truncated": omitted.iter().sum::<usize>(),
            "failures": self.failures,
        })
    }

    fn sarif(&self) -> Value {
        let (shown, omitted) = self.shown();
        let mut rule_ids: Vec<Code> = Vec::new();
        for f in &shown {
            if !rule_ids.contains(&f.diag.code) {
                rule_ids.push(f.diag.code);
            }
        }
        rule_ids.sort_unstable();
        let rules: Vec<Value> = rule_ids
            .iter()
            .map(|id| {
                json!({
                    "id": id,
                    "shortDescription": {"text": id.title()},
                    "defaultConfiguration": {"level": sarif_level(id.severity())},
                    "properties": {"family": id.family()},
                })
            })
            .collect();
        let results: Vec<Value> = shown
            .into_iter()
            .map(|f| {
                let uri = self
                    .files
                    .get(f.file)
                    .map(|x| x.path.replace('\\', "/"))
                    .unwrap_or_default();
                let mut physical = json!({"artifactLocation": {"uri": uri}});
                if f.diag.loc.line > 0 {
                    let mut region = json!({"startLine": f.diag.loc.line, "startColumn": f.diag.loc.column.max(1)});
                    if let (Some(s), Value::Object(m)) = (f.span, &mut region) {
                        m.insert("endColumn".into(), json!(s.column + s.len));
                    }
                    if let Value::Object(m) = &mut physical {
                        m.insert("region".into(), region);
                    }
                }
                let text = match &f.diag.help {
                    Some(h) => format!("{} (help: {h})", f.diag.message),
                    None => f.diag.message.clone(),
                };
                json!({
                    "ruleId": f.diag.code,
                    "ruleIndex": rule_ids.iter().position(|r| *r == f.diag.code).unwrap_or(0),
                    "level": sarif_level(f.diag.severity),
                    "message": {"text": text},
                    "locations": [{"physicalLocation": physical}],
                    "properties": {"severity": f.diag.severity.as_str(), "pointer": f.diag.loc.pointer},
                })
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "iamc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "results": results,
                "properties": {"truncated": omitted.iter().sum::<usize>()},
            }],
        })
    }
}

/// Moves a store finding to the place its span found (parse errors keep the parser's place).
fn relocate(d: &mut Diagnostic, span: Option<SourceSpan>) {
    if let Some(s) = span {
        if !d.code.is_parse() || d.loc.line == 0 {
            d.loc.line = s.line;
            d.loc.column = s.column;
        }
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::SecurityWarning | Severity::Warning => "warning",
        Severity::Suggestion => "note",
    }
}

/// The span of a finding: the parser's own position for parse errors (with the length of the
/// token there), else the element its pointer names.
fn span_for(locator: &Locator<'_>, d: &Diagnostic) -> Option<SourceSpan> {
    let at_pointer = locator.span(&d.loc.pointer);
    if d.code.is_parse() && d.loc.line > 0 {
        let len = at_pointer
            .filter(|s| s.line == d.loc.line && s.column == d.loc.column)
            .map_or(1, |s| s.len);
        return Some(SourceSpan {
            line: d.loc.line,
            column: d.loc.column,
            len,
        });
    }
    at_pointer
}

/// For a store pointer that crosses a `{"file": …}` reference, the file as written and the
/// pointer inside it.
fn split_file_pointer(store: &Locator<'_>, pointer: &str) -> Option<(String, String)> {
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut prefix = String::new();
    for (i, tok) in tokens.iter().enumerate() {
        if *tok == "file" {
            if let Some(JsonValue::String(rel)) =
                store.node(&format!("{prefix}/file")).map(|n| &n.value)
            {
                let rest: String = tokens.iter().skip(i + 1).map(|t| format!("/{t}")).collect();
                return Some((rel.clone(), rest));
            }
        }
        prefix.push('/');
        prefix.push_str(tok);
    }
    None
}
