//! The gateway's counters: Prometheus metrics at `GET /-/metrics` (the ones every front end
//! keeps, [`HttpMetrics`], under the same names as `iamc serve`'s `/metrics`, and the
//! gateway's own: forwarded requests, upstream errors and latency, reloads, the live store and
//! database), and the JSON summary of `GET /-/status`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use hyper::Method;

use crate::eval::Outcome;
use crate::runtime::metrics::{zeros, Histogram, HttpMetrics, MetricRoute, Text, LATENCY_BUCKETS};

/// The gateway's routes, as its metrics keep them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `POST /`: the Kinesis API.
    Kinesis,
    /// `GET /-/status`.
    Status,
    /// `GET /-/metrics`.
    Metrics,
    Other,
}

impl Route {
    pub(crate) fn of(method: &Method, path: &str) -> Route {
        match (method, path) {
            (&Method::POST, "/") => Route::Kinesis,
            (&Method::GET, "/-/status") => Route::Status,
            (&Method::GET, "/-/metrics") => Route::Metrics,
            _ => Route::Other,
        }
    }
}

impl MetricRoute for Route {
    const ALL: &'static [Route] = &[Route::Kinesis, Route::Status, Route::Metrics, Route::Other];

    fn as_str(self) -> &'static str {
        match self {
            Route::Kinesis => "kinesis",
            Route::Status => "status",
            Route::Metrics => "metrics",
            Route::Other => "other",
        }
    }

    fn decides(self) -> bool {
        self == Route::Kinesis
    }
}

/// What the gateway serves from now: the gauges of `/-/metrics` and `/-/status`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gauges {
    pub(crate) store_version: u64,
    pub(crate) revision: u64,
    pub(crate) policies: usize,
    pub(crate) credentials: usize,
}

/// Every counter of a gateway.
pub(crate) struct Metrics {
    pub(crate) http: HttpMetrics<Route>,
    forwarded: AtomicU64,
    upstream_errors: AtomicU64,
    /// Time the upstream took to answer a forwarded request (and the gateway's own questions).
    upstream: Histogram,
    /// (ok, refused).
    reloads: [AtomicU64; 2],
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            http: HttpMetrics::new(),
            forwarded: AtomicU64::new(0),
            upstream_errors: AtomicU64::new(0),
            upstream: Histogram::new(&LATENCY_BUCKETS),
            reloads: zeros(),
        }
    }

    /// A request of the Kinesis API was decided (once per request: its first refusing check,
    /// or Allow when every check allowed it).
    pub(crate) fn decision(&self, outcome: Outcome) {
        self.http.decision(outcome);
    }

    pub(crate) fn forwarded(&self) {
        self.forwarded.fetch_add(1, Relaxed);
    }

    /// The upstream answered (whatever its status) after `elapsed`.
    pub(crate) fn upstream_answered(&self, elapsed: Duration) {
        self.upstream.observe(elapsed.as_secs_f64());
    }

    /// The upstream failed or did not answer in time.
    pub(crate) fn upstream_error(&self) {
        self.upstream_errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn reload(&self, ok: bool) {
        if let Some(c) = self.reloads.get(usize::from(!ok)) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// The JSON of `/-/status`.
    pub(crate) fn status(&self, g: Gauges) -> serde_json::Value {
        let denied =
            self.http.decisions(Outcome::ExplicitDeny) + self.http.decisions(Outcome::ImplicitDeny);
        serde_json::json!({
            "store_version": g.store_version,
            "revision": g.revision,
            "policies": g.policies,
            "credentials": g.credentials,
            "requests": self.http.requests(Route::Kinesis),
            "allowed": self.http.decisions(Outcome::Allow),
            "denied": denied,
            "forwarded": self.forwarded.load(Relaxed),
            "upstream_errors": self.upstream_errors.load(Relaxed),
        })
    }

    /// The Prometheus text of `/-/metrics`.
    pub(crate) fn render(&self, g: Gauges) -> String {
        let mut out = Text::new();
        self.http.render(&mut out);
        out.single(
            "iamc_gateway_forwarded_total",
            "counter",
            "Requests forwarded to the upstream after they were allowed.",
            self.forwarded.load(Relaxed),
        );
        out.single(
            "iamc_gateway_upstream_errors_total",
            "counter",
            "Upstream requests that failed or timed out (answered 503 ServiceUnavailable).",
            self.upstream_errors.load(Relaxed),
        );
        out.head(
            "iamc_gateway_upstream_duration_seconds",
            "histogram",
            "Time the upstream took to answer, in seconds.",
        );
        out.histogram("iamc_gateway_upstream_duration_seconds", "", &self.upstream);
        out.head(
            "iamc_reloads_total",
            "counter",
            "Reloads of the store and credentials files, by result (ok: swapped in; refused: \
             the old ones kept serving).",
        );
        for (result, c) in ["ok", "refused"].iter().zip(&self.reloads) {
            let labels = format!("result=\"{result}\"");
            out.sample("iamc_reloads_total", &labels, c.load(Relaxed));
        }
        out.single(
            "iamc_ready",
            "gauge",
            "1: the gateway serves (it starts only with a store).",
            1,
        );
        out.single(
            "iamc_store_version",
            "gauge",
            "The live files' version (1 at start, then one more per reload).",
            g.store_version,
        );
        out.single(
            "iamc_gateway_db_revision",
            "gauge",
            "The database's revision (one more per resource-policy or tag change).",
            g.revision,
        );
        out.single(
            "iamc_gateway_resource_policies",
            "gauge",
            "Resource policies set through the API (in the database).",
            g.policies,
        );
        out.single(
            "iamc_gateway_credentials",
            "gauge",
            "Entries of the credentials file.",
            g.credentials,
        );
        out.finish()
    }
}
