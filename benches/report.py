#!/usr/bin/env python3
"""Runs the benchmark workloads of shared/benchmark.md through `iamc bench` and writes
BENCHMARKS.md and benches/scaling.svg.

    python3 benches/report.py            # full run: tiers S1-S5, sizes 10..100,000, mixes M1, M3
    python3 benches/report.py --quick    # sizes 10..10,000, mix M1 only

Each row is one `iamc bench --workload T --size N --mix M --format json` run: compile time,
index memory, time per decision on one thread (mean, p50, p99; each decision timed on its
own), throughput on 1 thread and on all cores (the batch API over a Zipf stream of 1,000,000
requests, mix M4), and the reference evaluator's mean on a fixed subset of 1,000 requests.
"""
import datetime
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "iamc")
TIERS = ["S1", "S2", "S3", "S4", "S5"]


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({model}){mem}, {platform.system()} {platform.release()}"


def run(tier, size, mix, seconds):
    cmd = [BIN, "bench", "--workload", tier, "--size", str(size), "--mix", mix,
           "--seconds", str(seconds), "--format", "json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    r["tier"], r["size"], r["mix"] = tier, size, mix
    print(f"{tier} {size:>6} {mix}: p50 {r['p50_ns']:.0f} ns, mean {r['mean_ns']:.0f} ns, "
          f"ref {r['reference_mean_ns'] or 0:.0f} ns", file=sys.stderr)
    return r


def svg(rows, path):
    """Log-log plot of p50 time per decision against statements, one line per tier, and the
    reference evaluator's mean for S2."""
    import math
    w, h, left, bottom, top, right = 720, 440, 70, 50, 30, 150
    xs = sorted({r["size"] for r in rows})
    series = {}
    for r in rows:
        if r["mix"] != "M1":
            continue
        series.setdefault(f"compiled {r['tier']} (p50)", []).append((r["size"], r["p50_ns"]))
        if r["tier"] == "S2" and r["reference_mean_ns"]:
            series.setdefault("reference S2 (mean)", []).append((r["size"], r["reference_mean_ns"]))
    ys = [y for s in series.values() for _, y in s if y > 0]
    if not ys:
        return
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    px = lambda x: left + (math.log10(x) - x0) / max(x1 - x0, 1e-9) * (w - left - right)
    py = lambda y: h - bottom - (math.log10(y) - y0) / max(y1 - y0, 1e-9) * (h - bottom - top)
    colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#555555"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w/2 - 60}" y="18" font-size="14">Time per decision vs statements</text>']
    for x in xs:
        out.append(f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{h-bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{px(x)-15:.1f}" y="{h-bottom+18}">{x:,}</text>')
    for e in range(y0, y1 + 1):
        y = 10 ** e
        label = f"{y:,} ns" if y < 1e6 else f"{y/1e6:g} ms"
        out.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{w-right}" y2="{py(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="5" y="{py(y)+4:.1f}">{label}</text>')
    out.append(f'<text x="{w/2 - 40}" y="{h-10}">statements (log)</text>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        c = colors[i % len(colors)]
        pts = sorted(p for p in pts if p[1] > 0)
        d = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        dash = ' stroke-dasharray="6,4"' if name.startswith("reference") else ""
        out.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"{dash}/>')
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{w-right+10}" y="{top+20+18*i}" fill="{c}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    quick = "--quick" in sys.argv
    sizes = [10, 100, 1000, 10000] if quick else [10, 100, 1000, 10000, 100000]
    mixes = ["M1"] if quick else ["M1", "M3"]
    seconds = 0.5 if quick else 1.0
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    rows = [run(t, n, m, seconds) for t in TIERS for n in sizes for m in mixes]
    command = "python3 benches/report.py" + (" --quick" if quick else "")
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Measured {date} on {machine()}, with `{command}`",
        "(release build; each row is `iamc bench --workload TIER --size N --mix MIX --format json`).",
        "Workloads are those of `shared/benchmark.md`, generated from a fixed seed by `src/workload/tiers.rs`.",
        "Criterion benchmarks of the same workloads: `cargo bench --bench engine`.",
        "",
        "Columns: p50/p99/mean are nanoseconds per decision on one thread, each decision timed on its",
        "own (the timer adds about 20-40 ns); `1 thread` and `all cores` are decisions per second",
        "without per-call timing (all cores: `Engine::authorize_batch` over a Zipf stream of 1,000,000",
        "requests, mix M4); `reference` is the reference evaluator's mean on a fixed subset of 1,000",
        "requests; `index` is the compiled indexes' heap size per statement.",
        "",
        "![time per decision against statements](benches/scaling.svg)",
        "",
    ]
    for mix in mixes:
        lines += [f"## Mix {mix}", "",
                  "| tier | statements | p50 ns | p99 ns | mean ns | 1 thread /s | all cores /s | reference ns | ref/compiled | compile ms | index B/stmt | allow/explicit/implicit |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in rows:
            if r["mix"] != mix:
                continue
            ref = r["reference_mean_ns"]
            lines.append(
                f"| {r['tier']} | {r['size']:,} | {r['p50_ns']:.0f} | {r['p99_ns']:.0f} | {r['mean_ns']:.0f} "
                f"| {r['throughput_1']/1e6:.2f} M | {r['throughput_n']/1e6:.2f} M "
                f"| {ref:,.0f} | {ref / r['mean_ns']:.1f}x "
                f"| {r['compile_ms']:.1f} | {r['index_bytes']/max(r['statements'],1):.0f} "
                f"| {'/'.join(str(o) for o in r['outcomes'])} |")
        lines.append("")
    with open(os.path.join(ROOT, "benches", "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    svg(rows, os.path.join(ROOT, "benches", "scaling.svg"))
    body = "\n".join(lines) + "\n"
    path = os.path.join(ROOT, "BENCHMARKS.md")
    tail = ""
    if os.path.exists(path):
        text = open(path).read()
        marker = "<!-- notes: kept by report.py -->"
        if marker in text:
            tail = text[text.index(marker):]
    with open(path, "w") as f:
        f.write(body + ("\n" + tail if tail else ""))


if __name__ == "__main__":
    main()
