//! `managed::stream` against the hand-written baseline (DESIGN section 10):
//! accumulation within 1.1x of `String::push_str`, metering within 5 %.
//!
//! `cargo bench --bench stream -- --measurement-time 2`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use managed::stream::{Accumulator, ChunksExt};

/// 256 KiB of text in 4096 chunks of 64 bytes: a typical network read size
/// for a streamed response, and small enough that per-chunk overhead shows.
fn chunks() -> Vec<String> {
    (0..4096).map(|i| format!("{i:>8}").repeat(8)).collect()
}

fn accumulation(c: &mut Criterion) {
    let chunks = chunks();
    let total: usize = chunks.iter().map(String::len).sum();
    let mut group = c.benchmark_group("accumulate");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("String::push_str", |b| {
        b.iter(|| {
            let mut s = String::new();
            for chunk in black_box(&chunks) {
                s.push_str(chunk);
            }
            s
        });
    });
    group.bench_function("Accumulator::push", |b| {
        b.iter(|| {
            let mut acc = Accumulator::new();
            for chunk in black_box(&chunks) {
                acc.push(chunk);
            }
            acc.finalize()
        });
    });
    group.bench_function(".accumulate()", |b| {
        b.iter(|| {
            let mut acc = black_box(&chunks).iter().accumulate();
            acc.by_ref().for_each(|chunk| {
                black_box(chunk);
            });
            acc.into_content()
        });
    });
    group.finish();
}

fn metering(c: &mut Criterion) {
    let chunks = chunks();
    let total: usize = chunks.iter().map(String::len).sum();
    let mut group = c.benchmark_group("meter");
    group.throughput(Throughput::Bytes(total as u64));
    // The consumer copies each chunk out, as a real one (a parser, a writer) would.
    group.bench_function("plain iteration", |b| {
        b.iter_batched_ref(
            || String::with_capacity(total),
            |out| {
                for chunk in black_box(&chunks) {
                    out.push_str(chunk);
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function(".metered()", |b| {
        b.iter_batched_ref(
            || String::with_capacity(total),
            |out| {
                let mut s = black_box(&chunks).iter().metered();
                for chunk in s.by_ref() {
                    out.push_str(chunk);
                }
                s.metrics()
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function(".metered().accumulate()", |b| {
        b.iter(|| {
            let mut s = black_box(&chunks).iter().metered().accumulate();
            s.by_ref().for_each(|chunk| {
                black_box(chunk);
            });
            (s.metrics(), s.into_content())
        });
    });
    group.finish();
}

criterion_group!(benches, accumulation, metering);
criterion_main!(benches);
