//! Instruction counts (callgrind, through gungraun) of every workload in
//! `workloads/`: the primary figures of BENCHMARKS.md, exact and repeatable
//! on a loaded machine. Run through `benches/run.sh` (it installs the
//! matching `gungraun-runner`); `cargo bench --bench callgrind` works once
//! the runner is on `PATH`.
//!
//! Each benchmark calls its workload [`workloads::CALLS`] times; the table
//! shows instructions per call. A benchmark's name is what `benches/rows.toml`
//! refers to: `function` or `function.id` for `#[bench::id(..)]`.

mod workloads;

use std::cell::Cell;
use std::hint::black_box;

use gungraun::{library_benchmark, library_benchmark_group, main};
use workloads::CALLS;

/// Runs `f` [`CALLS`] times on opaque inputs; returns the sum so nothing is
/// discarded.
#[inline]
fn repeat(mut f: impl FnMut(&Cell<u64>, u64) -> u64) -> u64 {
    let hits = Cell::new(0);
    let mut sum = 0u64;
    for i in 0..CALLS {
        sum = sum.wrapping_add(f(black_box(&hits), black_box(i)));
    }
    sum.wrapping_add(hits.get())
}

/// A scope's result as a number, so Ok and Err both feed the sum.
#[inline]
fn fold(r: Result<u64, workloads::Failed>) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => e.0 ^ 1,
    }
}

#[library_benchmark]
fn defer_managed() -> u64 {
    repeat(workloads::defer_managed)
}

#[library_benchmark]
fn defer_hand() -> u64 {
    repeat(workloads::defer_hand)
}

#[library_benchmark]
fn defer_scopeguard() -> u64 {
    repeat(workloads::defer_scopeguard)
}

#[library_benchmark]
fn defer_panic_managed() -> u64 {
    repeat(workloads::defer_panic_managed)
}

#[library_benchmark]
fn defer_panic_hand() -> u64 {
    repeat(workloads::defer_panic_hand)
}

#[library_benchmark]
fn defer_panic_scopeguard() -> u64 {
    repeat(workloads::defer_panic_scopeguard)
}

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn scope1_managed(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope1_managed(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn scope1_hand(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope1_hand(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn scope3_managed(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope3_managed(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn scope3_hand(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope3_hand(h, i, black_box(fail))))
}

library_benchmark_group!(
    name = defer;
    benchmarks = defer_managed, defer_hand, defer_scopeguard, defer_panic_managed, defer_panic_hand,
        defer_panic_scopeguard
);

library_benchmark_group!(
    name = scope;
    benchmarks = scope1_managed, scope1_hand, scope3_managed, scope3_hand
);

main!(library_benchmark_groups = defer, scope);
