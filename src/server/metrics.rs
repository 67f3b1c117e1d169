//! Prometheus metrics, written by hand in the text exposition format (version 0.0.4):
//! counters, gauges and fixed-bucket histograms over atomics, so the request path takes no lock.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::error::ErrorCode;
use super::live::{Live, Trigger};
use crate::eval::Outcome;

/// The routes metrics are kept for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Authorize,
    Batch,
    Envoy,
    Health,
    Metrics,
    Store,
    Other,
}

impl Route {
    const ALL: [Route; 7] = [
        Route::Authorize,
        Route::Batch,
        Route::Envoy,
        Route::Health,
        Route::Metrics,
        Route::Store,
        Route::Other,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Route::Authorize => "authorize",
            Route::Batch => "batch",
            Route::Envoy => "envoy",
            Route::Health => "health",
            Route::Metrics => "metrics",
            Route::Store => "store",
            Route::Other => "other",
        }
    }

    fn index(self) -> usize {
        Route::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or_default()
    }

    /// Whether the route decides requests (its latency goes into the histogram).
    fn decides(self) -> bool {
        matches!(self, Route::Authorize | Route::Batch | Route::Envoy)
    }
}

/// Upper bounds of the latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 15] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];
/// Upper bounds of the batch-size buckets.
const BATCH_BUCKETS: [f64; 6] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0];

/// A fixed-bucket histogram. `counts[i]` counts observations in bucket `i` alone (the last one
/// is +Inf); rendering makes them cumulative.
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// The sum, in millionths of the unit (microseconds for latencies).
    sum_micro: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micro: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Relaxed);
        }
        // Saturating float-to-int conversion; values are small and non-negative.
        self.sum_micro.fetch_add((value * 1e6) as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Relaxed);
            let le = match self.bounds.get(i) {
                Some(b) => format!("{b}"),
                None => "+Inf".to_string(),
            };
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_micro.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {}", self.count.load(Relaxed));
    }
}

const OUTCOMES: [Outcome; 3] = [Outcome::Allow, Outcome::ExplicitDeny, Outcome::ImplicitDeny];
const CLASSES: [&str; 3] = ["2xx", "4xx", "5xx"];

/// Every metric of a server.
pub(crate) struct Metrics {
    decisions: [AtomicU64; 3],
    /// route x status class (2xx, 4xx, 5xx).
    requests: Vec<[AtomicU64; 3]>,
    latency: Vec<Histogram>,
    batch_sizes: Histogram,
    errors: Vec<AtomicU64>,
    /// trigger x (ok, refused).
    reloads: Vec<[AtomicU64; 2]>,
    pub(crate) log_records: AtomicU64,
    pub(crate) log_dropped: AtomicU64,
    pub(crate) log_rotations: AtomicU64,
    pub(crate) log_write_errors: AtomicU64,
}

fn zeros<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            decisions: zeros(),
            requests: Route::ALL.iter().map(|_| zeros()).collect(),
            latency: Route::ALL
                .iter()
                .map(|_| Histogram::new(&LATENCY_BUCKETS))
                .collect(),
            batch_sizes: Histogram::new(&BATCH_BUCKETS),
            errors: ErrorCode::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            reloads: Trigger::ALL.iter().map(|_| zeros()).collect(),
            log_records: AtomicU64::new(0),
            log_dropped: AtomicU64::new(0),
            log_rotations: AtomicU64::new(0),
            log_write_errors: AtomicU64::new(0),
        }
    }

    pub(crate) fn decision(&self, outcome: Outcome) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            if let Some(c) = self.decisions.get(i) {
                c.fetch_add(1, Relaxed);
            }
        }
    }

    pub(crate) fn request(&self, route: Route, status: u16, elapsed: Duration) {
        let class = match status {
            500.. => 2,
            400..=499 => 1,
            _ => 0,
        };
        if let Some(c) = self.requests.get(route.index()).and_then(|r| r.get(class)) {
            c.fetch_add(1, Relaxed);
        }
        if route.decides() {
            if let Some(h) = self.latency.get(route.index()) {
                h.observe(elapsed.as_secs_f64());
            }
        }
    }

    pub(crate) fn batch_size(&self, n: usize) {
        self.batch_sizes.observe(n as f64);
    }

    pub(crate) fn error(&self, code: ErrorCode) {
        if let Some(c) = self.errors.get(code.index()) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn reload(&self, trigger: Trigger, ok: bool) {
        if let Some(c) = self
            .reloads
            .get(trigger.index())
            .and_then(|r| r.get(usize::from(!ok)))
        {
            c.fetch_add(1, Relaxed);
        }
    }

    /// The Prometheus text.
    pub(crate) fn render(&self, live: Option<&Live>) -> String {
        let mut out = String::with_capacity(8192);
        let head = |out: &mut String, name: &str, ty: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {ty}");
        };

        head(
            &mut out,
            "iamc_decisions_total",
            "counter",
            "Decisions made, by outcome.",
        );
        for (o, c) in OUTCOMES.iter().zip(&self.decisions) {
            let _ = writeln!(
                out,
                "iamc_decisions_total{{outcome=\"{}\"}} {}",
                o.as_str(),
                c.load(Relaxed)
            );
        }

        head(
            &mut out,
            "iamc_http_requests_total",
            "counter",
            "HTTP requests answered, by route and status class.",
        );
        for (r, counts) in Route::ALL.iter().zip(&self.requests) {
            for (class, c) in CLASSES.iter().zip(counts) {
                let _ = writeln!(
                    out,
                    "iamc_http_requests_total{{route=\"{}\",status=\"{class}\"}} {}",
                    r.as_str(),
                    c.load(Relaxed)
                );
            }
        }

        head(
            &mut out,
            "iamc_request_duration_seconds",
            "histogram",
            "Time to answer a deciding request (authorize, batch, envoy), in seconds.",
        );
        for (r, h) in Route::ALL.iter().zip(&self.latency) {
            if r.decides() {
                let labels = format!("route=\"{}\"", r.as_str());
                h.render(&mut out, "iamc_request_duration_seconds", &labels);
            }
        }

        head(
            &mut out,
            "iamc_batch_size",
            "histogram",
            "Requests per batch call.",
        );
        self.batch_sizes.render(&mut out, "iamc_batch_size", "");

        head(
            &mut out,
            "iamc_errors_total",
            "counter",
            "Error responses (and failed batch items), by error code.",
        );
        for (code, c) in ErrorCode::ALL.iter().zip(&self.errors) {
            let _ = writeln!(
                out,
                "iamc_errors_total{{code=\"{}\"}} {}",
                code.as_str(),
                c.load(Relaxed)
            );
        }

        head(
            &mut out,
            "iamc_reloads_total",
            "counter",
            "Store loads, by trigger and result (ok: swapped in; refused: the old store kept serving).",
        );
        for (t, counts) in Trigger::ALL.iter().zip(&self.reloads) {
            for (result, c) in ["ok", "refused"].iter().zip(counts) {
                let _ = writeln!(
                    out,
                    "iamc_reloads_total{{trigger=\"{}\",result=\"{result}\"}} {}",
                    t.as_str(),
                    c.load(Relaxed)
                );
            }
        }

        head(
            &mut out,
            "iamc_ready",
            "gauge",
            "1 once a store has compiled, else 0.",
        );
        let _ = writeln!(out, "iamc_ready {}", u8::from(live.is_some()));
        if let Some(l) = live {
            head(
                &mut out,
                "iamc_store_version",
                "gauge",
                "The live store's version (1 for the first store loaded, then one more per reload).",
            );
            let _ = writeln!(out, "iamc_store_version {}", l.version);
            head(
                &mut out,
                "iamc_store_loaded_timestamp_seconds",
                "gauge",
                "When the live store was swapped in (Unix time).",
            );
            let _ = writeln!(
                out,
                "iamc_store_loaded_timestamp_seconds {:.3}",
                l.loaded_unix()
            );
            let stats = l.authorizer.store().stats();
            head(
                &mut out,
                "iamc_store_policies",
                "gauge",
                "Policies in the live store.",
            );
            let _ = writeln!(out, "iamc_store_policies {}", stats.policies);
            head(
                &mut out,
                "iamc_store_statements",
                "gauge",
                "Statements in the live store.",
            );
            let _ = writeln!(out, "iamc_store_statements {}", stats.statements);
        }

        head(
            &mut out,
            "iamc_decision_log_records_total",
            "counter",
            "Records written to the decision log.",
        );
        let _ = writeln!(
            out,
            "iamc_decision_log_records_total {}",
            self.log_records.load(Relaxed)
        );
        head(
            &mut out,
            "iamc_decision_log_dropped_total",
            "counter",
            "Decision log records dropped because the writer fell behind or failed.",
        );
        let _ = writeln!(
            out,
            "iamc_decision_log_dropped_total {}",
            self.log_dropped.load(Relaxed)
        );
        head(
            &mut out,
            "iamc_decision_log_rotations_total",
            "counter",
            "Decision log rotations.",
        );
        let _ = writeln!(
            out,
            "iamc_decision_log_rotations_total {}",
            self.log_rotations.load(Relaxed)
        );
        head(
            &mut out,
            "iamc_decision_log_write_errors_total",
            "counter",
            "Decision log write, open or rename failures.",
        );
        let _ = writeln!(
            out,
            "iamc_decision_log_write_errors_total {}",
            self.log_write_errors.load(Relaxed)
        );
        out
    }
}
