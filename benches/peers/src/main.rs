//! iamc beside its peers (`shared/benchmark.md`, "Peers"): Cedar and regorus on the generated
//! workloads of tiers S1-S4, and iamc alone at 100,000 statements.
//!
//! Each IAM statement becomes one Cedar policy (Allow -> `permit`, Deny -> `forbid`, the action
//! and resource matched as context strings with `like`) and one Rego rule body (`glob.match` with
//! no delimiters; deny-overrides computed in Rego). Every engine's allowed yes/no must equal the
//! reference evaluator's on every request both ran, or the run is void and exits non-zero.
//!
//! Each engine runs on each workload in a child process of its own (this binary with
//! `--child ENGINE TIER SIZE MIX`), which reports its times, its resident-memory growth and its
//! decisions as one JSON line. With `--write`, the report replaces the part of `BENCHMARKS.md`
//! between `<!-- peers: begin -->` and `<!-- peers: end -->` and the plots
//! `benches/peers/peers-<mix>.svg` are written.
//!
//! `cargo run --release -p iamc-peers -- [--write] [--sizes 10,100,1000] [--tiers S1,S2]
//! [--mixes M1,M3] [--peer-max 10000]`

use std::fmt::Write as _;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use iamc::ast::{Inputs, PolicyDoc, PolicyType};
use iamc::compile::Engine;
use iamc::eval::{reference, Outcome};
use iamc::parse::{parse_policy, Limits};
use iamc::request::{ContextValue, Request};
use iamc::semantics::Semantics;
use iamc::workload::{self, Mix, Tier};
use serde_json::Value;

const SEED: u64 = 42;
/// Engines slower than this per decision (over the first `PROBE` requests) are timed on the
/// first `SUBSET` requests only.
const SLOW: Duration = Duration::from_millis(1);
const PROBE: usize = 50;
const SUBSET: usize = 500;
/// A slow reference still decides this many requests (untimed past `SUBSET`), for the gate.
const GATE_MIN: usize = 2_000;
/// Sizes above this are run for iamc alone.
const PEER_MAX: usize = 10_000;
/// Statements per policy document, as `workload::policies` groups them.
const PER_POLICY: usize = 100;
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
    /// The policy text: one policy per statement.
    fn text(stmts: &[Stmt]) -> String {
        stmts.iter().map(cedar_policy).collect()
    }

    fn new(text: &str) -> Result<Cedar, String> {
        let set = cedar_policy::PolicySet::from_str(text).map_err(|e| format!("{e:?}"))?;
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
    /// The module texts: the head, then modules of `PER_MODULE` statements.
    fn modules(stmts: &[Stmt]) -> Vec<String> {
        // Rules of one package may span modules; an empty set still defines the rule names.
        let mut chunks: Vec<&[Stmt]> = stmts.chunks(PER_MODULE).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let mut out = vec![REGO_HEAD.to_string()];
        for chunk in chunks {
            let mut text = String::from("package iam\n\nimport rego.v1\n\n");
            for s in chunk {
                text.push_str(&rego_rule(s));
            }
            out.push(text);
        }
        out
    }

    /// Loads the modules; regorus keeps its own copy of each text (counted in its memory).
    fn new(modules: &[String]) -> Result<Rego, String> {
        let mut engine = regorus::Engine::new();
        for (k, text) in modules.iter().enumerate() {
            engine
                .add_policy(format!("module-{k}.rego"), text.clone())
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
// One engine on one workload, measured in a child process of its own

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Eng {
    Reference,
    Compiled,
    Cedar,
    Rego,
}

impl Eng {
    const ALL: [Eng; 4] = [Eng::Compiled, Eng::Reference, Eng::Cedar, Eng::Rego];

    fn name(self) -> &'static str {
        match self {
            Eng::Reference => "iamc reference",
            Eng::Compiled => "iamc compiled",
            Eng::Cedar => "Cedar",
            Eng::Rego => "regorus",
        }
    }

    fn arg(self) -> &'static str {
        match self {
            Eng::Reference => "reference",
            Eng::Compiled => "compiled",
            Eng::Cedar => "cedar",
            Eng::Rego => "regorus",
        }
    }

    fn parse(s: &str) -> Option<Eng> {
        Eng::ALL.into_iter().find(|e| e.arg() == s)
    }

    fn color(self) -> &'static str {
        match self {
            Eng::Compiled => "#1f77b4",
            Eng::Reference => "#7f7f7f",
            Eng::Cedar => "#ff7f0e",
            Eng::Rego => "#2ca02c",
        }
    }
}

/// Hands memory glibc's allocator holds free back to the kernel (whole free pages, in every
/// arena), so that a reading of resident memory counts live data rather than the allocator's
/// cache.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: malloc_trim takes no pointers; it only releases glibc's own free memory.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// This process's anonymous resident memory in KiB (`RssAnon` of /proc/self/status: heap,
/// stacks and anonymous maps, not the pages of the binary's code), after `trim`.
fn rss_anon_kb() -> Result<i64, String> {
    trim();
    let s = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    s.lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no RssAnon in /proc/self/status".into())
}

/// Times `decide` on requests `from..to`, one call at a time.
fn time_each(
    from: usize,
    to: usize,
    decisions: &mut Vec<bool>,
    times: &mut Vec<Duration>,
    decide: &mut impl FnMut(usize) -> Result<bool, String>,
) -> Result<(), String> {
    for i in from..to {
        let t = Instant::now();
        let d = decide(i)?;
        times.push(t.elapsed());
        decisions.push(d);
    }
    Ok(())
}

/// Runs `decide` on every request, or on the first `SUBSET` when the first `PROBE` take over
/// `SLOW` each on average.
fn run_engine(
    total: usize,
    decisions: &mut Vec<bool>,
    times: &mut Vec<Duration>,
    mut decide: impl FnMut(usize) -> Result<bool, String>,
) -> Result<(), String> {
    let probe = total.min(PROBE);
    time_each(0, probe, decisions, times, &mut decide)?;
    let mean = times.iter().sum::<Duration>() / probe.max(1) as u32;
    let n = if mean > SLOW {
        total.min(SUBSET)
    } else {
        total
    };
    time_each(probe, n, decisions, times, &mut decide)
}

struct Measured {
    build: Duration,
    /// Resident memory before the build, after it, and after the timed decisions (KiB).
    base_kb: i64,
    built_kb: i64,
    after_kb: i64,
    /// The decisions: the timed ones, then any untimed ones for the gate.
    decisions: Vec<bool>,
    times: Vec<Duration>,
}

/// Builds an engine and times its decisions, reading resident memory around the build; the
/// engine stays alive until the last reading. After the timed requests, decides untimed up to
/// `gate` requests in all (the reference's decisions for the gate of faster engines).
fn measure<E>(
    n: usize,
    gate: usize,
    build: impl FnOnce() -> Result<E, String>,
    mut decide: impl FnMut(&mut E, usize) -> Result<bool, String>,
) -> Result<Measured, String> {
    // The harness's own buffers, written once so that their pages are resident before the
    // first reading and do not count as the engine's.
    let mut decisions = vec![false; n];
    let mut times = vec![Duration::from_nanos(1); n];
    decisions.iter_mut().for_each(|d| *d = true);
    decisions.clear();
    times.clear();
    let base_kb = rss_anon_kb()?;
    let t0 = Instant::now();
    let mut engine = build()?;
    let build = t0.elapsed();
    let built_kb = rss_anon_kb()?;
    run_engine(n, &mut decisions, &mut times, |i| decide(&mut engine, i))?;
    let after_kb = rss_anon_kb()?;
    for i in decisions.len()..gate.min(n) {
        decisions.push(decide(&mut engine, i)?);
    }
    drop(engine);
    Ok(Measured {
        build,
        base_kb,
        built_kb,
        after_kb,
        decisions,
        times,
    })
}

/// Mean, p50 and p99 (nearest rank).
fn stats(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    if times.is_empty() {
        return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    }
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    times.sort_unstable();
    let rank = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    (mean, rank(0.50), rank(0.99))
}

/// The child process: one engine on one workload; prints one JSON line.
fn child(eng: Eng, tier: Tier, size: usize, mix: Mix) -> Result<Value, String> {
    let workload::Workload {
        statements,
        requests,
        ..
    } = workload::workload(tier, size, mix, SEED);
    let n = requests.len();
    let sem = Semantics::default();
    let mut notes = Vec::new();
    let m = match eng {
        Eng::Reference | Eng::Compiled => {
            // The policy documents as JSON text, as `workload::policies` writes them.
            let docs: Vec<(String, String)> = statements
                .chunks(PER_POLICY)
                .enumerate()
                .map(|(k, c)| {
                    let doc = serde_json::json!({"Version": "2012-10-17", "Statement": c});
                    (format!("policy-{k}"), doc.to_string())
                })
                .collect();
            drop(statements);
            let parse = || -> Result<Inputs, String> {
                let limits = Limits::default();
                let mut inputs = Inputs::default();
                for (id, text) in &docs {
                    let p = parse_policy(text, &limits).map_err(|d| format!("{id}: {d:?}"))?;
                    inputs
                        .identity
                        .push(PolicyDoc::new(id.as_str(), PolicyType::Identity, p));
                }
                Ok(inputs)
            };
            if eng == Eng::Reference {
                measure(n, GATE_MIN, parse, |inputs, i| {
                    Ok(reference::evaluate(inputs, &requests[i], &sem).decision == Outcome::Allow)
                })?
            } else {
                let build = || {
                    let inputs = parse()?;
                    let engine =
                        Engine::from_inputs(&inputs, sem.clone()).map_err(|e| e.to_string())?;
                    Ok((inputs, engine))
                };
                measure(n, 0, build, |(_, engine), i| {
                    Ok(engine.authorize(&requests[i]).decision == Outcome::Allow)
                })?
            }
        }
        Eng::Cedar | Eng::Rego => {
            // The peers' statements; any the peers cannot express are left out and named.
            let mut stmts = Vec::new();
            for s in &statements {
                match read_stmt(s) {
                    Ok(st) => stmts.push(st),
                    Err(why) => notes.push(format!("left out a statement: {why}")),
                }
            }
            drop(statements);
            let fields: Vec<Fields> = requests.iter().map(fields).collect();
            if eng == Eng::Cedar {
                let text = Cedar::text(&stmts);
                let reqs = fields
                    .iter()
                    .map(Cedar::request)
                    .collect::<Result<Vec<_>, _>>()?;
                measure(n, 0, || Cedar::new(&text), |c, i| Ok(c.allowed(&reqs[i])))?
            } else {
                let modules = Rego::modules(&stmts);
                let inputs = fields
                    .iter()
                    .map(Rego::input)
                    .collect::<Result<Vec<_>, _>>()?;
                measure(n, 0, || Rego::new(&modules), |r, i| r.allowed(&inputs[i]))?
            }
        }
    };
    let mut times = m.times;
    let (mean, p50, p99) = stats(&mut times);
    let timed = times.len();
    let ns = |d: Duration| d.as_nanos() as u64;
    Ok(serde_json::json!({
        "build_ns": ns(m.build),
        "built_kb": m.built_kb - m.base_kb,
        "after_kb": m.after_kb - m.base_kb,
        "timed": timed,
        "allowed": m.decisions[..timed].iter().filter(|b| **b).count(),
        "mean_ns": ns(mean),
        "p50_ns": ns(p50),
        "p99_ns": ns(p99),
        "decisions": m.decisions.iter().map(|&b| if b { '1' } else { '0' }).collect::<String>(),
        "notes": notes,
    }))
}

// ---------------------------------------------------------------------------------------------
// The parent: one child per engine, tier, size and mix; the gate; the report

#[derive(Clone, Debug)]
struct Row {
    tier: Tier,
    size: usize,
    mix: Mix,
    engine: Eng,
    build: Duration,
    built_kb: i64,
    after_kb: i64,
    requests: usize,
    gated: usize,
    allowed: usize,
    mean: Duration,
    p50: Duration,
    p99: Duration,
}

struct Spawned {
    row: Row,
    decisions: Vec<bool>,
    notes: Vec<String>,
}

fn spawn(eng: Eng, tier: Tier, size: usize, mix: Mix) -> Result<Spawned, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let what = format!("{} on {tier} x {size} x {mix}", eng.name());
    let out = std::process::Command::new(exe)
        .args(["--child", eng.arg()])
        .args([tier.to_string(), size.to_string(), mix.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{what}: the child process failed ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("{what}: no result from the child process"))?;
    let v: Value = serde_json::from_str(line).map_err(|e| format!("{what}: {e}"))?;
    let num = |k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    let dur = |k: &str| Duration::from_nanos(num(k).max(0) as u64);
    let decisions: Vec<bool> = v
        .get("decisions")
        .and_then(Value::as_str)
        .unwrap_or("")
        .bytes()
        .map(|b| b == b'1')
        .collect();
    Ok(Spawned {
        row: Row {
            tier,
            size,
            mix,
            engine: eng,
            build: dur("build_ns"),
            built_kb: num("built_kb"),
            after_kb: num("after_kb"),
            requests: num("timed") as usize,
            gated: 0,
            allowed: num("allowed") as usize,
            mean: dur("mean_ns"),
            p50: dur("p50_ns"),
            p99: dur("p99_ns"),
        },
        decisions,
        notes: strings(v.get("notes").unwrap_or(&Value::Null)),
    })
}

/// The gate: `got` must equal `expect` on every request both decided.
fn gate(
    what: &str,
    eng: Eng,
    expect: &[bool],
    got: &[bool],
    w: (Tier, usize, Mix),
) -> Result<(), String> {
    let Some(i) = expect.iter().zip(got).position(|(e, g)| e != g) else {
        return Ok(());
    };
    let reqs = workload::workload(w.0, w.1, w.2, SEED).requests;
    let r = &reqs[i];
    Err(format!(
        "{what}: {} says allowed={}, the reference says allowed={}, on request {i}: {} {} {:?}",
        eng.name(),
        got[i],
        expect[i],
        r.action,
        r.resource,
        r.context.to_json()
    ))
}

fn run_one(
    tier: Tier,
    size: usize,
    mix: Mix,
    peers: bool,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> Result<(), String> {
    let what = format!("{tier} x {size} x {mix}");
    let reference = spawn(Eng::Reference, tier, size, mix)?;
    let expect = reference.decisions;
    let mut row = reference.row;
    row.gated = expect.len();
    rows.push(row);
    for eng in [Eng::Compiled, Eng::Cedar, Eng::Rego] {
        if eng != Eng::Compiled && !peers {
            continue;
        }
        let t = Instant::now();
        let s = spawn(eng, tier, size, mix)?;
        gate(&what, eng, &expect, &s.decisions, (tier, size, mix))?;
        eprintln!(
            "  {:<15} p50 {:>10}  ({:.1} s)",
            eng.name(),
            us(s.row.p50),
            t.elapsed().as_secs_f64()
        );
        let mut row = s.row;
        row.gated = expect.len().min(s.decisions.len());
        rows.push(row);
        if eng == Eng::Cedar {
            notes.extend(s.notes.into_iter().map(|n| format!("{what}: {n}")));
        }
    }
    Ok(())
}

fn us(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1e3)
    } else if us >= 100.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.2} µs")
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn mem(kb: i64) -> String {
    if kb.abs() >= 1024 {
        format!("{:.1} MiB", kb as f64 / 1024.0)
    } else {
        format!("{kb} KiB")
    }
}

fn ratio(x: f64) -> String {
    if x >= 1000.0 {
        thousands(x.round() as usize)
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The p50 of iamc compiled on the same tier, size and mix.
fn compiled_p50(rows: &[Row], r: &Row) -> Option<Duration> {
    rows.iter()
        .find(|c| {
            c.engine == Eng::Compiled && c.tier == r.tier && c.size == r.size && c.mix == r.mix
        })
        .map(|c| c.p50)
}

fn table(rows: &[Row], mix: Mix) -> String {
    let mut s = String::from(
        "| tier | statements | engine | build | RSS built | RSS after run | timed | gated | allowed | mean | p50 | p99 | x iamc compiled (p50) |\n\
         | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows.iter().filter(|r| r.mix == mix) {
        let x = compiled_p50(rows, r).map_or("–".into(), |c| {
            ratio(r.p50.as_secs_f64() / c.as_secs_f64().max(1e-12))
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.tier,
            thousands(r.size),
            r.engine.name(),
            ms(r.build),
            mem(r.built_kb),
            mem(r.after_kb),
            r.requests,
            r.gated,
            r.allowed,
            us(r.mean),
            us(r.p50),
            us(r.p99),
            x
        );
    }
    s
}

fn range<T: PartialOrd + Copy>(xs: impl Iterator<Item = T>) -> Option<(T, T)> {
    xs.fold(None, |acc, x| match acc {
        None => Some((x, x)),
        Some((lo, hi)) => Some((if x < lo { x } else { lo }, if x > hi { x } else { hi })),
    })
}

/// `lo to hi`, or one figure when they are the same.
fn span(lo: &str, hi: &str) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} to {hi}")
    }
}

/// A few lines that read the tables: each engine at the largest size the peers ran, and iamc at
/// the largest size.
fn summary(rows: &[Row], mixes: &[Mix]) -> String {
    let mut s = String::new();
    for &mix in mixes {
        let of = |size: usize, eng: Eng| {
            rows.iter()
                .filter(move |r| r.mix == mix && r.size == size && r.engine == eng)
        };
        let peer_max = rows
            .iter()
            .filter(|r| r.mix == mix && r.engine == Eng::Cedar)
            .map(|r| r.size)
            .max();
        if let Some(size) = peer_max {
            let mut parts = Vec::new();
            for eng in Eng::ALL {
                let Some((lo, hi)) = range(of(size, eng).map(|r| r.p50)) else {
                    continue;
                };
                let x = range(of(size, eng).filter_map(|r| {
                    compiled_p50(rows, r).map(|c| r.p50.as_secs_f64() / c.as_secs_f64().max(1e-12))
                }));
                let x = match (eng, x) {
                    (Eng::Compiled, _) | (_, None) => String::new(),
                    (_, Some((a, b))) => {
                        format!(" ({} x iamc compiled)", span(&ratio(a), &ratio(b)))
                    }
                };
                parts.push(format!("{} {}{x}", eng.name(), span(&us(lo), &us(hi))));
            }
            let _ = writeln!(
                s,
                "- Mix {mix}, {} statements, p50 per decision across the tiers: {}.",
                thousands(size),
                parts.join("; ")
            );
        }
        if let (Some(size), true) = (peer_max, mix == mixes[0]) {
            let mut parts = Vec::new();
            for eng in Eng::ALL {
                let built = range(
                    rows.iter()
                        .filter(|r| r.size == size && r.engine == eng)
                        .map(|r| r.built_kb),
                );
                let after = range(
                    rows.iter()
                        .filter(|r| r.size == size && r.engine == eng)
                        .map(|r| r.after_kb),
                );
                if let (Some((a, b)), Some((_, c))) = (built, after) {
                    parts.push(format!(
                        "{} {} (after the run, up to {})",
                        eng.name(),
                        span(&mem(a), &mem(b)),
                        mem(c)
                    ));
                }
            }
            let _ = writeln!(
                s,
                "- RSS built at {} statements, across the tiers and mixes: {}.",
                thousands(size),
                parts.join("; ")
            );
        }
        let top = rows.iter().filter(|r| r.mix == mix).map(|r| r.size).max();
        if let Some(size) = top.filter(|&t| Some(t) != peer_max) {
            let c: Vec<&Row> = of(size, Eng::Compiled).collect();
            if let (Some((a, b)), Some((p, q)), Some((m, n))) = (
                range(c.iter().map(|r| r.p50)),
                range(c.iter().map(|r| r.p99)),
                range(c.iter().map(|r| r.built_kb)),
            ) {
                let _ = writeln!(
                    s,
                    "- Mix {mix}, {} statements (iamc alone): iamc compiled p50 {}, p99 {}, RSS \
                     built {} (about {} B per statement).",
                    thousands(size),
                    span(&us(a), &us(b)),
                    span(&us(p), &us(q)),
                    span(&mem(m), &mem(n)),
                    span(
                        &format!("{:.0}", m as f64 * 1024.0 / size as f64),
                        &format!("{:.0}", n as f64 * 1024.0 / size as f64)
                    )
                );
            }
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// The plot: p50 against statements, log-log, one line per engine, one panel per tier

fn tier_label(t: Tier) -> &'static str {
    match t {
        Tier::S1 => "S1 exact",
        Tier::S2 => "S2 mixed",
        Tier::S3 => "S3 conditions",
        Tier::S4 => "S4 not-elements",
        Tier::S5 => "S5 full IAM",
    }
}

fn ns_label(e: i32) -> String {
    match e {
        ..=2 => format!("{} ns", 10f64.powi(e)),
        3..=5 => format!("{} µs", 10f64.powi(e - 3)),
        6..=8 => format!("{} ms", 10f64.powi(e - 6)),
        _ => format!("{} s", 10f64.powi(e - 9)),
    }
}

fn svg(rows: &[Row], mix: Mix) -> String {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.mix == mix).collect();
    let mut tiers: Vec<Tier> = Vec::new();
    for r in &rows {
        if !tiers.contains(&r.tier) {
            tiers.push(r.tier);
        }
    }
    let mut sizes: Vec<usize> = rows.iter().map(|r| r.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let ns: Vec<f64> = rows
        .iter()
        .map(|r| r.p50.as_nanos() as f64)
        .filter(|&y| y > 0.0)
        .collect();
    let (Some(&xmin), Some(&xmax)) = (sizes.first(), sizes.last()) else {
        return String::new();
    };
    let lg = |v: f64| v.max(1e-9).log10();
    let (x0, mut x1) = (lg(xmin as f64), lg(xmax as f64));
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let y0 = ns
        .iter()
        .map(|&y| lg(y))
        .fold(f64::INFINITY, f64::min)
        .floor() as i32;
    let mut y1 = ns.iter().map(|&y| lg(y)).fold(0.0, f64::max).ceil() as i32;
    if y1 <= y0 {
        y1 = y0 + 1;
    }
    let cols = if tiers.len() > 1 { 2 } else { 1 };
    let (pw, ph, head) = (420.0, 300.0, 70.0);
    let (left, right, top, bottom) = (72.0, 36.0, 28.0, 44.0);
    let nrows = tiers.len().div_ceil(cols);
    let (w, h) = (pw * cols as f64, head + ph * nrows as f64);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{w:.0}\" height=\"{h:.0}\" \
         fill=\"white\"/>\n<text x=\"12\" y=\"20\" font-size=\"14\">Time per decision (p50) \
         against statements, mix {mix}, log-log</text>"
    );
    // The legend.
    let mut lx = 12.0;
    for eng in Eng::ALL {
        if !rows.iter().any(|r| r.engine == eng) {
            continue;
        }
        let dash = if eng == Eng::Reference {
            " stroke-dasharray=\"6,4\""
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "<line x1=\"{lx}\" y1=\"40\" x2=\"{}\" y2=\"40\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"44\">{}</text>",
            lx + 24.0,
            eng.color(),
            lx + 30.0,
            eng.name()
        );
        lx += 40.0 + 7.5 * eng.name().len() as f64;
    }
    let _ = writeln!(
        o,
        "<circle cx=\"{}\" cy=\"40\" r=\"3.5\" fill=\"white\" stroke=\"#333\"/>\
         <text x=\"{}\" y=\"44\">timed on the first {SUBSET} requests</text>\n\
         <text x=\"12\" y=\"62\" fill=\"#555\">x: statements; y: p50 per decision, one thread; \
         one panel per tier, same axes</text>",
        lx + 6.0,
        lx + 14.0
    );
    for (k, &tier) in tiers.iter().enumerate() {
        let (ox, oy) = ((k % cols) as f64 * pw, head + (k / cols) as f64 * ph);
        let (l, r, t, b) = (ox + left, ox + pw - right, oy + top, oy + ph - bottom);
        let px = |x: usize| l + (lg(x as f64) - x0) / (x1 - x0) * (r - l);
        let py = |y: f64| b - (lg(y) - y0 as f64) / (y1 - y0) as f64 * (b - t);
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\">{}</text>\n\
             <rect x=\"{l:.1}\" y=\"{t:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" \
             stroke=\"#999\"/>",
            l,
            t - 8.0,
            tier_label(tier),
            r - l,
            b - t
        );
        for &x in &sizes {
            let _ = writeln!(
                o,
                "<line x1=\"{0:.1}\" y1=\"{t:.1}\" x2=\"{0:.1}\" y2=\"{b:.1}\" stroke=\"#e4e4e4\"/>\
                 <text x=\"{0:.1}\" y=\"{1:.1}\" text-anchor=\"middle\" font-size=\"11\">{2}</text>",
                px(x),
                b + 15.0,
                thousands(x)
            );
        }
        for e in y0..=y1 {
            let y = py(10f64.powi(e));
            let _ = writeln!(
                o,
                "<line x1=\"{l:.1}\" y1=\"{y:.1}\" x2=\"{r:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e4\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
                l - 5.0,
                y + 4.0,
                ns_label(e)
            );
        }
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">statements</text>",
            (l + r) / 2.0,
            b + 32.0
        );
        for eng in Eng::ALL {
            let mut pts: Vec<&&Row> = rows
                .iter()
                .filter(|x| x.tier == tier && x.engine == eng && x.p50 > Duration::ZERO)
                .collect();
            pts.sort_by_key(|x| x.size);
            if pts.is_empty() {
                continue;
            }
            let line: Vec<String> = pts
                .iter()
                .map(|x| format!("{:.1},{:.1}", px(x.size), py(x.p50.as_nanos() as f64)))
                .collect();
            let dash = if eng == Eng::Reference {
                " stroke-dasharray=\"6,4\""
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
                line.join(" "),
                eng.color()
            );
            for x in pts {
                let fill = if x.requests < 10_000 {
                    "white"
                } else {
                    eng.color()
                };
                let _ = writeln!(
                    o,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{fill}\" stroke=\"{}\"/>",
                    px(x.size),
                    py(x.p50.as_nanos() as f64),
                    eng.color()
                );
            }
        }
    }
    o.push_str("</svg>\n");
    o
}

// ---------------------------------------------------------------------------------------------
// Writing the section

const BEGIN: &str = "<!-- peers: begin -->";
const END: &str = "<!-- peers: end -->";
const HEADING: &str = "## Peers: Cedar and regorus";

/// Puts `block` (from `BEGIN` to `END`) into `text`: between the markers if there are any, else
/// in place of the section of earlier runs (unmarked, from its heading to the next heading,
/// marker or the end), else at the end. Nothing outside changes.
fn splice(text: &str, block: &str) -> Result<String, String> {
    match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if b < e => {
            return Ok(format!("{}{block}{}", &text[..b], &text[e + END.len()..]));
        }
        (None, None) => {}
        _ => return Err(format!("BENCHMARKS.md has {BEGIN} and {END} out of order")),
    }
    let heading = format!("\n{HEADING}\n");
    if let Some(i) = text.find(&heading) {
        let start = i + 1;
        let body = start + heading.len() - 1;
        let end = ["\n## ", "\n<!-- "]
            .iter()
            .filter_map(|m| text[body..].find(m).map(|j| body + j + 1))
            .min()
            .unwrap_or(text.len());
        let old = &text[start..end];
        let trailing = &old[old.trim_end().len()..];
        return Ok(format!(
            "{}{block}{trailing}{}",
            &text[..start],
            &text[end..]
        ));
    }
    let sep = if text.ends_with("\n\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    Ok(format!("{text}{sep}{block}\n"))
}

fn write_files(section: &str, plots: &[(String, String)]) -> Result<(), String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    for (name, text) in plots {
        std::fs::write(format!("{dir}/{name}"), text).map_err(|e| format!("{name}: {e}"))?;
    }
    let path = format!("{dir}/../../BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let block = format!("{BEGIN}\n{}\n{END}", section.trim_end());
    let out = splice(&text, &block)?;
    std::fs::write(&path, out).map_err(|e| format!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The machine and its load

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

fn command_out(cmd: &str, args: &[&str]) -> Option<String> {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
}

fn machine() -> String {
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(String::new(), |kb| {
            format!(", {:.0} GiB", kb / 1024.0 / 1024.0)
        });
    let kernel = command_out("uname", &["-sr"]).map_or(String::new(), |k| format!(", {k}"));
    let rustc = command_out("rustc", &["--version"]).map_or(String::new(), |r| format!(", {r}"));
    format!(
        "{} cores ({}){mem}{kernel}{rustc}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    )
}

fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// Busy and total clock ticks of all cores (/proc/stat), and this process's own CPU ticks
/// including its waited-for children (/proc/self/stat utime, stime, cutime, cstime).
fn ticks() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime is the 14th field overall.
    let own: u64 = me
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(4)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    (total - idle, total, own)
}

fn today() -> String {
    command_out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_else(|| "date unknown".into())
}

// ---------------------------------------------------------------------------------------------

fn list<T>(arg: Option<&String>, parse: impl Fn(&str) -> Option<T>, dflt: Vec<T>) -> Vec<T> {
    arg.map_or(dflt, |a| {
        a.split(',').filter_map(|x| parse(x.trim())).collect()
    })
}

fn child_main(args: &[String]) -> ExitCode {
    let parsed = (|| {
        Some((
            Eng::parse(args.first()?)?,
            Tier::parse(args.get(1)?)?,
            args.get(2)?.parse().ok()?,
            Mix::parse(args.get(3)?)?,
        ))
    })();
    let Some((eng, tier, size, mix)) = parsed else {
        eprintln!("usage: iamc-peers --child reference|compiled|cedar|regorus TIER SIZE MIX");
        return ExitCode::FAILURE;
    };
    match child(eng, tier, size, mix) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{} on {tier} x {size} x {mix}: {e}", eng.name());
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    configure_regorus();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child_main(&args[1..]);
    }
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
        vec![10, 100, 1_000, 10_000, 100_000],
    );
    let peer_max: usize = value("--peer-max")
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(PEER_MAX);
    let mixes = list(value("--mixes"), Mix::parse, vec![Mix::M1, Mix::M3]);

    let started = Instant::now();
    let load_start = load1();
    let mut load_max = load_start;
    let ticks_start = ticks();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for &tier in &tiers {
        if tier == Tier::S5 {
            eprintln!("S5 is not run: Cedar's like has no `?` and no policy variables");
            continue;
        }
        for &size in &sizes {
            for &mix in &mixes {
                let peers = size <= peer_max;
                eprintln!(
                    "{tier} x {size} x {mix}{} ({:.0} s in)",
                    if peers { "" } else { " (iamc alone)" },
                    started.elapsed().as_secs_f64()
                );
                load_max = load_max.max(load1());
                if let Err(e) = run_one(tier, size, mix, peers, &mut rows, &mut notes) {
                    for &m in &mixes {
                        println!("{}", table(&rows, m));
                    }
                    eprintln!("correctness gate failed, the run is void: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let elapsed = started.elapsed();
    let load_end = load1();
    let ticks_end = ticks();
    let busy = ticks_end.0.saturating_sub(ticks_start.0) as f64;
    let all = ticks_end.1.saturating_sub(ticks_start.1).max(1) as f64;
    let own = ticks_end.2.saturating_sub(ticks_start.2) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    // Cores' worth of CPU used by other processes over the run.
    let others = (busy - own).max(0.0) / all * cores;

    let extra: String = args
        .iter()
        .filter(|a| *a != "--write")
        .fold(String::new(), |acc, a| acc + " " + a);
    let mut section = format!("{HEADING}\n\n");
    let _ = writeln!(
        section,
        "Measured {} on {}, with `benches/peers/run.sh{extra}` (`cargo run --release -p \
         iamc-peers -- --write{extra}`); the run took {} min {} s.\n",
        today(),
        machine(),
        elapsed.as_secs() / 60,
        elapsed.as_secs() % 60
    );
    let _ = writeln!(
        section,
        "Load: the 1-minute load average was {load_start:.2} at the start, {load_end:.2} at the \
         end and at most {load_max:.2} at the start of a measurement (this harness itself \
         accounts for about 1); other processes used {others:.2} of the {cores:.0} cores on \
         average over the run (/proc/stat less this harness's own CPU time). {}\n",
        if others > 0.25 {
            "The run overlapped other work on the machine, so the figures are noisy: repeated \
             runs of one row can differ by tens of percent; the ratios between engines, which \
             are orders of magnitude, are not affected in substance."
        } else {
            "The machine was otherwise nearly idle."
        }
    );
    for &mix in &mixes {
        let _ = writeln!(
            section,
            "![time per decision against statements, mix {mix}](benches/peers/peers-{mix}.svg)\n"
        );
    }
    section.push_str(&summary(&rows, &mixes));
    section.push('\n');
    section.push_str(METHOD);
    for &mix in &mixes {
        let _ = writeln!(section, "\n### Mix {mix}\n");
        section.push_str(&table(&rows, mix));
    }
    if !notes.is_empty() {
        section.push_str("\nStatements left out of the peers:\n\n");
        for n in &notes {
            let _ = writeln!(section, "- {n}");
        }
    }
    println!("{section}");
    if write {
        let plots: Vec<(String, String)> = mixes
            .iter()
            .map(|&m| (format!("peers-{m}.svg"), svg(&rows, m)))
            .collect();
        if let Err(e) = write_files(&section, &plots) {
            eprintln!("could not write BENCHMARKS.md: {e}");
            return ExitCode::FAILURE;
        }
        eprintln!(
            "wrote the section of BENCHMARKS.md and benches/peers/peers-*.svg ({:.0} s)",
            elapsed.as_secs_f64()
        );
    }
    ExitCode::SUCCESS
}

const METHOD: &str = "\
**Correctness gate.** On every tier, size and mix, each engine's allowed yes/no equals the \
reference evaluator's on every request both decided (Cedar and Rego have no explicit/implicit \
deny distinction), or the run fails and prints the first disagreement; this run passed. \
`gated` is that number of requests. Where the reference itself takes over 1 ms per decision \
(100,000 statements), it decides the first 2,000 requests (500 timed, the rest untimed), and \
the faster engines are gated on those.

**Time.** Per decision, one thread, each call timed on its own (the timer adds some 20-40 ns), \
with the requests already in each engine's native form (iamc `Request`, Cedar `Request`, \
regorus `Value` input). `p50` and `p99` are nearest-rank percentiles over the `timed` \
requests. An engine whose first 50 decisions average over 1 ms is timed (and gated) on the \
first 500 requests only; its p99 is then the 5th slowest of 500, and its points are hollow in \
the plots. `x iamc compiled` is the engine's p50 over iamc compiled's p50 on the same tier, \
size and mix. `build` is parse and compile from policy text, timed apart: the JSON policy \
documents (100 statements each) to the AST (`parse_policy`) for the reference, and on to \
`Engine::from_inputs` for iamc compiled; the policy text to a `PolicySet` for Cedar; \
`add_policy` of every module for regorus.

**Memory.** Each engine, tier, size and mix runs in a fresh child process (the harness runs \
itself with `--child ENGINE TIER SIZE MIX`). The child first generates the workload, the \
engine's policy text and its native requests; then it reads its anonymous resident memory \
(`RssAnon` in /proc/self/status: heap, stacks and anonymous maps, not the pages of the \
binary's code), builds the engine, and reads it again with the engine alive: `RSS built` is \
the difference. `RSS after run` is the same difference read after the timed decisions, the \
engine still alive: it adds what deciding leaves behind (caches, such as regorus's global glob \
cache; buffers kept between calls). Before every reading the harness calls glibc's \
`malloc_trim(0)`, so memory freed by the build and kept by the allocator is not counted. What \
is counted is what the engine keeps: the AST for the reference; the AST and the compiled \
indexes for iamc compiled; the `PolicySet` for Cedar (which keeps each policy's source text); \
the engine and its copy of the module texts for regorus. Limits: resident memory counts pages \
touched, not bytes allocated (capacity reserved but never written is not counted; a page \
partly used by live data counts whole), so figures under about 100 KiB (10-100 statements) are \
mostly page granularity and noise; the build may reuse free space inside pages that the \
baseline already holds, which then does not count; a transient peak during the build is not \
measured; and M1 and M3 build the same policy set, so their rows measure the same thing twice.

**Translations.** Cedar: one policy per IAM statement (Allow `permit`, Deny `forbid`), the \
lower-cased action and the resource ARN as context strings matched with `like`, \
NotAction/NotResource as `!(... like ...)`, the S3 conditions as context tests (`==`, `like`, \
`isInRange(ip(..))`, `datetime` `<`). regorus: one rule body per statement with \
`glob.match(p, null, v)` (null: no delimiters; `[]` would mean `.` in regorus), \
deny-overrides in Rego (`allow if { any_allow; not any_deny }`), modules of 500 statements, \
glob cache raised to 65,536. No harness-side indexing (no \"expert\" rows). The peers are not \
run at 100,000 statements (iamc alone, as the issue asks).
";

fn configure_regorus() {
    regorus::cache::configure(regorus::cache::Config {
        regex: 256,
        glob: regorus::cache::Config::MAX_CAPACITY,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str =
        "<!-- peers: begin -->\n## Peers: Cedar and regorus\n\nnew\n<!-- peers: end -->";

    #[test]
    fn replaces_between_the_markers_only() {
        let text = "# B\n\nx\n\n<!-- peers: begin -->\nold\n<!-- peers: end -->\n\n\
                    <!-- gateway: begin -->\n## Gateway: added latency\n<!-- gateway: end -->\n";
        let out = splice(text, BLOCK).unwrap();
        assert_eq!(
            out,
            format!(
                "# B\n\nx\n\n{BLOCK}\n\n<!-- gateway: begin -->\n## Gateway: added \
                 latency\n<!-- gateway: end -->\n"
            )
        );
        assert_eq!(splice(&out, BLOCK).unwrap(), out);
    }

    #[test]
    fn migrates_the_unmarked_section() {
        let head = "# B\n\n<!-- notes: kept by report.py -->\n\n## Other\n\ntext\n\n";
        let old = "## Peers: Cedar and regorus\n\n| a |\n| 1 |\n";
        assert_eq!(
            splice(&format!("{head}{old}"), BLOCK).unwrap(),
            format!("{head}{BLOCK}\n")
        );
        let gw = "<!-- gateway: begin -->\n## Gateway: added latency\n\ng\n<!-- gateway: end -->\n";
        assert_eq!(
            splice(&format!("{head}{old}\n{gw}"), BLOCK).unwrap(),
            format!("{head}{BLOCK}\n\n{gw}")
        );
    }

    #[test]
    fn appends_when_there_is_no_section() {
        assert_eq!(splice("# B\n", BLOCK).unwrap(), format!("# B\n\n{BLOCK}\n"));
        assert!(splice("<!-- peers: end --><!-- peers: begin -->", BLOCK).is_err());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut t: Vec<Duration> = (1..=500).map(Duration::from_nanos).collect();
        let (_, p50, p99) = stats(&mut t);
        assert_eq!((p50.as_nanos(), p99.as_nanos()), (250, 495));
    }
}
