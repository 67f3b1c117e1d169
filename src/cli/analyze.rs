//! `iamc who-can`, `what-can`, `diff` and `check-access`: questions about a whole store or a
//! policy change, answered by the engine ([`crate::analysis`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use super::load::{self, LoadError};
use crate::analysis::checks;
use crate::analysis::diff::{self, Verdict};
use crate::analysis::{what_can, who_can, Analyzer, PrincipalGraph};
use crate::ast::{PolicyDoc, PolicyType};
use crate::request::Context;
use crate::semantics::Semantics;
use crate::store::Store;
use crate::Authorizer;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text.
    Human,
    /// JSON.
    Json,
}

/// Exit code: the check found something (new access, a grant).
const FINDING: u8 = 1;
/// Exit code: the question could not be answered (bad input, or `unknown`).
const COULD_NOT: u8 = 2;

/// Who can do an action on a resource: every principal of the store that is allowed, directly
/// or through a chain of role assumptions, and the principals outside the store that the
/// resource's policy lets in.
///
///   iamc who-can examples/kinesis/store.json --action kinesis:GetRecords \
///     --resource arn:aws:kinesis:us-east-2:123456789012:stream/datastreamABC
///
/// Each principal is decided by the engine, in the context --context gives (plus what the store
/// and the caller set). A role can be reached through the roles whose trust policies let the
/// principal assume them (sts:AssumeRole, decided the same way); the chain and the statements
/// of each hop are shown. Principals whose policies use keys the context lacks are listed as
/// conditional. Principals outside the store are shown from the resource policy's side: their
/// own account's policies must allow the action too.
///
/// Exit codes: 0 answered; 2 bad arguments or a store that cannot be loaded.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct WhoCanArgs {
    /// A store: a store JSON file, or a folder holding store.json.
    #[arg(value_name = "STORE")]
    store: PathBuf,
    /// The action, `service:Action`.
    #[arg(long)]
    action: String,
    /// The resource ARN (or `*`).
    #[arg(long)]
    resource: String,
    /// A context key, KEY=VALUE (a JSON array for a multi-valued key). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// What a principal can do: the actions and resources it reaches, directly and through the
/// roles it can assume, grouped by access level.
///
///   iamc what-can examples/kinesis/store.json --principal arn:aws:iam::210987654321:user/analyst
///
/// The resources tried are the store's (streams, consumers, roles) and, for each pattern of the
/// principal's own Allow statements, a witness ARN the pattern matches (`*` read as
/// `iamc-any`), shown with the pattern, so access to resources the store does not list shows.
///
/// Exit codes: 0 answered; 2 bad arguments or a store that cannot be loaded.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct WhatCanArgs {
    /// A store: a store JSON file, or a folder holding store.json.
    #[arg(value_name = "STORE")]
    store: PathBuf,
    /// The principal: a user, role, root or session ARN.
    #[arg(long)]
    principal: String,
    /// A context key, KEY=VALUE. Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Does the new policy grant anything the old one does not? (CheckNoNewAccess)
///
///   iamc diff old.json new.json --type kinesis-resource
///
/// Witness requests are drawn from the new policy's Allow statements and the old policy's
/// Deny statements and decided under both; one the new policy allows and the old does not is
/// new access, shown as that request. Without a witness, "no new access" is claimed only when
/// proved (every new Allow covered by an old Allow, every old Deny by a new Deny); otherwise the
/// answer is unknown, with the statements that could not be proved.
///
/// Exit codes: 0 no new access (proved); 1 new access (with a witness); 2 unknown, or bad
/// input, so a CI gate never passes on a guess.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// The old policy (IAM JSON or the text form).
    old: PathBuf,
    /// The new policy.
    new: PathBuf,
    /// The policy type both are read as: identity, boundary, session, scp, rcp, resource,
    /// kinesis-resource, role-trust.
    #[arg(long = "type", default_value = "identity")]
    ty: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Checks for CI gates: actions that must not be granted, and resources open to other
/// accounts or to anyone.
///
///   iamc check-access --not-granted kinesis:DeleteStream examples/kinesis/store.json
///   iamc check-access --not-granted kinesis:PutRecord --type identity policy.json
///   iamc check-access --external examples/kinesis/store.json
///   iamc check-access --public examples/kinesis/store.json
///
/// --not-granted on a store: no principal of the store (directly or through role chains) and
/// no principal outside it may do one of the actions on --resource, or on any resource of the
/// store that the action takes. On a policy file: the policy alone must not allow them (a
/// witness request shows a grant; a statement that names the action without a witness makes
/// the answer unknown).
/// --external: resources whose policy lets in principals of other accounts (their own
/// policies must allow too); --public: those open to anyone or to anonymous callers.
///
/// Exit codes: 0 pass; 1 a finding; 2 unknown, or bad input.
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct CheckAccessArgs {
    /// A store, or with --not-granted a policy file.
    #[arg(value_name = "STORE|POLICY")]
    target: PathBuf,
    /// Actions that must not be granted, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "ACTIONS")]
    not_granted: Vec<String>,
    /// With --not-granted: the resource to check (default: every resource of the store).
    #[arg(long)]
    resource: Option<String>,
    /// Report resources open to principals of other accounts.
    #[arg(long, conflicts_with_all = ["not_granted", "public"])]
    external: bool,
    /// Report resources open to anyone.
    #[arg(long, conflicts_with = "not_granted")]
    public: bool,
    /// With --not-granted on a policy file: its type.
    #[arg(long = "type", default_value = "identity")]
    ty: String,
    /// A context key, KEY=VALUE. Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(COULD_NOT)
}

/// The store at `path` loaded and compiled, with the time each took.
fn authorizer(path: &Path) -> Result<(Authorizer, Timings), String> {
    let t0 = Instant::now();
    let store = Store::load(path).map_err(|diags| {
        diags
            .iter()
            .map(|d| format!("{}: {d}", path.display()))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let load = t0.elapsed();
    let t1 = Instant::now();
    let auth = Authorizer::new(Arc::new(store), Semantics::default())
        .map_err(|e| format!("{}: the engine was not built: {e}", path.display()))?;
    Ok((
        auth,
        Timings {
            load_ms: ms(load),
            compile_ms: ms(t1.elapsed()),
            ..Timings::default()
        },
    ))
}

/// Where the time of a store question went, in milliseconds.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
struct Timings {
    load_ms: f64,
    compile_ms: f64,
    /// Building the principal graph (one `sts:AssumeRole` decision per candidate pair).
    graph_ms: f64,
    /// The question itself.
    query_ms: f64,
    /// `sts:AssumeRole` decisions made for the graph, and the edges found.
    graph_decisions: usize,
    graph_edges: usize,
}

impl Timings {
    fn line(&self) -> String {
        format!(
            "(store loaded in {:.0} ms, engine built in {:.0} ms, role graph of {} edges from {} \
             decisions in {:.0} ms, question answered in {:.0} ms)\n",
            self.load_ms,
            self.compile_ms,
            self.graph_edges,
            self.graph_decisions,
            self.graph_ms,
            self.query_ms
        )
    }

    fn graph(&mut self, an: &Analyzer<'_>) -> PrincipalGraph {
        let t = Instant::now();
        let g = PrincipalGraph::build(an);
        self.graph_ms = ms(t.elapsed());
        self.graph_decisions = g.decisions;
        self.graph_edges = g.graph.edge_count();
        g
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn context(pairs: &[String]) -> Result<Context, LoadError> {
    let mut ctx = Context::new();
    load::context_pairs(pairs, &mut ctx)?;
    Ok(ctx)
}

fn print_json(v: &impl serde::Serialize) -> bool {
    match serde_json::to_string_pretty(v) {
        Ok(s) => writeln!(std::io::stdout().lock(), "{s}").is_ok(),
        Err(_) => false,
    }
}

/// Runs `who-can`.
pub fn run_who_can(args: WhoCanArgs) -> ExitCode {
    let (auth, mut timings) = match authorizer(&args.store) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let ctx = match context(&args.context) {
        Ok(c) => c,
        Err(e) => return fail(e.0),
    };
    let an = Analyzer::new(&auth, ctx);
    let graph = timings.graph(&an);
    let t = Instant::now();
    let w = who_can::who_can(&an, &graph, &args.action, &args.resource);
    timings.query_ms = ms(t.elapsed());
    if args.format == Format::Json {
        let v = serde_json::json!({ "answer": w, "timings": timings });
        return if print_json(&v) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(COULD_NOT)
        };
    }
    let mut s = format!(
        "who can {} on {} ({} principals of the store checked)\n",
        w.action, w.resource, w.principals_checked
    );
    if w.allowed.is_empty() && w.outside.is_empty() {
        s.push_str("  nobody\n");
    }
    for a in &w.allowed {
        if a.via.is_empty() {
            s.push_str(&format!("  {}  directly\n", a.principal));
        } else {
            s.push_str(&format!("  {}  by assuming a role:\n", a.principal));
            for h in &a.via {
                s.push_str(&format!("      -> {}  ({})\n", h.to, refs(&h.statements)));
            }
        }
        s.push_str(&format!("      allowed by {}\n", refs(&a.determining)));
    }
    for o in &w.outside {
        s.push_str(&format!(
            "  {}  (outside the store: {})\n      let in by {}\n",
            o.who,
            o.requires,
            refs(&o.statements)
        ));
    }
    for c in &w.conditional {
        s.push_str(&format!(
            "  {}  denied here; its policies use keys the context lacks: {}\n",
            c.principal,
            c.missing_keys.join(", ")
        ));
    }
    s.push_str(&timings.line());
    out(&s)
}

fn refs(r: &[crate::eval::StatementRef]) -> String {
    r.iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn out(s: &str) -> ExitCode {
    if std::io::stdout().lock().write_all(s.as_bytes()).is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(COULD_NOT)
    }
}

/// Runs `what-can`.
pub fn run_what_can(args: WhatCanArgs) -> ExitCode {
    let (auth, mut timings) = match authorizer(&args.store) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let ctx = match context(&args.context) {
        Ok(c) => c,
        Err(e) => return fail(e.0),
    };
    let an = Analyzer::new(&auth, ctx);
    let graph = timings.graph(&an);
    let t = Instant::now();
    let Some(w) = what_can::what_can(&an, &graph, &args.principal) else {
        return fail(format!(
            "--principal `{}`: not a principal ARN",
            args.principal
        ));
    };
    timings.query_ms = ms(t.elapsed());
    if args.format == Format::Json {
        let v = serde_json::json!({ "answer": w, "timings": timings });
        return if print_json(&v) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(COULD_NOT)
        };
    }
    let mut s = format!(
        "what {} can do ({} requests decided)\n",
        w.principal, w.decisions
    );
    for hops in &w.roles {
        let path: Vec<&str> = hops.iter().map(|h| h.to.as_str()).collect();
        s.push_str(&format!("  can assume {}\n", path.join(" -> ")));
    }
    let mut level = String::new();
    for g in &w.grants {
        let l = g
            .access_level
            .map(|l| format!("{l:?}"))
            .unwrap_or_else(|| "Other".into());
        if l != level {
            s.push_str(&format!("  {l}:\n"));
            level = l;
        }
        let pattern = g
            .pattern
            .as_ref()
            .map(|p| format!("  [pattern {p}]"))
            .unwrap_or_default();
        let via = match g.via.last() {
            Some(h) => format!("  via {}", h.to),
            None => String::new(),
        };
        s.push_str(&format!(
            "    {} on {}{pattern}{via}\n",
            g.action, g.resource
        ));
    }
    if w.grants.is_empty() {
        s.push_str("  nothing\n");
    }
    for u in &w.untried {
        s.push_str(&format!("  not tried (policy variables): {u}\n"));
    }
    s.push_str(&timings.line());
    out(&s)
}

fn policy_type(name: &str) -> Result<PolicyType, String> {
    PolicyType::from_name(name).ok_or_else(|| {
        format!("--type `{name}`: expected identity, boundary, session, scp, rcp, resource, kinesis-resource or role-trust")
    })
}

fn read_policy(path: &Path, ty: PolicyType) -> Result<Arc<PolicyDoc>, String> {
    load::policy(path, ty).map_err(|e| e.0)
}

/// Runs `diff`.
pub fn run_diff(args: DiffArgs) -> ExitCode {
    let ty = match policy_type(&args.ty) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let (old, new) = match (read_policy(&args.old, ty), read_policy(&args.new, ty)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let d = diff::diff(&old, &new, ty, &Semantics::default());
    let code = match d.verdict {
        Verdict::NoNewAccess => ExitCode::SUCCESS,
        Verdict::NewAccess => ExitCode::from(FINDING),
        Verdict::Unknown => ExitCode::from(COULD_NOT),
    };
    if args.format == Format::Json {
        return if print_json(&d) {
            code
        } else {
            ExitCode::from(COULD_NOT)
        };
    }
    let mut s = match d.verdict {
        Verdict::NoNewAccess => format!(
            "no new access: {} allows nothing that {} does not (proved; {} witness requests tried)\n",
            args.new.display(),
            args.old.display(),
            d.candidates
        ),
        Verdict::NewAccess => format!(
            "new access: {} allows what {} does not\n",
            args.new.display(),
            args.old.display()
        ),
        Verdict::Unknown => format!(
            "unknown: no witness of new access was found in {} requests, and no new access could not be proved:\n",
            d.candidates
        ),
    };
    for w in &d.witnesses {
        s.push_str(&format!(
            "  {} {} on {}{}\n      allowed by {}\n",
            w.principal,
            w.action,
            w.resource,
            if !w.context.is_empty() {
                format!(" with {}", serde_json::Value::Object(w.context.clone()))
            } else {
                String::new()
            },
            w.allowed_by.join("; ")
        ));
    }
    for u in &d.unproved {
        s.push_str(&format!("  {u}\n"));
    }
    if out(&s) != ExitCode::SUCCESS {
        return ExitCode::from(COULD_NOT);
    }
    code
}

/// Runs `check-access`.
pub fn run_check_access(args: CheckAccessArgs) -> ExitCode {
    if args.not_granted.is_empty() && !args.external && !args.public {
        return fail("give --not-granted ACTIONS, --external or --public");
    }
    let ctx = match context(&args.context) {
        Ok(c) => c,
        Err(e) => return fail(e.0),
    };
    // A policy file (--not-granted only) or a store.
    let is_store = args.target.is_dir() || is_store_file(&args.target);
    if !is_store {
        if args.not_granted.is_empty() {
            return fail("--external and --public need a store");
        }
        let ty = match policy_type(&args.ty) {
            Ok(t) => t,
            Err(e) => return fail(e),
        };
        let doc = match read_policy(&args.target, ty) {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        let g = checks::not_granted_policy(
            &doc,
            ty,
            &args.not_granted,
            args.resource.as_deref(),
            &Semantics::default(),
        );
        let code = if !g.granted.is_empty() {
            ExitCode::from(FINDING)
        } else if !g.unproved.is_empty() {
            ExitCode::from(COULD_NOT)
        } else {
            ExitCode::SUCCESS
        };
        if args.format == Format::Json {
            return if print_json(&g) {
                code
            } else {
                ExitCode::from(COULD_NOT)
            };
        }
        let mut s = String::new();
        for w in &g.granted {
            s.push_str(&format!(
                "granted: {} {} on {}  (allowed by {})\n",
                w.principal,
                w.action,
                w.resource,
                w.allowed_by.join("; ")
            ));
        }
        for u in &g.unproved {
            s.push_str(&format!("unknown: {u}\n"));
        }
        if s.is_empty() {
            s = format!(
                "pass: {} grants none of {}\n",
                args.target.display(),
                args.not_granted.join(", ")
            );
        }
        let _ = out(&s);
        return code;
    }
    let (auth, mut timings) = match authorizer(&args.target) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let an = Analyzer::new(&auth, ctx);
    if !args.not_granted.is_empty() {
        let graph = timings.graph(&an);
        let resources: Vec<String> = args.resource.iter().cloned().collect();
        let found = checks::not_granted_store(&an, &graph, &args.not_granted, &resources);
        let code = if found.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(FINDING)
        };
        if args.format == Format::Json {
            return if print_json(&found) {
                code
            } else {
                ExitCode::from(COULD_NOT)
            };
        }
        let mut s = String::new();
        for g in &found {
            s.push_str(&format!(
                "granted: {} can {} on {}\n",
                g.who, g.action, g.resource
            ));
        }
        if s.is_empty() {
            s = format!("pass: nobody can {}\n", args.not_granted.join(", "));
        }
        let _ = out(&s);
        return code;
    }
    let mut found = checks::external(&an);
    if args.public {
        found.retain(|e| e.public);
    }
    let code = if found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FINDING)
    };
    if args.format == Format::Json {
        return if print_json(&found) {
            code
        } else {
            ExitCode::from(COULD_NOT)
        };
    }
    let mut s = String::new();
    for e in &found {
        s.push_str(&format!(
            "{}: {} {} ({})\n    actions: {}\n    let in by {}\n",
            e.resource,
            if e.public { "public to" } else { "open to" },
            e.who,
            e.requires,
            e.actions.join(", "),
            e.statements.join("; ")
        ));
    }
    if s.is_empty() {
        s = format!(
            "pass: no resource is open to {}\n",
            if args.public {
                "anyone"
            } else {
                "other accounts"
            }
        );
    }
    let _ = out(&s);
    code
}

/// Whether `path` is a store file (JSON with a top-level `version` and no `Statement`).
fn is_store_file(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("version").is_some() && v.get("Statement").is_none())
}
