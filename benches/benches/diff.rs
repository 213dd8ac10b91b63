//! Criterion benches of sync-core on generated exports (DESIGN 7): parse, validate (alone, as a
//! `Baseline`, and the current set compared with that baseline: its diff and its report), and
//! the diff of two parsed sets (10% changed), parallel and on one thread.
//!
//! Sizes come from `BENCH_SIZES` (default `10000,100000`, so that plain runs stay short); the
//! 1M figures of the README ("Performance / Core (criterion)"):
//!
//! ```sh
//! BENCH_SIZES=1000000 cargo bench -p sync-benches --bench diff -- diff   # DESIGN 7: < 0.2 s
//! BENCH_SIZES=1000000 cargo bench -p sync-benches --bench diff           # parse, validate too
//! ```

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sync_core::gen::{generate, Options};

fn sizes() -> Vec<usize> {
    std::env::var("BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn benches(c: &mut Criterion) {
    for n in sizes() {
        let generated = generate(&Options {
            contracts: n,
            seed: 1,
            change_rate: 0.1,
        });
        let previous_json = serde_json::to_vec(&generated.previous).expect("serializable");
        let current_json = serde_json::to_vec(&generated.current).expect("serializable");
        drop(generated);
        let previous = sync_core::parse(&previous_json).expect("generated JSON parses");
        let current = sync_core::parse(&current_json).expect("generated JSON parses");
        let big = n >= 500_000;

        let mut group = c.benchmark_group("core");
        group.sample_size(if big { 10 } else { 20 });
        group.measurement_time(Duration::from_secs(if big { 20 } else { 8 }));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("parse", n), &previous_json, |b, json| {
            b.iter(|| sync_core::parse(json).expect("parses"))
        });
        group.bench_with_input(BenchmarkId::new("validate", n), &previous, |b, payload| {
            b.iter(|| sync_core::validate(payload))
        });
        // The previous set validated as `sync-cli diff` does, as a baseline keeping where its
        // values first show up; then the current set compared with it (diff and report).
        group.bench_with_input(
            BenchmarkId::new("baseline_new", n),
            &previous,
            |b, payload| b.iter(|| sync_core::Baseline::new(payload)),
        );
        let baseline = sync_core::Baseline::new(&previous);
        group.bench_with_input(BenchmarkId::new("baseline_compare", n), &(), |b, ()| {
            b.iter(|| baseline.compare(&current).report)
        });
        drop(baseline);
        group.bench_with_input(BenchmarkId::new("diff", n), &(), |b, ()| {
            b.iter(|| sync_core::diff(&previous, &current).summary())
        });
        group.bench_with_input(BenchmarkId::new("diff_one_thread", n), &(), |b, ()| {
            b.iter(|| sync_core::diff_sequential(&previous.contracts, &current.contracts).summary())
        });
        group.finish();
    }
}

criterion_group!(core, benches);
criterion_main!(core);
