//! `iamc authorize`: decide requests, ad hoc (like `aws iam simulate-custom-policy`) or in
//! batch from a store and a JSON Lines request file.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{json, Value};

use super::load::{self, LoadError};
use crate::ast::{Inputs, PolicyDoc, PolicyType, ResourceSide};
use crate::compile::Scratch;
use crate::eval::explain::{explain, StatementTrace};
use crate::eval::flow::wildcard_only_reason;
use crate::eval::{reference, Decision, Outcome};
use crate::request::{Caller, Context, Request, RequestJson};
use crate::semantics::Semantics;
use crate::store::Store;
use crate::Authorizer;
use rayon::prelude::*;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// JSON (one object; JSON Lines in batch mode).
    Json,
    /// Batch mode only: JSON Lines of the request's id (when it has one) and the decision,
    /// `{"id":"r1","decision":"Allow"}`, decided with the outcome-only fast path (no
    /// determining statements, missing keys or reasons), for pipelines that want throughput.
    Outcomes,
}

/// Decide whether a request is allowed.
///
/// Ad hoc: give the caller, action and resource, and the policies as files:
///
///   iamc authorize --principal arn:aws:iam::111122223333:user/alice \
///     --action kinesis:GetRecords \
///     --resource arn:aws:kinesis:us-east-1:111122223333:stream/stream1 \
///     --identity-policy examples/kinesis/policies/identity-1-read-stream1.json --explain
///
/// Batch: a store (who has which policies) and a JSON Lines file of requests, one decision per
/// line in the same order:
///
///   iamc authorize --store examples/kinesis/store.json --requests examples/kinesis/requests.jsonl
///
/// Every request gets aws:CurrentTime and aws:EpochTime from the clock, as AWS sets them,
/// unless it gives them itself (--context aws:CurrentTime=2019-06-01T00:00:00Z, or in its line's
/// context): then its own values are used (one given key sets the other to the same time).
///
/// Exit codes, ad hoc: 0 Allow, 2 denied (explicit or implicit),
/// 1 error (a bad argument included): unlike the other verbs, whose usage errors exit 2,
/// authorize keeps 2 for "denied", so that a typo is never read as a denial.
/// Batch: 0 when every line was decided, 1 when some line was malformed (its error is written
/// in its place), the store could not be loaded, or an argument is wrong.
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Decide whether requests are allowed, one at a time or in batch."
)]
pub struct Args {
    /// The caller: a principal ARN (user, role, root, assumed-role session, federated user),
    /// a service principal such as kinesis.amazonaws.com, or `anonymous`.
    #[arg(long, value_name = "ARN", required_unless_present = "requests")]
    principal: Option<String>,
    /// The action, `service:Action` (any case).
    #[arg(long, required_unless_present = "requests")]
    action: Option<String>,
    /// The resource ARN, or `*` for actions that take no resource.
    #[arg(long, value_name = "ARN|*", required_unless_present = "requests")]
    resource: Option<String>,
    /// A further resource of a multi-resource action (e.g. the KMS key of
    /// kinesis:StartStreamEncryption). Repeatable.
    #[arg(long, value_name = "ARN")]
    extra_resource: Vec<String>,
    /// An identity-based policy of the caller (for a role session: of its role). Repeatable.
    #[arg(long, value_name = "FILE")]
    identity_policy: Vec<PathBuf>,
    /// The resource-based policy of the resource (stream or consumer policy).
    #[arg(long, value_name = "FILE")]
    resource_policy: Option<PathBuf>,
    /// The caller's permissions boundary.
    #[arg(long, value_name = "FILE")]
    permissions_boundary: Option<PathBuf>,
    /// The session policy of a session caller.
    #[arg(long, value_name = "FILE")]
    session_policy: Option<PathBuf>,
    /// One SCP level of the caller's account, root first; the file holds one policy or a JSON
    /// array of them. Repeatable: one flag per level.
    #[arg(long, value_name = "FILE")]
    scp: Vec<PathBuf>,
    /// One RCP level of the resource's account, root first; one policy or an array. Repeatable.
    #[arg(long, value_name = "FILE")]
    rcp: Vec<PathBuf>,
    /// A condition key: KEY=VALUE for a string (numbers, booleans, dates and IPs are read by
    /// the operator), KEY=[...] for a JSON array (a multi-valued key). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// A JSON object of condition keys: key -> string, number, boolean, or array.
    #[arg(long, value_name = "FILE")]
    context_file: Option<PathBuf>,
    /// A policy store (a store JSON file, or a folder with store.json): the caller's and the
    /// resource's policies come from it. Files given with the flags above are added.
    #[arg(long, value_name = "STORE")]
    store: Option<PathBuf>,
    /// Batch mode: JSON Lines of {"id","principal","action","resource","context"}; `-` reads
    /// standard input. Needs --store.
    #[arg(long, value_name = "FILE|-", requires = "store")]
    requests: Option<String>,
    /// Show, for every statement of the policies that apply, whether its action, resource,
    /// principal and each condition matched.
    #[arg(long)]
    explain: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(LoadError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run_inner(args: Args) -> Result<ExitCode, LoadError> {
    let store = match &args.store {
        Some(path) => Some(load_store(path)?),
        None => None,
    };
    if let Some(requests) = &args.requests {
        let Some(store) = store else {
            return Err(LoadError("--requests needs --store".into()));
        };
        let given = !args.identity_policy.is_empty()
            || args.resource_policy.is_some()
            || args.permissions_boundary.is_some()
            || args.session_policy.is_some()
            || !args.scp.is_empty()
            || !args.rcp.is_empty()
            || !args.context.is_empty()
            || args.context_file.is_some();
        if given {
            return Err(LoadError(
                "in batch mode (--requests) the policies come from --store only, and each \
                 request line carries its own context; drop the policy and context flags"
                    .into(),
            ));
        }
        return batch(store, requests, &args);
    }
    let extra = extra_inputs(&args)?;
    let mut request = adhoc_request(&args)?;
    request.add_time_keys(SystemTime::now());
    let (request, inputs) = prepare(store.as_ref(), &extra, request);
    let sem = Semantics::default();
    let decision = reference::evaluate(&inputs, &request, &sem);
    let trace = args.explain.then(|| explain(&inputs, &request, &sem));
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            let mut v = decision_json(&decision, &request, &sem);
            if let Some(t) = &trace {
                v["explain"] = serde_json::to_value(t).unwrap_or(Value::Null);
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            )
        }
        Format::Text => write!(
            out,
            "{}",
            render_text(&decision, &request, &sem, trace.as_deref())
        ),
        Format::Outcomes => writeln!(out, "{}", json!({"decision": decision.decision})),
    };
    if let Err(e) = written {
        return Err(LoadError(format!("cannot write the output: {e}")));
    }
    Ok(ExitCode::from(if decision.is_allowed() { 0 } else { 2 }))
}

fn load_store(path: &Path) -> Result<Store, LoadError> {
    Store::load(path).map_err(|diags| {
        LoadError(
            diags
                .iter()
                .map(|d| format!("{}: {d}", path.display()))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// Policies given as files on the command line.
struct Extra {
    identity: Vec<Arc<PolicyDoc>>,
    resource: Option<Arc<PolicyDoc>>,
    boundary: Option<Arc<PolicyDoc>>,
    session: Option<Arc<PolicyDoc>>,
    scps: Vec<Vec<Arc<PolicyDoc>>>,
    rcps: Vec<Vec<Arc<PolicyDoc>>>,
}

fn extra_inputs(args: &Args) -> Result<Extra, LoadError> {
    let identity = args
        .identity_policy
        .iter()
        .map(|p| load::policy(p, PolicyType::Identity))
        .collect::<Result<_, _>>()?;
    let resource_type = match args.resource.as_deref() {
        Some(r)
            if crate::catalog::ResourceType::of_arn(r).is_some_and(|t| {
                matches!(
                    t,
                    crate::catalog::ResourceType::Stream | crate::catalog::ResourceType::Consumer
                )
            }) =>
        {
            PolicyType::KinesisResource
        }
        _ => PolicyType::Resource,
    };
    let opt = |p: &Option<PathBuf>, ty| p.as_ref().map(|p| load::policy(p, ty)).transpose();
    Ok(Extra {
        identity,
        resource: opt(&args.resource_policy, resource_type)?,
        boundary: opt(&args.permissions_boundary, PolicyType::Boundary)?,
        session: opt(&args.session_policy, PolicyType::Session)?,
        scps: args
            .scp
            .iter()
            .map(|p| load::policies(p, PolicyType::Scp, true))
            .collect::<Result<_, _>>()?,
        rcps: args
            .rcp
            .iter()
            .map(|p| load::policies(p, PolicyType::Rcp, true))
            .collect::<Result<_, _>>()?,
    })
}

fn adhoc_request(args: &Args) -> Result<Request, LoadError> {
    let (Some(principal), Some(action), Some(resource)) =
        (&args.principal, &args.action, &args.resource)
    else {
        return Err(LoadError(
            "--principal, --action and --resource are required (or --store with --requests)".into(),
        ));
    };
    let caller = Caller::parse(principal).map_err(|e| LoadError(format!("--principal: {e}")))?;
    let mut req = Request::new(caller, action.clone(), resource.clone());
    req.extra_resources = args.extra_resource.clone();
    let mut ctx = match &args.context_file {
        Some(path) => {
            let text = load::read_text(path, 16 * 1024 * 1024)?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| LoadError(format!("{}: {e}", path.display())))?;
            Context::from_json(&v).map_err(|e| LoadError(format!("{}: {e}", path.display())))?
        }
        None => Context::new(),
    };
    load::context_pairs(&args.context, &mut ctx)?;
    req.context = ctx;
    Ok(req)
}

/// Derives the request's keys and gathers its policies from the store and the flags.
fn prepare(store: Option<&Store>, extra: &Extra, mut req: Request) -> (Request, Inputs) {
    let mut inputs = match store {
        Some(s) => {
            s.prepare(&mut req);
            s.inputs_for(&req)
        }
        None => {
            req.derive_keys();
            Inputs::default()
        }
    };
    inputs.identity.extend(extra.identity.iter().cloned());
    if extra.boundary.is_some() {
        inputs.boundary.clone_from(&extra.boundary);
    }
    if extra.session.is_some() {
        inputs.session.clone_from(&extra.session);
    }
    inputs.scps.extend(extra.scps.iter().cloned());
    if extra.resource.is_some() || !extra.rcps.is_empty() {
        let arns: Vec<String> = req.resources().map(str::to_string).collect();
        for (i, arn) in arns.iter().enumerate() {
            let idx = match inputs.resources.iter().position(|s| &s.arn == arn) {
                Some(idx) => idx,
                None => {
                    inputs.resources.push(ResourceSide {
                        arn: arn.clone(),
                        ..ResourceSide::default()
                    });
                    inputs.resources.len() - 1
                }
            };
            if let Some(side) = inputs.resources.get_mut(idx) {
                // --resource-policy belongs to the primary resource; RCPs to every resource.
                if i == 0 && extra.resource.is_some() {
                    side.policy.clone_from(&extra.resource);
                }
                side.rcps.extend(extra.rcps.iter().cloned());
            }
        }
    }
    (req, inputs)
}

/// Why the request was denied (implicitly): the layer's sentence, and for a wildcard-only
/// action that it needs `"Resource": "*"`.
fn reason(d: &Decision, req: &Request, sem: &Semantics) -> Option<String> {
    let l = d.blocked_by?;
    Some(match wildcard_only_reason(&req.action, d, sem) {
        Some(w) => format!("{}; {w}", l.reason()),
        None => l.reason().to_string(),
    })
}

fn decision_json(d: &Decision, req: &Request, sem: &Semantics) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("principal".into(), json!(req.caller.to_string()));
        m.insert("action".into(), json!(req.action));
        m.insert("resource".into(), json!(req.resource));
        if let Some(r) = reason(d, req, sem) {
            m.insert("reason".into(), json!(r));
        }
    }
    v
}

fn render_text(
    d: &Decision,
    req: &Request,
    sem: &Semantics,
    trace: Option<&[StatementTrace]>,
) -> String {
    let mut s = format!(
        "{}: {} {} on {}\n",
        d.decision, req.caller, req.action, req.resource
    );
    for r in &req.extra_resources {
        s.push_str(&format!("  and on {r}\n"));
    }
    if let (Some(l), Some(r)) = (d.blocked_by, reason(d, req, sem)) {
        s.push_str(&format!("  blocked by {}: {r}\n", l.as_str()));
    }
    let label = match d.decision {
        Outcome::Allow => "allowed by",
        Outcome::ExplicitDeny => "denied by",
        Outcome::ImplicitDeny => "",
    };
    for st in &d.determining {
        s.push_str(&format!("  {label} {st}\n"));
    }
    if !d.missing_keys.is_empty() {
        s.push_str(&format!(
            "  context keys the policies use but the request lacks: {}\n",
            d.missing_keys.join(", ")
        ));
    }
    for e in &d.errors {
        s.push_str(&format!("  evaluation error (failed closed): {e}\n"));
    }
    for n in &d.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    if let Some(trace) = trace {
        s.push_str("  explanation:\n");
        for t in trace {
            let mark = if t.matched { "MATCH" } else { "no   " };
            s.push_str(&format!(
                "    {mark} {} `{}` #{}{} {}: action {}, resource {}",
                t.policy_type,
                t.policy_id,
                t.statement,
                t.sid
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                t.effect,
                yes_no(t.action_matched),
                yes_no(t.resource_matched),
            ));
            if let Some(p) = t.principal_matched {
                s.push_str(&format!(", principal {}", yes_no(p)));
            }
            s.push('\n');
            for c in &t.conditions {
                let got = c
                    .request_value
                    .as_ref()
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "absent".into());
                s.push_str(&format!(
                    "          {} {} {:?}: {} (request: {got})\n",
                    c.operator, c.key, c.values, c.result
                ));
            }
        }
    }
    s
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "matched"
    } else {
        "did not match"
    }
}

/// The longest request line read; a longer one is an error for that line.
const MAX_LINE: usize = 1024 * 1024;

/// Lines decided together: read, decided on all cores, written in order. Bounds memory to a
/// chunk at a time however long the input is.
const CHUNK_LINES: usize = 8192;
/// A chunk also ends when its lines add up to this many bytes.
const CHUNK_BYTES: usize = 16 * 1024 * 1024;

fn batch(store: Store, requests: &str, args: &Args) -> Result<ExitCode, LoadError> {
    let reader: Box<dyn BufRead> = if requests == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(requests)
            .map_err(|e| LoadError(format!("{requests}: cannot read: {e}")))?;
        Box::new(std::io::BufReader::new(f))
    };
    let authorizer = Authorizer::new(Arc::new(store), Semantics::default())
        .map_err(|e| LoadError(format!("the engine was not built: {e}")))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let progress = std::io::stderr().is_terminal();
    let (mut bad, mut n) = (0usize, 0usize);
    let mut lines = BoundedLines::new(reader);
    let mut done = false;
    while !done {
        // Read one chunk of lines (each a request, or an error in its place); then parse,
        // complete, decide and render them on all cores, and write them in order.
        let mut chunk: Vec<(usize, Result<String, String>)> = Vec::new();
        let mut bytes = 0usize;
        while chunk.len() < CHUNK_LINES && bytes < CHUNK_BYTES {
            let Some(line) = lines.next_line() else {
                done = true;
                break;
            };
            n += 1;
            match line {
                Ok(text) if text.trim().is_empty() => {}
                Ok(text) => {
                    bytes += text.len();
                    chunk.push((n, Ok(text)));
                }
                Err(e) => chunk.push((n, Err(e))),
            }
        }
        let rendered: Vec<(bool, String)> = chunk
            .par_iter()
            .map_init(Scratch::default, |scratch, (line_no, line)| {
                let line_no = *line_no;
                match line
                    .as_deref()
                    .map_err(String::clone)
                    .and_then(read_request)
                {
                    Ok((id, req)) => (true, decide_line(&authorizer, scratch, id, req, args)),
                    Err(e) => {
                        let v = json!({"line": line_no, "error": e});
                        let text = match args.format {
                            Format::Text => text_line(&v),
                            Format::Json | Format::Outcomes => v.to_string(),
                        };
                        (false, text)
                    }
                }
            })
            .collect();
        for (ok, text) in rendered {
            if !ok {
                bad += 1;
            }
            if let Err(e) = writeln!(out, "{text}") {
                return Err(LoadError(format!("cannot write the output: {e}")));
            }
        }
        if progress && n >= CHUNK_LINES {
            eprint!("\r{n} requests decided");
        }
    }
    if progress && n >= CHUNK_LINES {
        eprintln!("\r{n} requests decided");
    }
    out.flush()
        .map_err(|e| LoadError(format!("cannot write the output: {e}")))?;
    // The process ends with this command: freeing the store and engine piece by piece (about
    // a tenth of a run on an organization's store, measured with `perf record`) is work the
    // operating system does at once when the process exits.
    std::mem::forget(authorizer);
    if bad > 0 {
        eprintln!("{bad} of {n} lines could not be read; their errors are in the output");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of requests: its id and the request, with the time keys of now.
fn read_request(text: &str) -> Result<(Option<Value>, Request), String> {
    let r = serde_json::from_str::<RequestJson>(text).map_err(|e| format!("not a request: {e}"))?;
    let mut req = r.to_request().map_err(|e| e.to_string())?;
    req.add_time_keys(SystemTime::now());
    Ok((r.id, req))
}

/// Completes, decides and renders one request in the output format.
fn decide_line(
    authorizer: &Authorizer,
    scratch: &mut Scratch,
    id: Option<Value>,
    req: Request,
    args: &Args,
) -> String {
    let req = authorizer.prepare(req);
    if args.format == Format::Outcomes {
        let outcome = authorizer.decide_prepared(scratch, &req);
        return match id {
            Some(id) => json!({"id": id, "decision": outcome}).to_string(),
            None => json!({"decision": outcome}).to_string(),
        };
    }
    let sem = authorizer.semantics();
    let d = authorizer.authorize_prepared(scratch, &req);
    let mut v = decision_json(&d, &req, sem);
    if let (Some(id), Value::Object(m)) = (id, &mut v) {
        m.insert("id".into(), id);
    }
    if args.explain {
        let inputs = authorizer.store().inputs_for(&req);
        v["explain"] = serde_json::to_value(explain(&inputs, &req, sem)).unwrap_or(Value::Null);
    }
    match args.format {
        Format::Text => text_line(&v),
        Format::Json | Format::Outcomes => v.to_string(),
    }
}

fn text_line(v: &Value) -> String {
    if let Some(e) = v.get("error") {
        return format!(
            "line {}: error: {}",
            v["line"],
            e.as_str().unwrap_or_default()
        );
    }
    let id = v
        .get("id")
        .map(|i| match i {
            Value::String(s) => format!("[{s}] "),
            other => format!("[{other}] "),
        })
        .unwrap_or_default();
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut line = format!(
        "{id}{:<12} {} {} on {}",
        s("decision"),
        s("principal"),
        s("action"),
        s("resource")
    );
    if let Some(r) = v.get("reason").and_then(Value::as_str) {
        line.push_str(&format!(" — {r}"));
    }
    if let Some(Value::Array(d)) = v.get("determining") {
        let names: Vec<String> = d
            .iter()
            .map(|st| {
                let sid = st.get("sid").and_then(Value::as_str);
                format!(
                    "{}#{}{}",
                    st["policy_id"].as_str().unwrap_or_default(),
                    st["statement"],
                    sid.map(|s| format!("({s})")).unwrap_or_default()
                )
            })
            .collect();
        if !names.is_empty() {
            line.push_str(&format!(" — by {}", names.join(", ")));
        }
    }
    line
}

/// Reads lines with a length bound, so one huge line cannot exhaust memory.
struct BoundedLines<R> {
    inner: R,
}

impl<R: BufRead> BoundedLines<R> {
    fn new(inner: R) -> Self {
        BoundedLines { inner }
    }

    /// The next line: `None` at the end, `Some(Err)` for an unreadable or overlong line.
    fn next_line(&mut self) -> Option<Result<String, String>> {
        let mut buf = Vec::new();
        let mut too_long = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) => return Some(Err(format!("cannot read: {e}"))),
            };
            if chunk.is_empty() {
                if buf.is_empty() && !too_long {
                    return None;
                }
                break;
            }
            let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                let room = MAX_LINE.saturating_sub(buf.len());
                buf.extend_from_slice(chunk.get(..take.min(room)).unwrap_or_default());
                if take > room {
                    too_long = true;
                    buf.clear();
                }
            }
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if too_long {
            return Some(Err(format!("the line is longer than {MAX_LINE} bytes")));
        }
        Some(String::from_utf8(buf).map_err(|_| "the line is not UTF-8".to_string()))
    }
}
