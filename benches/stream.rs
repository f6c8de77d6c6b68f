//! `managed::stream` against the hand-written baseline (DESIGN section 10):
//! accumulation within 1.1x of `String::push_str`, metering within 5 %.
//!
//! `cargo bench --bench stream -- --measurement-time 2`

use std::hint::black_box;

use std::time::Instant;

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
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
            acc.by_ref().for_each(drop);
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

/// Best time of `rounds` runs of `f`, in nanoseconds.
fn best_of(rounds: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e9
        })
        .fold(f64::INFINITY, f64::min)
}

/// The ratios of DESIGN section 10, robust to a loaded machine: the sides
/// run interleaved, many times, and each keeps its best time (load only ever
/// adds time, so the minimum is the closest to the true cost).
fn ratios() {
    const ROUNDS: usize = 300;
    const BLOCKS: usize = 10;
    let chunks = chunks();
    let total: usize = chunks.iter().map(String::len).sum();
    let (mut base, mut acc, mut adapter) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..BLOCKS {
        base = base.min(best_of(ROUNDS, || {
            let mut s = String::new();
            for chunk in black_box(&chunks) {
                s.push_str(chunk);
            }
            black_box(s);
        }));
        acc = acc.min(best_of(ROUNDS, || {
            let mut a = Accumulator::new();
            for chunk in black_box(&chunks) {
                a.push(chunk);
            }
            black_box(a.finalize());
        }));
        adapter = adapter.min(best_of(ROUNDS, || {
            // Items unused, as in the baseline: the cost is the adapter's.
            let mut a = black_box(&chunks).iter().accumulate();
            a.by_ref().for_each(drop);
            black_box(a.into_content());
        }));
    }
    println!("\nratios (best of {} interleaved runs, {total} bytes):", ROUNDS * BLOCKS);
    println!("  accumulate, 64-byte chunks:");
    println!("    String::push_str     {:>8.1} us", base / 1e3);
    println!("    Accumulator::push    {:>8.1} us  {:.3}x push_str (goal <= 1.1x)", acc / 1e3, acc / base);
    println!("    .accumulate()        {:>8.1} us  {:.3}x push_str (goal <= 1.1x)", adapter / 1e3, adapter / base);

    println!("  metering (goal <= 5 %): consumer copying each chunk out / doing nothing");
    for size in [64, 1024, 16 * 1024] {
        let chunks: Vec<String> = (0..total / size).map(|i| format!("{i:>8}").repeat(size / 8)).collect();
        // At most 4096 chunks: exact in an f64.
        #[allow(clippy::cast_precision_loss)]
        let n = chunks.len() as f64;
        let mut out = String::with_capacity(total);
        let (mut plain, mut metered) = (f64::INFINITY, f64::INFINITY);
        let (mut idle, mut idle_metered) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..BLOCKS {
            plain = plain.min(best_of(ROUNDS, || {
                out.clear();
                for chunk in black_box(&chunks) {
                    out.push_str(chunk);
                }
                black_box(&out);
            }));
            metered = metered.min(best_of(ROUNDS, || {
                out.clear();
                let mut s = black_box(&chunks).iter().metered();
                for chunk in s.by_ref() {
                    out.push_str(chunk);
                }
                black_box((&out, s.metrics()));
            }));
            idle = idle.min(best_of(ROUNDS, || {
                for chunk in black_box(&chunks) {
                    black_box(chunk);
                }
            }));
            idle_metered = idle_metered.min(best_of(ROUNDS, || {
                let mut s = black_box(&chunks).iter().metered();
                for chunk in s.by_ref() {
                    black_box(chunk);
                }
                black_box(s.metrics());
            }));
        }
        println!(
            "    {size:>5}-byte chunks: copying {:>7.1} -> {:>7.1} us ({:+5.1} %, {:+.2} ns/chunk); \
             idle {:>6.2} -> {:>6.2} us ({:+.2} ns/chunk)",
            plain / 1e3,
            metered / 1e3,
            (metered / plain - 1.0) * 100.0,
            (metered - plain) / n,
            idle / 1e3,
            idle_metered / 1e3,
            (idle_metered - idle) / n,
        );
    }
}

criterion_group!(benches, accumulation, metering);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
