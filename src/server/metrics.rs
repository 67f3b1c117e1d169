//! The decision server's Prometheus metrics: the ones every front end keeps
//! ([`HttpMetrics`]: decisions, requests, latency) and the server's own (batch sizes, error
//! codes, reloads, the live store, the decision log).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::error::ErrorCode;
use super::live::{Live, Trigger};
use crate::eval::Outcome;
use crate::runtime::metrics::{zeros, Histogram, HttpMetrics, MetricRoute, Text};

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

impl MetricRoute for Route {
    const ALL: &'static [Route] = &[
        Route::Authorize,
        Route::Batch,
        Route::Envoy,
        Route::Health,
        Route::Metrics,
        Route::Store,
        Route::Other,
    ];

    fn as_str(self) -> &'static str {
        self.as_str()
    }

    fn decides(self) -> bool {
        matches!(self, Route::Authorize | Route::Batch | Route::Envoy)
    }
}

impl Route {
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
}

/// Upper bounds of the batch-size buckets.
const BATCH_BUCKETS: [f64; 6] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0];

/// Every metric of a server.
pub(crate) struct Metrics {
    http: HttpMetrics<Route>,
    batch_sizes: Histogram,
    errors: Vec<AtomicU64>,
    /// trigger x (ok, refused).
    reloads: Vec<[AtomicU64; 2]>,
    pub(crate) log_records: AtomicU64,
    pub(crate) log_dropped: AtomicU64,
    pub(crate) log_rotations: AtomicU64,
    pub(crate) log_write_errors: AtomicU64,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            http: HttpMetrics::new(),
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
        self.http.decision(outcome);
    }

    pub(crate) fn request(&self, route: Route, status: u16, elapsed: Duration) {
        self.http.request(route, status, elapsed);
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
        let mut out = Text::new();
        self.http.render(&mut out);

        out.head("iamc_batch_size", "histogram", "Requests per batch call.");
        out.histogram("iamc_batch_size", "", &self.batch_sizes);

        out.head(
            "iamc_errors_total",
            "counter",
            "Error responses (and failed batch items), by error code.",
        );
        for (code, c) in ErrorCode::ALL.iter().zip(&self.errors) {
            let labels = format!("code=\"{}\"", code.as_str());
            out.sample("iamc_errors_total", &labels, c.load(Relaxed));
        }

        out.head(
            "iamc_reloads_total",
            "counter",
            "Store loads, by trigger and result (ok: swapped in; refused: the old store kept serving).",
        );
        for (t, counts) in Trigger::ALL.iter().zip(&self.reloads) {
            for (result, c) in ["ok", "refused"].iter().zip(counts) {
                let labels = format!("trigger=\"{}\",result=\"{result}\"", t.as_str());
                out.sample("iamc_reloads_total", &labels, c.load(Relaxed));
            }
        }

        out.single(
            "iamc_ready",
            "gauge",
            "1 once a store has compiled, else 0.",
            u8::from(live.is_some()),
        );
        if let Some(l) = live {
            out.single(
                "iamc_store_version",
                "gauge",
                "The live store's version (1 for the first store loaded, then one more per reload).",
                l.version,
            );
            out.single(
                "iamc_store_loaded_timestamp_seconds",
                "gauge",
                "When the live store was swapped in (Unix time).",
                format!("{:.3}", l.loaded_unix()),
            );
            let stats = l.authorizer.store().stats();
            out.single(
                "iamc_store_policies",
                "gauge",
                "Policies in the live store.",
                stats.policies,
            );
            out.single(
                "iamc_store_statements",
                "gauge",
                "Statements in the live store.",
                stats.statements,
            );
        }

        for (name, help, c) in [
            (
                "iamc_decision_log_records_total",
                "Records written to the decision log.",
                &self.log_records,
            ),
            (
                "iamc_decision_log_dropped_total",
                "Decision log records dropped because the writer fell behind or failed.",
                &self.log_dropped,
            ),
            (
                "iamc_decision_log_rotations_total",
                "Decision log rotations.",
                &self.log_rotations,
            ),
            (
                "iamc_decision_log_write_errors_total",
                "Decision log write, open or rename failures.",
                &self.log_write_errors,
            ),
        ] {
            out.single(name, "counter", help, c.load(Relaxed));
        }
        out.finish()
    }
}
