//! The parent: one child per engine, tier, size and mix; the gate (every engine agrees with the
//! reference); the report's tables and summary.

use iamc::workload::{self, Mix, Tier};
use serde_json::Value;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::*;

// ---------------------------------------------------------------------------------------------
// The parent: one child per engine, tier, size and mix; the gate; the report

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) tier: Tier,
    pub(crate) size: usize,
    pub(crate) mix: Mix,
    pub(crate) engine: Eng,
    pub(crate) build: Duration,
    pub(crate) built_kb: i64,
    pub(crate) after_kb: i64,
    pub(crate) requests: usize,
    pub(crate) gated: usize,
    pub(crate) allowed: usize,
    pub(crate) mean: Duration,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
}

pub(crate) struct Spawned {
    pub(crate) row: Row,
    pub(crate) decisions: Vec<bool>,
    pub(crate) notes: Vec<String>,
}

pub(crate) fn spawn(eng: Eng, tier: Tier, size: usize, mix: Mix) -> Result<Spawned, String> {
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
pub(crate) fn gate(
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

pub(crate) fn run_one(
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

pub(crate) fn us(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1e3)
    } else if us >= 100.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.2} µs")
    }
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

pub(crate) fn mem(kb: i64) -> String {
    if kb.abs() >= 1024 {
        format!("{:.1} MiB", kb as f64 / 1024.0)
    } else {
        format!("{kb} KiB")
    }
}

pub(crate) fn ratio(x: f64) -> String {
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

pub(crate) fn thousands(n: usize) -> String {
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
pub(crate) fn compiled_p50(rows: &[Row], r: &Row) -> Option<Duration> {
    rows.iter()
        .find(|c| {
            c.engine == Eng::Compiled && c.tier == r.tier && c.size == r.size && c.mix == r.mix
        })
        .map(|c| c.p50)
}

pub(crate) fn table(rows: &[Row], mix: Mix) -> String {
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

pub(crate) fn range<T: PartialOrd + Copy>(xs: impl Iterator<Item = T>) -> Option<(T, T)> {
    xs.fold(None, |acc, x| match acc {
        None => Some((x, x)),
        Some((lo, hi)) => Some((if x < lo { x } else { lo }, if x > hi { x } else { hi })),
    })
}

/// `lo to hi`, or one figure when they are the same.
pub(crate) fn span(lo: &str, hi: &str) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo} to {hi}")
    }
}

/// A few lines that read the tables: each engine at the largest size the peers ran, and iamc at
/// the largest size.
pub(crate) fn summary(rows: &[Row], mixes: &[Mix]) -> String {
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
