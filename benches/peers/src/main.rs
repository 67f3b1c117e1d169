//! iamc beside its peers (`shared/benchmark.md`, "Peers"): Cedar and regorus on the generated
//! workloads of tiers S1-S4.
//!
//! Each IAM statement becomes one Cedar policy (Allow -> `permit`, Deny -> `forbid`, the action
//! and resource matched as context strings with `like`) and one Rego rule body (`glob.match` with
//! no delimiters; deny-overrides computed in Rego). Every engine's allowed yes/no must equal the
//! reference evaluator's on every request it runs, or the run is void and exits non-zero.
//!
//! `cargo run --release -p iamc-peers -- [--write] [--sizes 10,100,1000] [--tiers S1,S2]
//! [--mixes M1,M3]`

use std::fmt::Write as _;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use iamc::compile::Engine;
use iamc::eval::{reference, Outcome};
use iamc::request::{ContextValue, Request};
use iamc::semantics::Semantics;
use iamc::workload::{self, Mix, Tier};
use serde_json::Value;

const SEED: u64 = 42;
/// Engines slower than this per decision are timed on the first `SUBSET` requests only.
const SLOW: Duration = Duration::from_millis(1);
const SUBSET: usize = 500;
/// Rego statements per module, to stay under regorus's policy length limits.
const PER_MODULE: usize = 500;

/// A condition the peers can express: the (operator, key) pairs of tier S3.
#[derive(Clone, Debug)]
enum Cond {
    TeamEquals(Vec<String>),
    AgentLike(Vec<String>),
    SecureTransport(bool),
    SourceIp(Vec<String>),
    TimeBefore(Vec<String>),
}

/// One IAM statement, as the peers see it.
#[derive(Clone, Debug)]
struct Stmt {
    allow: bool,
    not_action: bool,
    actions: Vec<String>,
    not_resource: bool,
    resources: Vec<String>,
    conds: Vec<Cond>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads a statement, or says why a peer cannot express it.
fn read_stmt(s: &Value) -> Result<Stmt, String> {
    let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
    let (not_action, actions) = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), None) => (false, strings(a)),
        (None, Some(a)) => (true, strings(a)),
        _ => return Err("no Action or NotAction".into()),
    };
    let (not_resource, resources) = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), None) => (false, strings(r)),
        (None, Some(r)) => (true, strings(r)),
        _ => return Err("no Resource or NotResource".into()),
    };
    if s.get("Principal").is_some() || s.get("NotPrincipal").is_some() {
        return Err("a principal".into());
    }
    for p in actions.iter().chain(&resources) {
        // `?` has no Cedar counterpart; `${...}` variables (and `${*}`, a literal `*`) neither.
        if p.contains('?') || p.contains("${") {
            return Err(format!("pattern {p:?}"));
        }
        if p.contains(['"', '\\', '[', ']', '{', '}']) {
            return Err(format!(
                "pattern {p:?} has a character the peers treat specially"
            ));
        }
    }
    let mut conds = Vec::new();
    if let Some(c) = s.get("Condition").and_then(Value::as_object) {
        for (op, kv) in c {
            let Some(kv) = kv.as_object() else {
                return Err(format!("condition {op}"));
            };
            for (key, v) in kv {
                let vals = strings(v);
                conds.push(match (op.as_str(), key.as_str()) {
                    ("StringEquals", "aws:PrincipalTag/team") => Cond::TeamEquals(vals),
                    ("StringLike", "aws:UserAgent") => Cond::AgentLike(vals),
                    ("Bool", "aws:SecureTransport") if vals.len() == 1 => {
                        Cond::SecureTransport(vals[0] == "true")
                    }
                    ("IpAddress", "aws:SourceIp") => Cond::SourceIp(vals),
                    ("DateLessThan", "aws:CurrentTime") => Cond::TimeBefore(vals),
                    _ => return Err(format!("condition {op} on {key}")),
                });
            }
        }
    }
    Ok(Stmt {
        allow,
        not_action,
        actions,
        not_resource,
        resources,
        conds,
    })
}

/// The request's fields the peers look at.
struct Fields {
    action: String,
    resource: String,
    team: String,
    agent: String,
    secure: bool,
    ip: String,
    time: String,
}

fn fields(r: &Request) -> Fields {
    let text = |k: &str| match r.context.get(k) {
        Some(ContextValue::One(s)) => s.text().to_string(),
        _ => String::new(),
    };
    Fields {
        action: r.action.to_ascii_lowercase(),
        resource: r.resource.clone(),
        team: text("aws:PrincipalTag/team"),
        agent: text("aws:UserAgent"),
        secure: text("aws:SecureTransport") == "true",
        ip: text("aws:SourceIp"),
        time: text("aws:CurrentTime"),
    }
}

// ---------------------------------------------------------------------------------------------
// Cedar

fn cedar_any(var: &str, pats: &[String], lower: bool) -> String {
    let alts: Vec<String> = pats
        .iter()
        .map(|p| {
            let p = if lower {
                p.to_ascii_lowercase()
            } else {
                p.clone()
            };
            format!("context.{var} like \"{p}\"")
        })
        .collect();
    format!("({})", alts.join(" || "))
}

fn cedar_policy(s: &Stmt) -> String {
    let mut parts = Vec::new();
    let a = cedar_any("action", &s.actions, true);
    parts.push(if s.not_action { format!("!{a}") } else { a });
    let r = cedar_any("resource", &s.resources, false);
    parts.push(if s.not_resource { format!("!{r}") } else { r });
    for c in &s.conds {
        let alts: Vec<String> = match c {
            Cond::TeamEquals(v) => v
                .iter()
                .map(|t| format!("context.team == \"{t}\""))
                .collect(),
            Cond::AgentLike(v) => v
                .iter()
                .map(|t| format!("context.agent like \"{t}\""))
                .collect(),
            Cond::SecureTransport(b) => vec![format!("context.secure == {b}")],
            Cond::SourceIp(v) => v
                .iter()
                .map(|t| format!("context.ip.isInRange(ip(\"{t}\"))"))
                .collect(),
            Cond::TimeBefore(v) => v
                .iter()
                .map(|t| format!("context.time < datetime(\"{t}\")"))
                .collect(),
        };
        parts.push(format!("({})", alts.join(" || ")));
    }
    format!(
        "{}(principal, action, resource) when {{ {} }};\n",
        if s.allow { "permit" } else { "forbid" },
        parts.join(" && ")
    )
}

struct Cedar {
    set: cedar_policy::PolicySet,
    auth: cedar_policy::Authorizer,
    entities: cedar_policy::Entities,
}

impl Cedar {
    fn new(stmts: &[Stmt]) -> Result<Cedar, String> {
        let text: String = stmts.iter().map(cedar_policy).collect();
        let set = cedar_policy::PolicySet::from_str(&text).map_err(|e| format!("{e:?}"))?;
        Ok(Cedar {
            set,
            auth: cedar_policy::Authorizer::new(),
            entities: cedar_policy::Entities::empty(),
        })
    }

    fn request(f: &Fields) -> Result<cedar_policy::Request, String> {
        use cedar_policy::{Context, EntityUid, RestrictedExpression as R};
        let uid = |s: &str| EntityUid::from_str(s).map_err(|e| e.to_string());
        let ext = |s: String| R::from_str(&s).map_err(|e| e.to_string());
        let context = Context::from_pairs([
            ("action".to_string(), R::new_string(f.action.clone())),
            ("resource".to_string(), R::new_string(f.resource.clone())),
            ("team".to_string(), R::new_string(f.team.clone())),
            ("agent".to_string(), R::new_string(f.agent.clone())),
            ("secure".to_string(), R::new_bool(f.secure)),
            ("ip".to_string(), ext(format!("ip(\"{}\")", f.ip))?),
            (
                "time".to_string(),
                ext(format!("datetime(\"{}\")", f.time))?,
            ),
        ])
        .map_err(|e| e.to_string())?;
        cedar_policy::Request::new(
            uid("User::\"caller\"")?,
            uid("Action::\"call\"")?,
            uid("Resource::\"target\"")?,
            context,
            None,
        )
        .map_err(|e| e.to_string())
    }

    fn allowed(&self, r: &cedar_policy::Request) -> bool {
        self.auth
            .is_authorized(r, &self.set, &self.entities)
            .decision()
            == cedar_policy::Decision::Allow
    }
}

// ---------------------------------------------------------------------------------------------
// regorus

fn rego_quote(s: &str) -> String {
    // The patterns have no `"` or `\` (read_stmt refuses them).
    format!("\"{s}\"")
}

fn rego_any(field: &str, pats: &[String], lower: bool) -> String {
    let pats: Vec<String> = pats
        .iter()
        .map(|p| {
            rego_quote(&if lower {
                p.to_ascii_lowercase()
            } else {
                p.clone()
            })
        })
        .collect();
    if pats.len() == 1 {
        format!("glob.match({}, null, input.{field})", pats[0])
    } else {
        format!("any_glob([{}], input.{field})", pats.join(", "))
    }
}

fn rego_rule(s: &Stmt) -> String {
    let mut body = Vec::new();
    let a = rego_any("action", &s.actions, true);
    body.push(if s.not_action { format!("not {a}") } else { a });
    let r = rego_any("resource", &s.resources, false);
    body.push(if s.not_resource {
        format!("not {r}")
    } else {
        r
    });
    for c in &s.conds {
        let quoted = |v: &[String]| {
            v.iter()
                .map(|t| rego_quote(t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        body.push(match c {
            Cond::TeamEquals(v) => format!("input.team in [{}]", quoted(v)),
            Cond::AgentLike(v) => format!("any_glob([{}], input.agent)", quoted(v)),
            Cond::SecureTransport(b) => format!("input.secure == {b}"),
            Cond::SourceIp(v) => format!("any_cidr([{}], input.ip)", quoted(v)),
            // RFC 3339 times in UTC with the same layout compare as strings.
            Cond::TimeBefore(v) => format!("any_before([{}], input.time)", quoted(v)),
        });
    }
    format!(
        "{} if {{\n\t{}\n}}\n\n",
        if s.allow { "any_allow" } else { "any_deny" },
        body.join("\n\t")
    )
}

const REGO_HEAD: &str = r#"package iam

import rego.v1

default allow := false

default any_allow := false

default any_deny := false

allow if {
	any_allow
	not any_deny
}

any_glob(ps, v) if {
	some p in ps
	glob.match(p, null, v)
}

any_cidr(cs, v) if {
	some c in cs
	net.cidr_contains(c, v)
}

any_before(ts, v) if {
	some t in ts
	time.parse_rfc3339_ns(v) < time.parse_rfc3339_ns(t)
}

"#;

struct Rego {
    engine: regorus::Engine,
}

impl Rego {
    fn new(stmts: &[Stmt]) -> Result<Rego, String> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("head.rego".into(), REGO_HEAD.into())
            .map_err(|e| e.to_string())?;
        // Rules of one package may span modules; an empty set still defines the rule names.
        let mut chunks: Vec<&[Stmt]> = stmts.chunks(PER_MODULE).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for (k, chunk) in chunks.iter().enumerate() {
            let mut text = String::from("package iam\n\nimport rego.v1\n\n");
            for s in *chunk {
                text.push_str(&rego_rule(s));
            }
            engine
                .add_policy(format!("statements-{k}.rego"), text)
                .map_err(|e| e.to_string())?;
        }
        Ok(Rego { engine })
    }

    fn input(f: &Fields) -> Result<regorus::Value, String> {
        let v = serde_json::json!({
            "action": f.action, "resource": f.resource, "team": f.team, "agent": f.agent,
            "secure": f.secure, "ip": f.ip, "time": f.time,
        });
        regorus::Value::from_json_str(&v.to_string()).map_err(|e| e.to_string())
    }

    fn allowed(&mut self, input: &regorus::Value) -> Result<bool, String> {
        self.engine.set_input(input.clone());
        let v = self
            .engine
            .eval_rule("data.iam.allow".into())
            .map_err(|e| e.to_string())?;
        Ok(v == regorus::Value::from(true))
    }
}

// ---------------------------------------------------------------------------------------------
// Timing and the gate

#[derive(Clone, Debug)]
struct Row {
    tier: Tier,
    size: usize,
    mix: Mix,
    engine: &'static str,
    build: Duration,
    requests: usize,
    mean: Duration,
    p50: Duration,
    allowed: usize,
}

/// Times `decide` on each request (single thread, one call at a time).
fn time_each(
    n: usize,
    mut decide: impl FnMut(usize) -> Result<bool, String>,
) -> Result<(Vec<bool>, Vec<Duration>), String> {
    let mut out = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let d = decide(i)?;
        times.push(t.elapsed());
        out.push(d);
    }
    Ok((out, times))
}

/// Runs `decide` on every request, or on the first `SUBSET` when the first 50 take over 1 ms
/// each on average; returns the decisions and per-decision times.
fn run_engine(
    total: usize,
    mut decide: impl FnMut(usize) -> Result<bool, String>,
) -> Result<(Vec<bool>, Vec<Duration>), String> {
    let probe = total.min(50);
    let (mut out, mut times) = time_each(probe, &mut decide)?;
    let mean = times.iter().sum::<Duration>() / probe.max(1) as u32;
    let n = if mean > SLOW {
        total.min(SUBSET)
    } else {
        total
    };
    let (more, more_t) = time_each(n - probe, |i| decide(i + probe))?;
    out.extend(more);
    times.extend(more_t);
    Ok((out, times))
}

fn stats(times: &mut [Duration]) -> (Duration, Duration) {
    if times.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    times.sort_unstable();
    (mean, times[times.len() / 2])
}

fn gate(
    engine: &str,
    what: &str,
    expect: &[bool],
    got: &[bool],
    reqs: &[Request],
) -> Result<(), String> {
    for (i, (e, g)) in expect.iter().zip(got).enumerate() {
        if e != g {
            let r = &reqs[i];
            return Err(format!(
                "{what}: {engine} says allowed={g}, the reference says allowed={e}, on request \
                 {i}: {} {} {:?}",
                r.action,
                r.resource,
                r.context.to_json()
            ));
        }
    }
    Ok(())
}

fn run_one(tier: Tier, size: usize, mix: Mix, rows: &mut Vec<Row>) -> Result<Vec<String>, String> {
    let what = format!("{tier} x {size} x {mix}");
    let w = workload::workload(tier, size, mix, SEED);
    let reqs = &w.requests;
    let n = reqs.len();
    let sem = Semantics::default();
    let mut notes = Vec::new();

    // The reference: the decisions every engine must give.
    let (expect, mut t) = run_engine(n, |i| {
        Ok(reference::evaluate(&w.inputs, &reqs[i], &sem).decision == Outcome::Allow)
    })?;
    let (mean, p50) = stats(&mut t);
    let allowed = |d: &[bool]| d.iter().filter(|b| **b).count();
    rows.push(Row {
        tier,
        size,
        mix,
        engine: "iamc reference",
        build: Duration::ZERO,
        requests: t.len(),
        mean,
        p50,
        allowed: allowed(&expect),
    });

    let t0 = Instant::now();
    let engine = Engine::from_inputs(&w.inputs, sem.clone());
    let build = t0.elapsed();
    let (got, mut t) = run_engine(n, |i| {
        Ok(engine.authorize(&reqs[i]).decision == Outcome::Allow)
    })?;
    gate("iamc compiled", &what, &expect, &got, reqs)?;
    let (mean, p50) = stats(&mut t);
    rows.push(Row {
        tier,
        size,
        mix,
        engine: "iamc compiled",
        build,
        requests: t.len(),
        mean,
        p50,
        allowed: allowed(&got),
    });

    // The peers' statements; any the peers cannot express are left out and named.
    let mut stmts = Vec::new();
    for s in &w.statements {
        match read_stmt(s) {
            Ok(st) => stmts.push(st),
            Err(why) => notes.push(format!("{what}: left out a statement: {why}")),
        }
    }
    let fields: Vec<Fields> = reqs.iter().map(fields).collect();

    let t0 = Instant::now();
    let cedar = Cedar::new(&stmts)?;
    let build = t0.elapsed();
    let creqs = fields
        .iter()
        .map(Cedar::request)
        .collect::<Result<Vec<_>, _>>()?;
    let (got, mut t) = run_engine(n, |i| Ok(cedar.allowed(&creqs[i])))?;
    gate("Cedar", &what, &expect, &got, reqs)?;
    let (mean, p50) = stats(&mut t);
    rows.push(Row {
        tier,
        size,
        mix,
        engine: "Cedar",
        build,
        requests: t.len(),
        mean,
        p50,
        allowed: allowed(&got),
    });
    drop(cedar);

    let t0 = Instant::now();
    let mut rego = Rego::new(&stmts)?;
    let build = t0.elapsed();
    let inputs = fields
        .iter()
        .map(Rego::input)
        .collect::<Result<Vec<_>, _>>()?;
    let (got, mut t) = run_engine(n, |i| rego.allowed(&inputs[i]))?;
    gate("regorus", &what, &expect, &got, reqs)?;
    let (mean, p50) = stats(&mut t);
    rows.push(Row {
        tier,
        size,
        mix,
        engine: "regorus",
        build,
        requests: t.len(),
        mean,
        p50,
        allowed: allowed(&got),
    });
    Ok(notes)
}

fn us(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 100.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.2} µs")
    }
}

fn ms(d: Duration) -> String {
    if d.is_zero() {
        "–".into()
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| tier | size | mix | engine | build | requests timed | allowed | mean | p50 | x reference (mean) |\n\
         | --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let mut base = Duration::ZERO;
    for r in rows {
        if r.engine == "iamc reference" {
            base = r.mean;
        }
        let ratio = r.mean.as_secs_f64() / base.as_secs_f64().max(1e-12);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            r.tier,
            r.size,
            r.mix,
            r.engine,
            ms(r.build),
            r.requests,
            r.allowed,
            us(r.mean),
            us(r.p50),
            ratio
        );
    }
    s
}

fn list<T>(arg: Option<&String>, parse: impl Fn(&str) -> Option<T>, dflt: Vec<T>) -> Vec<T> {
    arg.map_or(dflt, |a| {
        a.split(',').filter_map(|x| parse(x.trim())).collect()
    })
}

fn write_section(section: &str) -> Result<(), String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../BENCHMARKS.md");
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let marker = "<!-- notes: kept by report.py -->";
    if !text.contains(marker) {
        return Err(format!("{path} has no line {marker}"));
    }
    let heading = "## Peers: Cedar and regorus";
    // The section sits at the very end; a rerun replaces it.
    let kept = match text.find(&format!("\n{heading}\n")) {
        Some(i) if i > text.find(marker).unwrap_or(0) => &text[..i + 1],
        _ => &text[..],
    };
    let mut out = kept.trim_end().to_string();
    out.push_str("\n\n");
    out.push_str(section);
    std::fs::write(path, out).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let write = args.iter().any(|a| a == "--write");
    let tiers = list(
        value("--tiers"),
        Tier::parse,
        vec![Tier::S1, Tier::S2, Tier::S3, Tier::S4],
    );
    let sizes = list(
        value("--sizes"),
        |s| s.replace('_', "").parse().ok(),
        vec![10, 100, 1_000],
    );
    let mixes = list(value("--mixes"), Mix::parse, vec![Mix::M1, Mix::M3]);
    if let Some(c) = regorus_cache_note() {
        eprintln!("{c}");
    }

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for &tier in &tiers {
        if tier == Tier::S5 {
            eprintln!("S5 is not run: Cedar's like has no `?` and no policy variables");
            continue;
        }
        for &size in &sizes {
            for &mix in &mixes {
                eprintln!("running {tier} x {size} x {mix}");
                match run_one(tier, size, mix, &mut rows) {
                    Ok(n) => notes.extend(n),
                    Err(e) => {
                        println!("{}", table(&rows));
                        eprintln!("correctness gate failed, the run is void: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
        }
    }
    let mut section = String::from("## Peers: Cedar and regorus\n\n");
    let _ = writeln!(
        section,
        "`benches/peers/run.sh` (`cargo run --release -p iamc-peers -- --write{}`), {}. \
         Machine: {} cores, {}.\n",
        args.iter()
            .filter(|a| *a != "--write")
            .fold(String::new(), |acc, a| acc + " " + a),
        today(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    section.push_str(METHOD);
    section.push('\n');
    section.push_str(&table(&rows));
    if !notes.is_empty() {
        section.push_str("\nStatements left out of the peers:\n\n");
        for n in &notes {
            let _ = writeln!(section, "- {n}");
        }
    }
    println!("{section}");
    if write {
        if let Err(e) = write_section(&section) {
            eprintln!("could not write BENCHMARKS.md: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("appended the section to BENCHMARKS.md");
    }
    ExitCode::SUCCESS
}

const METHOD: &str = "\
Correctness gate: on every tier, size and mix, each engine's allowed yes/no equals the \
reference evaluator's on every request it ran (Cedar and Rego have no explicit/implicit deny \
distinction); the run passed. Times are per decision, single thread, requests already in each \
engine's native form (Cedar `Request`, regorus `Value` input); `build` is parse and compile \
(policy text to `PolicySet` for Cedar, `add_policy` for regorus, `Engine::from_inputs` for \
iamc), timed apart. An engine whose first 50 decisions average over 1 ms is timed (and gated) \
on the first 500 requests only (`requests timed`). Cedar: one policy per IAM statement \
(Allow `permit`, Deny `forbid`), the lower-cased action and the resource ARN as context strings \
matched with `like`, NotAction/NotResource as `!(... like ...)`, the S3 conditions as context \
tests (`==`, `like`, `isInRange(ip(..))`, `datetime` `<`). regorus: one rule body per \
statement with `glob.match(p, null, v)` (null: no delimiters; `[]` would mean `.` in regorus), \
deny-overrides in Rego (`allow if { any_allow; not any_deny }`), modules of 500 statements, \
glob cache raised to 65,536. No harness-side indexing (no \"expert\" rows).
";

fn regorus_cache_note() -> Option<String> {
    regorus::cache::configure(regorus::cache::Config {
        regex: 256,
        glob: regorus::cache::Config::MAX_CAPACITY,
    });
    None
}

fn today() -> String {
    std::process::Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "date unknown".into(), |s| s.trim().to_string())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "CPU unknown".into())
}
