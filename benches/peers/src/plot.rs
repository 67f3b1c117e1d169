//! The plot: p50 against statements, log-log, one line per engine, one panel per tier (SVG).

use iamc::workload::{Mix, Tier};
use std::fmt::Write as _;
use std::time::Duration;

use crate::*;

// ---------------------------------------------------------------------------------------------
// The plot: p50 against statements, log-log, one line per engine, one panel per tier

pub(crate) fn tier_label(t: Tier) -> &'static str {
    match t {
        Tier::S1 => "S1 exact",
        Tier::S2 => "S2 mixed",
        Tier::S3 => "S3 conditions",
        Tier::S4 => "S4 not-elements",
        Tier::S5 => "S5 full IAM",
    }
}

pub(crate) fn ns_label(e: i32) -> String {
    match e {
        ..=2 => format!("{} ns", 10f64.powi(e)),
        3..=5 => format!("{} µs", 10f64.powi(e - 3)),
        6..=8 => format!("{} ms", 10f64.powi(e - 6)),
        _ => format!("{} s", 10f64.powi(e - 9)),
    }
}

pub(crate) fn svg(rows: &[Row], mix: Mix) -> String {
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
