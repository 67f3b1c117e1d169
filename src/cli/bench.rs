//! `iamc bench`: how fast the compiled engine decides a policy set, as `opa bench` reports it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::load::{self, LoadError};
use crate::compile::{Engine, EngineBuilder, Scratch};
use crate::eval::reference;
use crate::request::{Request, RequestJson};
use crate::semantics::Semantics;
use crate::store::Store;
use crate::workload::{self, Mix, Tier};

mod org;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table.
    Text,
    /// One JSON object.
    Json,
}

/// Benchmark the compiled engine on your policy set, or on a generated workload.
///
/// With a store: the requests come from --requests (JSON Lines, as `iamc authorize` reads
/// them), or are synthesized from the store's callers, actions and resources.
///
///   iamc bench examples/kinesis/store.json --requests examples/kinesis/requests.jsonl
///
/// With a generated workload (shared/benchmark.md: tiers S1-S5, mixes M1-M3):
///
///   iamc bench --workload S3 --size 10000 --mix M1
///
/// With the generated organization (issue 14): a store of accounts, users in groups, roles
/// with boundaries, streams and consumers shared by resource policies, and SCP levels, written
/// to a folder (a temporary one unless --write-store) and loaded from there; the requests come
/// from role sessions the store does not list. It reports the store's load and build times,
/// resident memory, and decisions through Authorizer::authorize. --write-only writes the store
/// (and --write-requests the requests) for `iamc check` and `iamc authorize`, and measures
/// nothing:
///
///   iamc bench --workload org
///   iamc bench --workload org --write-store org/ --write-requests org.jsonl --write-only
///
/// Reports compile time, index memory, time per decision on one thread (mean, p50, p99),
/// throughput on one thread and on all cores (a Zipf-drawn stream of 1,000,000 requests, mix
/// M4), and the reference evaluator's time per decision for comparison.
///
/// Exit codes: 0 measured; 1 the store or the requests could not be read; 2 bad arguments.
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Measure how fast the compiled engine decides a policy set."
)]
pub struct Args {
    /// A store (file or folder). Omit it with --workload.
    #[arg(value_name = "STORE", required_unless_present = "workload")]
    store: Option<PathBuf>,
    /// JSON Lines requests to replay (with a store).
    #[arg(long, value_name = "FILE", requires = "store")]
    requests: Option<PathBuf>,
    /// A generated tier: S1, S2, S3, S4 or S5; or `org`, the generated organization.
    #[arg(long, value_name = "TIER|org", conflicts_with = "store")]
    workload: Option<String>,
    /// Member accounts of the generated organization (--workload org).
    #[arg(long, default_value_t = 14)]
    accounts: usize,
    /// Users and roles of the generated organization (--workload org).
    #[arg(long, default_value_t = 1_000)]
    principals: usize,
    /// Streams of the generated organization (--workload org).
    #[arg(long, default_value_t = 3_600)]
    streams: usize,
    /// Requests generated against the organization (--workload org).
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    /// Write the generated organization's store into this folder (store.json and policy
    /// files) and keep it (--workload org).
    #[arg(long, value_name = "DIR")]
    write_store: Option<PathBuf>,
    /// Write the generated organization's requests to this file, as JSON Lines (--workload org).
    #[arg(long, value_name = "FILE")]
    write_requests: Option<PathBuf>,
    /// Write the generated organization and stop: no measurement (--workload org).
    #[arg(long)]
    write_only: bool,
    /// Statements in the generated tier.
    #[arg(long, default_value_t = 10_000)]
    size: usize,
    /// The generated request mix: M1, M2 or M3.
    #[arg(long, default_value = "M1")]
    mix: String,
    /// Seconds to spend on each single-thread measurement.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Draws of the all-cores throughput stream.
    #[arg(long, default_value_t = 1_000_000)]
    batch: usize,
    /// Skip the reference evaluator's figure (slow on large sets).
    #[arg(long)]
    no_reference: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The figures.
#[derive(Debug, Serialize)]
pub struct Report {
    /// What was measured.
    pub subject: String,
    /// Statements compiled.
    pub statements: usize,
    /// Distinct requests.
    pub requests: usize,
    /// Compile time in milliseconds.
    pub compile_ms: f64,
    /// Heap bytes of the indexes (approximate).
    pub index_bytes: usize,
    /// Resident memory added by compiling (from /proc/self/statm; 0 where unknown).
    pub rss_delta_bytes: usize,
    /// Single thread, nanoseconds per decision.
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: f64,
    /// 99th percentile.
    pub p99_ns: f64,
    /// Decisions per second on one thread (untimed loop).
    pub throughput_1: f64,
    /// Decisions per second on all cores (batch API, Zipf stream).
    pub throughput_n: f64,
    /// Threads used for `throughput_n`.
    pub threads: usize,
    /// The reference evaluator, nanoseconds per decision (mean), if measured.
    pub reference_mean_ns: Option<f64>,
    /// Decisions: allow / explicit deny / implicit deny.
    pub outcomes: [usize; 3],
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    // Bad flag values are usage errors (exit 2), found before any work.
    let org = args
        .workload
        .as_deref()
        .is_some_and(|w| w.eq_ignore_ascii_case("org"));
    let org_only = args.write_store.is_some() || args.write_requests.is_some() || args.write_only;
    let usage = match (&args.workload, Mix::parse(&args.mix)) {
        _ if org_only && !org => Some(
            "--write-store, --write-requests and --write-only go with --workload org".to_string(),
        ),
        (Some(t), _) if !org && Tier::parse(t).is_none() => Some(format!(
            "--workload {t}: expected S1, S2, S3, S4, S5 or org"
        )),
        (_, None) => Some(format!("--mix {}: expected M1, M2 or M3", args.mix)),
        _ => None,
    };
    if let Some(msg) = usage {
        eprintln!("error: {msg}\n\nFor more information, try 'iamc bench --help'.");
        return ExitCode::from(super::USAGE);
    }
    if org {
        return run_org(&args);
    }
    match run_inner(&args) {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            let written = match args.format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                ),
                Format::Text => write!(out, "{}", render(&report)),
            };
            if written.is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(LoadError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run_org(args: &Args) -> ExitCode {
    match org::run(args) {
        Ok(done) => {
            let mut out = std::io::stdout().lock();
            let written = match (done, args.format) {
                (org::OrgRun::Written(msg), _) => writeln!(out, "{msg}"),
                (org::OrgRun::Measured(report), Format::Json) => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                ),
                (org::OrgRun::Measured(report), Format::Text) => {
                    write!(out, "{}", org::render(&report))
                }
            };
            if written.is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(LoadError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

enum Subject {
    Store(Arc<Store>),
    Fixed(crate::ast::Inputs),
}

fn run_inner(args: &Args) -> Result<Report, LoadError> {
    let sem = Semantics::default();
    let (subject, requests, label) = match (&args.store, &args.workload) {
        (Some(path), _) => {
            let store = Store::load(path).map_err(|d| {
                LoadError(
                    d.iter()
                        .map(|d| format!("{}: {d}", path.display()))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })?;
            let store = Arc::new(store);
            let mut reqs = match &args.requests {
                Some(f) => read_requests(f)?,
                None => synthesize(&store),
            };
            for r in &mut reqs {
                store.prepare(r);
            }
            (Subject::Store(store), reqs, path.display().to_string())
        }
        (None, Some(tier)) => {
            let tier = Tier::parse(tier)
                .ok_or_else(|| LoadError(format!("--workload {tier}: expected S1..S5")))?;
            let mix = Mix::parse(&args.mix)
                .ok_or_else(|| LoadError(format!("--mix {}: expected M1, M2 or M3", args.mix)))?;
            let w = workload::workload(tier, args.size, mix, 42);
            (
                Subject::Fixed(w.inputs),
                w.requests,
                format!("workload {tier}, {} statements, mix {mix}", args.size),
            )
        }
        (None, None) => return Err(LoadError("give a STORE or --workload".into())),
    };
    if requests.is_empty() {
        return Err(LoadError("no requests to replay".into()));
    }
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    let builder = EngineBuilder::new().semantics(sem.clone());
    let engine = match &subject {
        Subject::Store(s) => Engine::from_store(s, &builder, None),
        Subject::Fixed(inputs) => builder.engine(inputs),
    }
    .map_err(|e| LoadError(format!("the engine was not built: {e}")))?;
    let compile = t0.elapsed();
    let rss_delta = rss_bytes().saturating_sub(rss0);
    let stats = engine.stats();

    // Warm up, and count outcomes.
    let mut scratch = Scratch::default();
    let mut outcomes = [0usize; 3];
    for r in &requests {
        let d = engine.authorize_with(&mut scratch, r);
        outcomes[match d.decision {
            crate::eval::Outcome::Allow => 0,
            crate::eval::Outcome::ExplicitDeny => 1,
            crate::eval::Outcome::ImplicitDeny => 2,
        }] += 1;
    }
    let budget = Duration::from_secs_f64(args.seconds.max(0.1));
    let lat = Latencies::measure(&requests, budget, |r| {
        engine.authorize_with(&mut scratch, r)
    });
    let throughput_1 = throughput(&requests, budget, |r| {
        engine.authorize_with(&mut scratch, r)
    });
    // All cores: the batch API over a Zipf-drawn stream (mix M4).
    let idx = workload::zipf_indices(requests.len(), args.batch, 1.0, 4);
    let stream: Vec<Request> = idx
        .iter()
        .filter_map(|i| requests.get(*i).cloned())
        .collect();
    let start = Instant::now();
    let decisions = engine.authorize_batch(&stream);
    let throughput_n = decisions.len() as f64 / start.elapsed().as_secs_f64();
    drop(decisions);
    let reference_mean_ns = if args.no_reference {
        None
    } else {
        let inputs_of = |r: &Request| match &subject {
            Subject::Store(s) => s.inputs_for(r),
            Subject::Fixed(i) => i.clone(),
        };
        // A fixed subset, so that a slow reference stays bounded (benchmark rule 5).
        let subset: Vec<(crate::ast::Inputs, &Request)> = requests
            .iter()
            .take(1000)
            .map(|r| (inputs_of(r), r))
            .collect();
        let start = Instant::now();
        let mut k = 0usize;
        while start.elapsed() < budget || k == 0 {
            for (inputs, r) in &subset {
                std::hint::black_box(reference::evaluate(inputs, r, &sem));
                k += 1;
            }
        }
        Some(start.elapsed().as_nanos() as f64 / k as f64)
    };
    Ok(Report {
        subject: label,
        statements: stats.statements,
        requests: requests.len(),
        compile_ms: compile.as_secs_f64() * 1e3,
        index_bytes: stats.index_bytes,
        rss_delta_bytes: rss_delta,
        mean_ns: lat.mean(),
        p50_ns: lat.percentile(0.5),
        p99_ns: lat.percentile(0.99),
        throughput_1,
        throughput_n,
        threads: rayon::current_num_threads(),
        reference_mean_ns,
        outcomes,
    })
}

fn read_requests(path: &std::path::Path) -> Result<Vec<Request>, LoadError> {
    let text = load::read_text(path, 1024 * 1024 * 1024)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<RequestJson>(l)
                .map_err(|e| e.to_string())
                .and_then(|r| r.to_request().map_err(|e| e.to_string()))
                .map_err(|e| LoadError(format!("{}:{}: {e}", path.display(), i + 1)))
        })
        .collect()
}

/// Requests from the store itself: each known caller against each resource and a few actions
/// of the catalog.
fn synthesize(store: &Store) -> Vec<Request> {
    use crate::request::Caller;
    let mut callers = Vec::new();
    for a in store.accounts() {
        for u in a.users() {
            callers.extend(
                Caller::parse(&format!("arn:aws:iam::{}:user{}{}", a.id, u.path, u.name)).ok(),
            );
        }
        for r in a.roles() {
            callers.extend(
                Caller::parse(&format!(
                    "arn:aws:sts::{}:assumed-role/{}/bench",
                    a.id, r.name
                ))
                .ok(),
            );
        }
    }
    let mut resources: Vec<String> = store.resources().map(|r| r.arn.clone()).collect();
    for d in store.policies() {
        for s in &d.policy.statements {
            if let Some(el) = &s.resource {
                resources.extend(
                    el.patterns
                        .iter()
                        .filter(|p| p.template.is_literal())
                        .map(|p| p.raw.clone()),
                );
            }
        }
    }
    resources.sort();
    resources.dedup();
    let actions = [
        "kinesis:PutRecord",
        "kinesis:GetRecords",
        "kinesis:DescribeStreamSummary",
        "kinesis:SubscribeToShard",
        "kinesis:ListStreams",
        "kinesis:DeleteStream",
    ];
    let mut out = Vec::new();
    for c in &callers {
        for r in &resources {
            for a in actions {
                let res = if a == "kinesis:ListStreams" {
                    "*"
                } else {
                    r.as_str()
                };
                out.push(Request::new(c.clone(), a, res));
            }
        }
    }
    out
}

fn render(r: &Report) -> String {
    let mut s = format!("{}\n", r.subject);
    s.push_str(&format!(
        "  statements {}   requests {}   outcomes allow/explicit/implicit {}/{}/{}\n",
        r.statements, r.requests, r.outcomes[0], r.outcomes[1], r.outcomes[2]
    ));
    s.push_str(&format!(
        "  compile {:.2} ms   index {:.1} KiB ({:.0} B/statement)   RSS +{:.1} MiB\n",
        r.compile_ms,
        r.index_bytes as f64 / 1024.0,
        r.index_bytes as f64 / r.statements.max(1) as f64,
        r.rss_delta_bytes as f64 / 1048576.0
    ));
    s.push_str(&format!(
        "  per decision (1 thread): mean {:.0} ns   p50 {:.0} ns   p99 {:.0} ns\n",
        r.mean_ns, r.p50_ns, r.p99_ns
    ));
    s.push_str(&format!(
        "  throughput: {:.2} M/s on 1 thread, {:.2} M/s on {} threads (batch, Zipf stream)\n",
        r.throughput_1 / 1e6,
        r.throughput_n / 1e6,
        r.threads
    ));
    if let Some(refns) = r.reference_mean_ns {
        s.push_str(&format!(
            "  reference evaluator: mean {:.0} ns per decision ({:.1}x the compiled mean)\n",
            refns,
            refns / r.mean_ns.max(1.0)
        ));
    }
    s
}

/// Per-decision latencies, each decision timed on its own, sorted.
pub(crate) struct Latencies(Vec<u64>);

impl Latencies {
    /// Decides `requests` over and over for at least `budget` (and at least once each).
    pub(crate) fn measure<D>(
        requests: &[Request],
        budget: Duration,
        mut decide: impl FnMut(&Request) -> D,
    ) -> Latencies {
        let mut samples: Vec<u64> = Vec::new();
        let start = Instant::now();
        'outer: loop {
            for r in requests {
                let t = Instant::now();
                let d = decide(r);
                let ns = t.elapsed().as_nanos();
                std::hint::black_box(d);
                samples.push(u64::try_from(ns).unwrap_or(u64::MAX));
                if start.elapsed() > budget && samples.len() >= requests.len() {
                    break 'outer;
                }
            }
        }
        samples.sort_unstable();
        Latencies(samples)
    }

    /// The `p` quantile (0.5 for the median), in nanoseconds.
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        let i = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0.get(i).copied().unwrap_or(0) as f64
    }

    /// The mean, in nanoseconds.
    pub(crate) fn mean(&self) -> f64 {
        self.0.iter().sum::<u64>() as f64 / self.0.len().max(1) as f64
    }
}

/// Decisions per second on one thread over `budget`, without timing each call.
pub(crate) fn throughput<D>(
    requests: &[Request],
    budget: Duration,
    mut decide: impl FnMut(&Request) -> D,
) -> f64 {
    let mut n = 0usize;
    let start = Instant::now();
    while start.elapsed() < budget {
        for r in requests {
            std::hint::black_box(decide(r));
        }
        n += requests.len();
    }
    n as f64 / start.elapsed().as_secs_f64()
}
