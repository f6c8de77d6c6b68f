//! `ExitStack` against the hand-written baseline `Vec<Box<dyn FnOnce()>>`
//! (DESIGN section 10: closing N entries within 1.2x of the baseline).
//!
//! Two measurements per N (1, 10, 1,000, 10,000):
//! - `close`: only closing a stack built beforehand (the contract);
//! - `build_and_close`: registering N callbacks, then closing.
//!
//! Each callback captures a reference and a number (16 bytes, so every entry
//! is a real allocation for both). `ExitStack` also catches a panic per
//! entry and tracks the outcome, which the baseline does not.
//!
//! Run: `cargo bench --bench exit_stack -- --measurement-time 2 --warm-up-time 1`

use std::cell::Cell;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use managed::ExitStack;

const SIZES: [usize; 4] = [1, 10, 1_000, 10_000];

fn build_stack(n: usize, counter: &Cell<u64>) -> ExitStack<'_> {
    let stack = ExitStack::new();
    for i in 0..n as u64 {
        stack.callback(move || counter.set(counter.get().wrapping_add(i)));
    }
    stack
}

fn build_baseline(n: usize, counter: &Cell<u64>) -> Vec<Box<dyn FnOnce() + '_>> {
    let mut exits: Vec<Box<dyn FnOnce() + '_>> = Vec::new();
    for i in 0..n as u64 {
        exits.push(Box::new(move || counter.set(counter.get().wrapping_add(i))));
    }
    exits
}

fn close_baseline(mut exits: Vec<Box<dyn FnOnce() + '_>>) {
    while let Some(exit) = exits.pop() {
        exit();
    }
}

fn batch_size(n: usize) -> BatchSize {
    if n >= 1_000 {
        BatchSize::LargeInput
    } else {
        BatchSize::SmallInput
    }
}

fn close(c: &mut Criterion) {
    let counter = Cell::new(0);
    let mut group = c.benchmark_group("close");
    for n in SIZES {
        group.bench_with_input(BenchmarkId::new("ExitStack", n), &n, |b, &n| {
            b.iter_batched(
                || build_stack(n, &counter),
                |stack| stack.close().expect("callbacks never fail"),
                batch_size(n),
            );
        });
        group.bench_with_input(BenchmarkId::new("Vec<Box<dyn FnOnce()>>", n), &n, |b, &n| {
            b.iter_batched(|| build_baseline(n, &counter), close_baseline, batch_size(n));
        });
    }
    group.finish();
    black_box(counter.get());
}

fn build_and_close(c: &mut Criterion) {
    let counter = Cell::new(0);
    let mut group = c.benchmark_group("build_and_close");
    for n in SIZES {
        group.bench_with_input(BenchmarkId::new("ExitStack", n), &n, |b, &n| {
            b.iter(|| build_stack(black_box(n), &counter).close().expect("callbacks never fail"));
        });
        group.bench_with_input(BenchmarkId::new("Vec<Box<dyn FnOnce()>>", n), &n, |b, &n| {
            b.iter(|| close_baseline(build_baseline(black_box(n), &counter)));
        });
    }
    group.finish();
    black_box(counter.get());
}

criterion_group!(benches, close, build_and_close);
criterion_main!(benches);
