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
use std::time::{Duration, Instant};

use iamc::workload::{Mix, Tier};

mod measure;
mod plot;
mod report;
mod translate;

use measure::*;
use plot::*;
use report::*;
use translate::*;

pub(crate) const SEED: u64 = 42;
/// Engines slower than this per decision (over the first `PROBE` requests) are timed on the
/// first `SUBSET` requests only.
pub(crate) const SLOW: Duration = Duration::from_millis(1);
pub(crate) const PROBE: usize = 50;
pub(crate) const SUBSET: usize = 500;
/// A slow reference still decides this many requests (untimed past `SUBSET`), for the gate.
pub(crate) const GATE_MIN: usize = 2_000;
/// Sizes above this are run for iamc alone.
pub(crate) const PEER_MAX: usize = 10_000;
/// Statements per policy document, as `workload::policies` groups them.
pub(crate) const PER_POLICY: usize = 100;
/// Rego statements per module, to stay under regorus's policy length limits.
pub(crate) const PER_MODULE: usize = 500;

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
