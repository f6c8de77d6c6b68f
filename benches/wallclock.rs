//! Wall-clock times (criterion) of the workloads in `workloads/`: the second
//! view in BENCHMARKS.md. Noisy on a shared machine; the instruction counts
//! of `callgrind.rs` are the figures the goals are checked against.
//!
//! Benchmark ids are `group/function` and `benches/rows.toml` refers to
//! them as such (criterion stores each under `target/criterion/<group>/<function>/`).

// `CALLS` is for the instruction-count harness; criterion picks its own counts.
#[allow(dead_code)]
mod workloads;

use std::cell::Cell;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

fn defer(c: &mut Criterion) {
    let hits = Cell::new(0);
    let mut g = c.benchmark_group("defer");
    g.bench_function("managed", |b| b.iter(|| workloads::defer_managed(black_box(&hits), black_box(7))));
    g.bench_function("hand", |b| b.iter(|| workloads::defer_hand(black_box(&hits), black_box(7))));
    g.bench_function("scopeguard", |b| b.iter(|| workloads::defer_scopeguard(black_box(&hits), black_box(7))));
    g.finish();

    let mut g = c.benchmark_group("defer_panic");
    g.bench_function("managed", |b| b.iter(|| workloads::defer_panic_managed(black_box(&hits), black_box(7))));
    g.bench_function("hand", |b| b.iter(|| workloads::defer_panic_hand(black_box(&hits), black_box(7))));
    g.bench_function("scopeguard", |b| {
        b.iter(|| workloads::defer_panic_scopeguard(black_box(&hits), black_box(7)));
    });
    g.finish();
}

type ScopeFn = fn(&Cell<u64>, u64, bool) -> Result<u64, workloads::Failed>;

fn scope(c: &mut Criterion) {
    let hits = Cell::new(0);
    let rows: [(&str, bool, ScopeFn, ScopeFn); 5] = [
        ("scope1_ok", false, workloads::scope1_managed, workloads::scope1_hand),
        ("scope1_err", true, workloads::scope1_managed, workloads::scope1_hand),
        ("scope3_ok", false, workloads::scope3_managed, workloads::scope3_hand),
        ("scope3_err", true, workloads::scope3_managed, workloads::scope3_hand),
        ("scope_fallible_ok", false, workloads::scope_fallible_managed, workloads::scope_fallible_hand),
    ];
    for (name, fail, managed, hand) in rows {
        let mut g = c.benchmark_group(name);
        g.bench_function("managed", |b| b.iter(|| managed(black_box(&hits), black_box(7), black_box(fail))));
        g.bench_function("hand", |b| b.iter(|| hand(black_box(&hits), black_box(7), black_box(fail))));
        g.finish();
    }
}

fn config() -> Criterion {
    // Short runs: these are nanosecond functions, and the machine is shared;
    // `benches/run.sh` passes `--quick`-free defaults through this.
    Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = defer, scope
}
criterion_main!(benches);
