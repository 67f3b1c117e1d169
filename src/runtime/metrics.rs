//! Prometheus metrics shared by `iamc serve` and `iamc gateway`, written by hand in the text
//! exposition format (version 0.0.4): counters and fixed-bucket histograms over atomics, so
//! the request path takes no lock.
//!
//! [`HttpMetrics`] is what both front ends count the same way, under the same names:
//! `iamc_decisions_total{outcome}`, `iamc_http_requests_total{route,status}` and
//! `iamc_request_duration_seconds{route}`. Each front end adds its own metrics with a
//! [`Text`] writer.

use std::fmt::{Display, Write as _};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::eval::Outcome;

/// Upper bounds of the latency buckets, in seconds.
pub(crate) const LATENCY_BUCKETS: [f64; 15] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];

/// A fixed-bucket histogram. `counts[i]` counts observations in bucket `i` alone (the last one
/// is +Inf); rendering makes them cumulative.
pub(crate) struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    /// The sum, in millionths of the unit (microseconds for latencies).
    sum_micro: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micro: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub(crate) fn observe(&self, value: f64) {
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
}

/// The exposition text being written.
pub(crate) struct Text(String);

impl Text {
    pub(crate) fn new() -> Text {
        Text(String::with_capacity(8192))
    }

    /// The `# HELP` and `# TYPE` lines of a metric.
    pub(crate) fn head(&mut self, name: &str, ty: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {ty}");
    }

    /// One sample; `labels` is `key="value",…` or empty.
    pub(crate) fn sample(&mut self, name: &str, labels: &str, value: impl Display) {
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {value}");
        } else {
            let _ = writeln!(self.0, "{name}{{{labels}}} {value}");
        }
    }

    /// A metric of one sample, with its head.
    pub(crate) fn single(&mut self, name: &str, ty: &str, help: &str, value: impl Display) {
        self.head(name, ty, help);
        self.sample(name, "", value);
    }

    /// The samples of a histogram (its head written before).
    pub(crate) fn histogram(&mut self, name: &str, labels: &str, h: &Histogram) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0u64;
        for (i, c) in h.counts.iter().enumerate() {
            cumulative += c.load(Relaxed);
            let le = match h.bounds.get(i) {
                Some(b) => format!("{b}"),
                None => "+Inf".to_string(),
            };
            let _ = writeln!(
                self.0,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = h.sum_micro.load(Relaxed) as f64 / 1e6;
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, h.count.load(Relaxed));
    }

    pub(crate) fn finish(self) -> String {
        self.0
    }
}

/// The routes a front end keeps apart in its metrics.
pub(crate) trait MetricRoute: Copy + PartialEq + 'static {
    /// Every route, in the order they are rendered.
    const ALL: &'static [Self];
    /// The route's label.
    fn as_str(self) -> &'static str;
    /// Whether the route decides requests (its latency goes into the histogram).
    fn decides(self) -> bool;
}

fn index<R: MetricRoute>(route: R) -> usize {
    R::ALL.iter().position(|r| *r == route).unwrap_or_default()
}

const OUTCOMES: [Outcome; 3] = [Outcome::Allow, Outcome::ExplicitDeny, Outcome::ImplicitDeny];
const CLASSES: [&str; 3] = ["2xx", "4xx", "5xx"];

/// What both front ends count: decisions by outcome, requests by route and status class, and
/// the latency of the deciding routes.
pub(crate) struct HttpMetrics<R> {
    decisions: [AtomicU64; 3],
    /// route x status class (2xx, 4xx, 5xx).
    requests: Vec<[AtomicU64; 3]>,
    latency: Vec<Histogram>,
    routes: PhantomData<R>,
}

pub(crate) fn zeros<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

impl<R: MetricRoute> HttpMetrics<R> {
    pub(crate) fn new() -> HttpMetrics<R> {
        HttpMetrics {
            decisions: zeros(),
            requests: R::ALL.iter().map(|_| zeros()).collect(),
            latency: R::ALL
                .iter()
                .map(|_| Histogram::new(&LATENCY_BUCKETS))
                .collect(),
            routes: PhantomData,
        }
    }

    /// Counts one decision.
    pub(crate) fn decision(&self, outcome: Outcome) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            if let Some(c) = self.decisions.get(i) {
                c.fetch_add(1, Relaxed);
            }
        }
    }

    /// Decisions with `outcome` so far.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn decisions(&self, outcome: Outcome) -> u64 {
        OUTCOMES
            .iter()
            .position(|o| *o == outcome)
            .and_then(|i| self.decisions.get(i))
            .map_or(0, |c| c.load(Relaxed))
    }

    /// Counts one answer.
    pub(crate) fn request(&self, route: R, status: u16, elapsed: Duration) {
        let class = match status {
            500.. => 2,
            400..=499 => 1,
            _ => 0,
        };
        let i = index(route);
        if let Some(c) = self.requests.get(i).and_then(|r| r.get(class)) {
            c.fetch_add(1, Relaxed);
        }
        if route.decides() {
            if let Some(h) = self.latency.get(i) {
                h.observe(elapsed.as_secs_f64());
            }
        }
    }

    /// Requests of `route` answered so far, whatever their status.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn requests(&self, route: R) -> u64 {
        self.requests
            .get(index(route))
            .map_or(0, |r| r.iter().map(|c| c.load(Relaxed)).sum())
    }

    /// Writes the shared metrics.
    pub(crate) fn render(&self, out: &mut Text) {
        out.head(
            "iamc_decisions_total",
            "counter",
            "Decisions made, by outcome.",
        );
        for (o, c) in OUTCOMES.iter().zip(&self.decisions) {
            let labels = format!("outcome=\"{}\"", o.as_str());
            out.sample("iamc_decisions_total", &labels, c.load(Relaxed));
        }
        out.head(
            "iamc_http_requests_total",
            "counter",
            "HTTP requests answered, by route and status class.",
        );
        for (r, counts) in R::ALL.iter().zip(&self.requests) {
            for (class, c) in CLASSES.iter().zip(counts) {
                let labels = format!("route=\"{}\",status=\"{class}\"", r.as_str());
                out.sample("iamc_http_requests_total", &labels, c.load(Relaxed));
            }
        }
        out.head(
            "iamc_request_duration_seconds",
            "histogram",
            "Time to answer a deciding request, in seconds.",
        );
        for (r, h) in R::ALL.iter().zip(&self.latency) {
            if r.decides() {
                let labels = format!("route=\"{}\"", r.as_str());
                out.histogram("iamc_request_duration_seconds", &labels, h);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, PartialEq, Debug)]
    enum R {
        Decide,
        Other,
    }

    impl MetricRoute for R {
        const ALL: &'static [R] = &[R::Decide, R::Other];
        fn as_str(self) -> &'static str {
            match self {
                R::Decide => "decide",
                R::Other => "other",
            }
        }
        fn decides(self) -> bool {
            self == R::Decide
        }
    }

    #[test]
    fn counts_render_cumulative_buckets_and_only_deciding_routes_are_timed() {
        let m = HttpMetrics::<R>::new();
        m.request(R::Decide, 200, Duration::from_micros(80));
        m.request(R::Decide, 403, Duration::from_millis(3));
        m.request(R::Other, 500, Duration::from_secs(9));
        m.decision(Outcome::Allow);
        m.decision(Outcome::ImplicitDeny);
        m.decision(Outcome::ImplicitDeny);
        assert_eq!(m.requests(R::Decide), 2);
        assert_eq!(m.decisions(Outcome::ImplicitDeny), 2);
        let mut t = Text::new();
        m.render(&mut t);
        let text = t.finish();
        for line in [
            "iamc_decisions_total{outcome=\"Allow\"} 1",
            "iamc_decisions_total{outcome=\"ImplicitDeny\"} 2",
            "iamc_http_requests_total{route=\"decide\",status=\"2xx\"} 1",
            "iamc_http_requests_total{route=\"decide\",status=\"4xx\"} 1",
            "iamc_http_requests_total{route=\"other\",status=\"5xx\"} 1",
            // 80 µs lands in the 0.0001 bucket; 3 ms in 0.005 and every bucket above.
            "iamc_request_duration_seconds_bucket{route=\"decide\",le=\"0.00005\"} 0",
            "iamc_request_duration_seconds_bucket{route=\"decide\",le=\"0.0001\"} 1",
            "iamc_request_duration_seconds_bucket{route=\"decide\",le=\"0.005\"} 2",
            "iamc_request_duration_seconds_bucket{route=\"decide\",le=\"+Inf\"} 2",
            "iamc_request_duration_seconds_count{route=\"decide\"} 2",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(!text.contains("route=\"other\",le="), "{text}");
    }
}
