//! Criterion benchmarks of the workloads of `shared/benchmark.md`: time per decision of the
//! compiled engine and of the reference evaluator on the same requests, per tier, size and mix;
//! compile time per size; batch throughput on all cores.
//!
//! `cargo bench --bench engine` runs everything (about 15 minutes on 2 cores);
//! `cargo bench --bench engine -- decide/S2` runs a subset. The tables in BENCHMARKS.md come
//! from `python3 benches/report.py`, which drives `iamc bench` for p50/p99 figures.

// A workload that does not build is a broken benchmark: stop loudly.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iamc::compile::{Engine, Scratch};
use iamc::eval::reference;
use iamc::semantics::Semantics;
use iamc::workload::{self, Mix, Tier};

const SIZES: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];

fn decide(c: &mut Criterion) {
    let sem = Semantics::default();
    let mut g = c.benchmark_group("decide");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for tier in Tier::ALL {
        for size in SIZES {
            for mix in [Mix::M1, Mix::M3] {
                let w = workload::workload(tier, size, mix, 42);
                let engine = Engine::from_inputs(&w.inputs, sem.clone()).unwrap();
                let mut scratch = Scratch::default();
                let mut i = 0usize;
                g.bench_function(
                    BenchmarkId::new(format!("compiled/{tier}/{mix}"), size),
                    |b| {
                        b.iter(|| {
                            i = (i + 1) % w.requests.len();
                            black_box(engine.authorize_with(&mut scratch, &w.requests[i]))
                        })
                    },
                );
                // The reference scans every statement: at 100,000 statements it takes
                // milliseconds per decision, so it is timed up to 10,000 (benchmark rule 5).
                if size <= 10_000 {
                    let mut j = 0usize;
                    g.bench_function(
                        BenchmarkId::new(format!("reference/{tier}/{mix}"), size),
                        |b| {
                            b.iter(|| {
                                j = (j + 1) % w.requests.len();
                                black_box(reference::evaluate(&w.inputs, &w.requests[j], &sem))
                            })
                        },
                    );
                }
            }
        }
    }
    g.finish();
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    for size in SIZES {
        let (_, inputs) = workload::policies(Tier::S3, size, 42);
        g.throughput(Throughput::Elements(size as u64));
        g.bench_function(BenchmarkId::new("S3", size), |b| {
            b.iter(|| black_box(Engine::from_inputs(&inputs, Semantics::default()).unwrap()))
        });
    }
    g.finish();
}

fn batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("batch");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    let w = workload::workload(Tier::S2, 10_000, Mix::M1, 42);
    let engine = Engine::from_inputs(&w.inputs, Semantics::default()).unwrap();
    let idx = workload::zipf_indices(w.requests.len(), 100_000, 1.0, 4);
    let stream: Vec<_> = idx.iter().map(|i| w.requests[*i].clone()).collect();
    g.throughput(Throughput::Elements(stream.len() as u64));
    g.bench_function("M4/S2/10000/all-cores", |b| {
        b.iter(|| black_box(engine.authorize_batch(&stream)))
    });
    g.bench_function("M4/S2/10000/one-thread", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| {
            for r in &stream {
                black_box(engine.authorize_with(&mut scratch, r));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, decide, compile, batch);
criterion_main!(benches);
