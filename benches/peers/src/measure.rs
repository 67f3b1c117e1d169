//! One engine on one workload, measured in a child process of its own: times, resident-memory
//! growth, decisions.

use iamc::ast::{Inputs, PolicyDoc, PolicyType};
use iamc::compile::Engine;
use iamc::eval::{reference, Outcome};
use iamc::parse::{parse_policy, Limits};
use iamc::semantics::Semantics;
use iamc::workload::{self, Mix, Tier};
use serde_json::Value;
use std::time::{Duration, Instant};

use crate::*;

// ---------------------------------------------------------------------------------------------
// One engine on one workload, measured in a child process of its own

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Eng {
    Reference,
    Compiled,
    Cedar,
    Rego,
}

impl Eng {
    pub(crate) const ALL: [Eng; 4] = [Eng::Compiled, Eng::Reference, Eng::Cedar, Eng::Rego];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Eng::Reference => "iamc reference",
            Eng::Compiled => "iamc compiled",
            Eng::Cedar => "Cedar",
            Eng::Rego => "regorus",
        }
    }

    pub(crate) fn arg(self) -> &'static str {
        match self {
            Eng::Reference => "reference",
            Eng::Compiled => "compiled",
            Eng::Cedar => "cedar",
            Eng::Rego => "regorus",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Eng> {
        Eng::ALL.into_iter().find(|e| e.arg() == s)
    }

    pub(crate) fn color(self) -> &'static str {
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
pub(crate) fn trim() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: malloc_trim takes no pointers; it only releases glibc's own free memory.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn trim() {}

/// This process's anonymous resident memory in KiB (`RssAnon` of /proc/self/status: heap,
/// stacks and anonymous maps, not the pages of the binary's code), after `trim`.
pub(crate) fn rss_anon_kb() -> Result<i64, String> {
    trim();
    let s = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    s.lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no RssAnon in /proc/self/status".into())
}

/// Times `decide` on requests `from..to`, one call at a time.
pub(crate) fn time_each(
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
pub(crate) fn run_engine(
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

pub(crate) struct Measured {
    pub(crate) build: Duration,
    /// Resident memory before the build, after it, and after the timed decisions (KiB).
    pub(crate) base_kb: i64,
    pub(crate) built_kb: i64,
    pub(crate) after_kb: i64,
    /// The decisions: the timed ones, then any untimed ones for the gate.
    pub(crate) decisions: Vec<bool>,
    pub(crate) times: Vec<Duration>,
}

/// Builds an engine and times its decisions, reading resident memory around the build; the
/// engine stays alive until the last reading. After the timed requests, decides untimed up to
/// `gate` requests in all (the reference's decisions for the gate of faster engines).
pub(crate) fn measure<E>(
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
pub(crate) fn stats(times: &mut [Duration]) -> (Duration, Duration, Duration) {
    if times.is_empty() {
        return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    }
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    times.sort_unstable();
    let rank = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    (mean, rank(0.50), rank(0.99))
}

/// The child process: one engine on one workload; prints one JSON line.
pub(crate) fn child(eng: Eng, tier: Tier, size: usize, mix: Mix) -> Result<Value, String> {
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
