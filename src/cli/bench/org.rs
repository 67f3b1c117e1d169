//! `iamc bench --workload org`: the generated organization store ([`crate::workload::org`]),
//! measured the way a deployment meets it: the store is written to a folder and loaded from
//! there (parse and validate), the engine is built from it, and every decision goes through
//! [`Authorizer::authorize_with`] (the store completes the request, then the engine decides),
//! and again through [`Authorizer::decide_with`], the outcome-only fast path.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{rss_bytes, throughput, Args, Latencies};
use crate::cli::load::LoadError;
use crate::eval::{reference, Outcome};
use crate::request::Request;
use crate::semantics::Semantics;
use crate::store::Store;
use crate::workload::org::{self, OrgSize, OrgSummary};
use crate::workload::zipf_indices;
use crate::Authorizer;

/// The figures of the organization workload.
#[derive(Debug, Serialize)]
pub struct OrgReport {
    /// What was measured.
    pub subject: String,
    /// What the generator built.
    pub generated: OrgSummary,
    /// Statements the loaded store holds.
    pub statements: usize,
    /// Distinct requests.
    pub requests: usize,
    /// Generating the store and requests, milliseconds.
    pub generate_ms: f64,
    /// Writing the store folder, milliseconds.
    pub write_ms: f64,
    /// `Store::load` on the folder (read, parse, validate), milliseconds.
    pub load_ms: f64,
    /// `Authorizer::new` (the engine build), milliseconds.
    pub build_ms: f64,
    /// Resident memory after loading the store, bytes (0 where unknown).
    pub rss_after_load_bytes: usize,
    /// Resident memory after building the engine, bytes.
    pub rss_after_build_bytes: usize,
    /// Peak resident memory of the process so far, bytes (VmHWM).
    pub rss_peak_bytes: usize,
    /// Single thread, `Authorizer::authorize`: nanoseconds per decision.
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: f64,
    /// 99th percentile.
    pub p99_ns: f64,
    /// Decisions per second on one thread (untimed loop).
    pub throughput_1: f64,
    /// Decisions per second on all cores (`Authorizer::authorize_batch`, Zipf stream).
    pub throughput_n: f64,
    /// Single thread, outcome only (`Authorizer::decide_with`): nanoseconds per decision.
    pub outcome_mean_ns: f64,
    /// Median.
    pub outcome_p50_ns: f64,
    /// 99th percentile.
    pub outcome_p99_ns: f64,
    /// Outcomes per second on one thread.
    pub outcome_throughput_1: f64,
    /// Outcomes per second on all cores (`Authorizer::decide_batch`, the same Zipf stream).
    pub outcome_throughput_n: f64,
    /// Threads used for `throughput_n`.
    pub threads: usize,
    /// Decisions: allow / explicit deny / implicit deny.
    pub outcomes: [usize; 3],
    /// The reference evaluator on the first 1,000 requests, nanoseconds per decision, if run.
    pub reference_mean_ns: Option<f64>,
    /// Of those, how many the reference decides as the authorizer does.
    pub reference_agrees: Option<usize>,
    /// Requests compared with the reference.
    pub reference_compared: usize,
}

fn peak_rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn outcome_index(o: Outcome) -> usize {
    match o {
        Outcome::Allow => 0,
        Outcome::ExplicitDeny => 1,
        Outcome::ImplicitDeny => 2,
    }
}

/// What `--workload org` did: wrote the files only, or measured.
pub enum OrgRun {
    /// `--write-only`: where the store and the requests went.
    Written(String),
    /// The figures.
    Measured(Box<OrgReport>),
}

/// Generates, writes, loads, builds and measures.
pub fn run(args: &Args) -> Result<OrgRun, LoadError> {
    let size = OrgSize {
        accounts: args.accounts,
        principals: args.principals,
        streams: args.streams,
    };
    let t = Instant::now();
    let generated = org::generate(size, args.count, 42);
    let generate_ms = t.elapsed().as_secs_f64() * 1e3;
    let (dir, temporary) = match &args.write_store {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("iamc-bench-org-{}", std::process::id())),
            true,
        ),
    };
    let t = Instant::now();
    generated
        .write(&dir)
        .map_err(|e| LoadError(format!("{}: cannot write the store: {e}", dir.display())))?;
    let write_ms = t.elapsed().as_secs_f64() * 1e3;
    if let Some(f) = &args.write_requests {
        std::fs::write(f, generated.requests_jsonl())
            .map_err(|e| LoadError(format!("{}: cannot write: {e}", f.display())))?;
    }
    let s = &generated.summary;
    if args.write_only {
        let mut msg = format!(
            "wrote {}: {} accounts, {} users, {} groups, {} roles ({} with a boundary), {} streams, {} consumers, {} resource policies, {} statements in {} files and store.json",
            dir.display(),
            s.accounts,
            s.users,
            s.groups,
            s.roles,
            s.with_boundary,
            s.streams,
            s.consumers,
            s.resource_policies,
            s.statements,
            s.files,
        );
        if let Some(f) = &args.write_requests {
            msg.push_str(&format!("\nwrote {}: {} requests", f.display(), s.requests));
        }
        return Ok(OrgRun::Written(msg));
    }
    let measured = measure(args, &generated, &dir, generate_ms, write_ms);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    measured.map(|r| OrgRun::Measured(Box::new(r)))
}

fn measure(
    args: &Args,
    generated: &org::OrgStore,
    dir: &Path,
    generate_ms: f64,
    write_ms: f64,
) -> Result<OrgReport, LoadError> {
    let sem = Semantics::default();
    let t = Instant::now();
    let store = Store::load(dir).map_err(|d| {
        LoadError(
            d.iter()
                .map(|d| format!("{}: {d}", dir.display()))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_after_load_bytes = rss_bytes();
    let statements = store.stats().statements;
    let t = Instant::now();
    let authorizer = Authorizer::new(Arc::new(store), sem.clone())
        .map_err(|e| LoadError(format!("the engine was not built: {e}")))?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_after_build_bytes = rss_bytes();
    let requests: Vec<Request> = generated.requests();
    if requests.is_empty() {
        return Err(LoadError("no requests to replay".into()));
    }

    // Warm up, and count outcomes.
    let mut outcomes = [0usize; 3];
    for r in &requests {
        outcomes[outcome_index(authorizer.authorize(r).decision)] += 1;
    }
    let budget = Duration::from_secs_f64(args.seconds.max(0.1));
    // Caller-owned scratch, one per thread, as the library's docs ask.
    let mut scratch = crate::compile::Scratch::default();
    let lat = Latencies::measure(&requests, budget, |r| {
        authorizer.authorize_with(&mut scratch, r)
    });
    let throughput_1 = throughput(&requests, budget, |r| {
        authorizer.authorize_with(&mut scratch, r)
    });
    let fast = Latencies::measure(&requests, budget, |r| {
        authorizer.decide_with(&mut scratch, r)
    });
    let outcome_throughput_1 = throughput(&requests, budget, |r| {
        authorizer.decide_with(&mut scratch, r)
    });
    let idx = zipf_indices(requests.len(), args.batch, 1.0, 4);
    let stream: Vec<Request> = idx
        .iter()
        .filter_map(|i| requests.get(*i).cloned())
        .collect();
    let start = Instant::now();
    let decisions = authorizer.authorize_batch(&stream);
    let throughput_n = decisions.len() as f64 / start.elapsed().as_secs_f64();
    drop(decisions);
    let mut out = vec![Outcome::ImplicitDeny; stream.len()];
    let start = Instant::now();
    authorizer.decide_batch(&stream, &mut out);
    let outcome_throughput_n = out.len() as f64 / start.elapsed().as_secs_f64();
    drop(out);
    drop(stream);

    // The reference evaluator on a fixed subset (benchmark rule 5), and the correctness gate.
    let subset: Vec<_> = requests
        .iter()
        .take(1000)
        .map(|r| {
            let prepared = authorizer.prepare(r.clone());
            let inputs = authorizer.store().inputs_for(&prepared);
            let decided = authorizer.authorize(r).decision;
            (inputs, prepared, decided)
        })
        .collect();
    let agrees = subset
        .iter()
        .filter(|(inputs, p, d)| reference::evaluate(inputs, p, &sem).decision == *d)
        .count();
    let reference_mean_ns = if args.no_reference {
        None
    } else {
        let start = Instant::now();
        let mut k = 0usize;
        while start.elapsed() < budget || k == 0 {
            for (inputs, p, _) in &subset {
                std::hint::black_box(reference::evaluate(inputs, p, &sem));
                k += 1;
            }
        }
        Some(start.elapsed().as_nanos() as f64 / k as f64)
    };
    let s = &generated.summary;
    Ok(OrgReport {
        subject: format!(
            "workload org: {} accounts, {} users and roles, {} streams (seed 42)",
            s.accounts,
            s.users + s.roles,
            s.streams
        ),
        generated: s.clone(),
        statements,
        requests: requests.len(),
        generate_ms,
        write_ms,
        load_ms,
        build_ms,
        rss_after_load_bytes,
        rss_after_build_bytes,
        rss_peak_bytes: peak_rss_bytes(),
        mean_ns: lat.mean(),
        p50_ns: lat.percentile(0.5),
        p99_ns: lat.percentile(0.99),
        throughput_1,
        throughput_n,
        outcome_mean_ns: fast.mean(),
        outcome_p50_ns: fast.percentile(0.5),
        outcome_p99_ns: fast.percentile(0.99),
        outcome_throughput_1,
        outcome_throughput_n,
        threads: rayon::current_num_threads(),
        outcomes,
        reference_mean_ns,
        reference_agrees: Some(agrees),
        reference_compared: subset.len(),
    })
}

/// The report as a readable table.
pub fn render(r: &OrgReport) -> String {
    let g = &r.generated;
    let mib = |b: usize| b as f64 / 1048576.0;
    let total = r.outcomes.iter().sum::<usize>().max(1) as f64;
    let mut s = format!("{}\n", r.subject);
    s.push_str(&format!(
        "  store: {} accounts, {} users, {} groups, {} roles ({} with a boundary), {} streams, {} consumers, {} resource policies, {} statements\n",
        g.accounts, g.users, g.groups, g.roles, g.with_boundary, g.streams, g.consumers, g.resource_policies, r.statements
    ));
    s.push_str(&format!(
        "  requests {}   allow/explicit/implicit {}/{}/{} ({:.0}%/{:.0}%/{:.0}%)\n",
        r.requests,
        r.outcomes[0],
        r.outcomes[1],
        r.outcomes[2],
        100.0 * r.outcomes[0] as f64 / total,
        100.0 * r.outcomes[1] as f64 / total,
        100.0 * r.outcomes[2] as f64 / total,
    ));
    s.push_str(&format!(
        "  store load (read, parse, validate) {:.1} ms   engine build {:.1} ms   (generate {:.1} ms, write {:.1} ms)\n",
        r.load_ms, r.build_ms, r.generate_ms, r.write_ms
    ));
    s.push_str(&format!(
        "  resident memory: {:.1} MiB after load, {:.1} MiB after build, peak {:.1} MiB\n",
        mib(r.rss_after_load_bytes),
        mib(r.rss_after_build_bytes),
        mib(r.rss_peak_bytes)
    ));
    s.push_str(&format!(
        "  per decision (1 thread, Authorizer::authorize_with): mean {:.0} ns   p50 {:.0} ns   p99 {:.0} ns\n",
        r.mean_ns, r.p50_ns, r.p99_ns
    ));
    s.push_str(&format!(
        "  throughput: {:.3} M/s on 1 thread, {:.3} M/s on {} threads (authorize_batch, Zipf stream)\n",
        r.throughput_1 / 1e6,
        r.throughput_n / 1e6,
        r.threads
    ));
    s.push_str(&format!(
        "  outcome only (Authorizer::decide_with): mean {:.0} ns   p50 {:.0} ns   p99 {:.0} ns; {:.3} M/s on 1 thread, {:.3} M/s on {} threads (decide_batch)\n",
        r.outcome_mean_ns,
        r.outcome_p50_ns,
        r.outcome_p99_ns,
        r.outcome_throughput_1 / 1e6,
        r.outcome_throughput_n / 1e6,
        r.threads
    ));
    if let Some(refns) = r.reference_mean_ns {
        s.push_str(&format!(
            "  reference evaluator: mean {:.0} ns per decision ({:.2}x the authorizer's mean)\n",
            refns,
            refns / r.mean_ns.max(1.0)
        ));
    }
    if let Some(a) = r.reference_agrees {
        let verdict = if a == r.reference_compared {
            "agrees"
        } else {
            "DISAGREES: the run is void"
        };
        s.push_str(&format!(
            "  reference {verdict} on {a} of {} requests\n",
            r.reference_compared
        ));
    }
    s
}
