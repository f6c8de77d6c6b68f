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
use managed::stream::{Accumulator, ChunksExt};
use managed::ExitStack;
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

// ------------------------------------------------------------ streaming
// The same inputs as `benches/stream.rs` (wall-clock): 256 KiB of text in
// chunks of 64 bytes (or 1 KiB), built in `setup`, outside the count.

fn chunks(size: usize) -> Vec<String> {
    (0..256 * 1024 / size).map(|i| format!("{i:>8}").repeat(size / 8)).collect()
}

#[library_benchmark]
#[bench::chunks64(args = (64), setup = chunks)]
fn stream_push_str(chunks: Vec<String>) -> String {
    let mut s = String::new();
    for chunk in black_box(&chunks) {
        s.push_str(chunk);
    }
    s
}

#[library_benchmark]
#[bench::chunks64(args = (64), setup = chunks)]
fn stream_accumulator(chunks: Vec<String>) -> String {
    let mut acc = Accumulator::new();
    for chunk in black_box(&chunks) {
        acc.push(chunk);
    }
    acc.finalize()
}

#[library_benchmark]
#[bench::chunks64(args = (64), setup = chunks)]
fn stream_accumulate(chunks: Vec<String>) -> String {
    let mut acc = black_box(&chunks).iter().accumulate();
    acc.by_ref().for_each(drop);
    acc.into_content()
}

#[library_benchmark]
#[bench::chunks64(args = (64), setup = chunks)]
#[bench::chunks1k(args = (1024), setup = chunks)]
fn stream_plain_copy(chunks: Vec<String>) -> String {
    let total = chunks.iter().map(String::len).sum();
    let mut out = String::with_capacity(total);
    for chunk in black_box(&chunks) {
        out.push_str(chunk);
    }
    out
}

#[library_benchmark]
#[bench::chunks64(args = (64), setup = chunks)]
#[bench::chunks1k(args = (1024), setup = chunks)]
fn stream_metered_copy(chunks: Vec<String>) -> (String, u64) {
    let total = chunks.iter().map(String::len).sum();
    let mut out = String::with_capacity(total);
    let mut s = black_box(&chunks).iter().metered();
    for chunk in s.by_ref() {
        out.push_str(chunk);
    }
    (out, s.metrics().total_bytes)
}

// ------------------------------------------------------------ ExitStack
// Closing N entries, the stack built in `setup` (outside the count). The
// workload of `benches/exit_stack_instructions.rs`: each callback captures a
// reference and a number (16 bytes: a real allocation on both sides).

fn counter() -> &'static Cell<u64> {
    // Leaked once per benchmark process: the callbacks need a `'static` target.
    Box::leak(Box::new(Cell::new(0)))
}

fn exit_stack_of(n: u64) -> ExitStack<'static> {
    let counter = counter();
    let stack = ExitStack::new();
    for i in 0..n {
        stack.callback(move || counter.set(counter.get().wrapping_add(i)));
    }
    stack
}

fn vec_box_of(n: u64) -> Vec<Box<dyn FnOnce()>> {
    let counter = counter();
    let mut exits: Vec<Box<dyn FnOnce()>> = Vec::new();
    for i in 0..n {
        exits.push(Box::new(move || counter.set(counter.get().wrapping_add(i))));
    }
    exits
}

#[library_benchmark]
#[bench::n1(args = (1), setup = exit_stack_of)]
#[bench::n10(args = (10), setup = exit_stack_of)]
#[bench::n1000(args = (1000), setup = exit_stack_of)]
#[bench::n10000(args = (10000), setup = exit_stack_of)]
fn exit_stack_close(stack: ExitStack<'static>) -> bool {
    // No `black_box` on the inputs: they are built at run time by `setup`,
    // and moving a stack through `black_box` would count a copy of it.
    stack.close().is_ok()
}

#[library_benchmark]
#[bench::n1(args = (1), setup = vec_box_of)]
#[bench::n10(args = (10), setup = vec_box_of)]
#[bench::n1000(args = (1000), setup = vec_box_of)]
#[bench::n10000(args = (10000), setup = vec_box_of)]
fn vec_box_close(mut exits: Vec<Box<dyn FnOnce()>>) -> bool {
    while let Some(exit) = exits.pop() {
        exit();
    }
    true
}

library_benchmark_group!(
    name = exit_stack;
    benchmarks = exit_stack_close, vec_box_close
);

library_benchmark_group!(
    name = stream;
    benchmarks = stream_push_str, stream_accumulator, stream_accumulate, stream_plain_copy, stream_metered_copy
);

library_benchmark_group!(
    name = defer;
    benchmarks = defer_managed, defer_hand, defer_scopeguard, defer_panic_managed, defer_panic_hand,
        defer_panic_scopeguard
);

#[library_benchmark]
#[bench::ok(false)]
fn scope_fallible_managed(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope_fallible_managed(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
fn scope_fallible_hand(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope_fallible_hand(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
fn scope_fallible_hand_unwind(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope_fallible_hand_unwind(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
fn scope1_attr(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::scope1_attr(h, i, black_box(fail))))
}

library_benchmark_group!(
    name = scope;
    benchmarks = scope1_managed, scope1_hand, scope3_managed, scope3_hand, scope_fallible_managed,
        scope_fallible_hand, scope_fallible_hand_unwind, scope1_attr
);

// ------------------------------------------------------------ async scope!
// Each call builds the scope's future and polls it to completion with the
// no-op-waker loop of `workloads::async_scope::block_on` (no runtime).

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn async1_managed(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::async_scope::async1_managed(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn async1_hand(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::async_scope::async1_hand(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn async3_managed(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::async_scope::async3_managed(h, i, black_box(fail))))
}

#[library_benchmark]
#[bench::ok(false)]
#[bench::err(true)]
fn async3_hand(fail: bool) -> u64 {
    repeat(|h, i| fold(workloads::async_scope::async3_hand(h, i, black_box(fail))))
}

library_benchmark_group!(
    name = async_scope;
    benchmarks = async1_managed, async1_hand, async3_managed, async3_hand
);

// ------------------------------------------- scope! over users' managers
// DESIGN.md section 10: `workloads/nest.rs` (sync: two kinds of manager,
// 1 / 3 / 8 managers, each workload against the hand-written nest and the
// nest with `catch_unwind` at each level) and `workloads/nest_async.rs`
// (1 / 3 async managers, no-op-waker loop and `futures::executor::block_on`).
// `ok`: the body returns `Ok`; `err`: it leaves through `?` mid-body.

/// [`fold`] for the `managed::Error` of these workloads.
#[inline]
fn fold_error(r: Result<u64, managed::Error>) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => e.suppressed().len() as u64 ^ 1,
    }
}

/// One benchmark per workload function, with its Ok and Err runs.
macro_rules! nest_benches {
    ($($name:ident => $f:path;)+) => {$(
        #[library_benchmark]
        #[bench::ok(false)]
        #[bench::err(true)]
        fn $name(fail: bool) -> u64 {
            repeat(|h, i| fold_error($f(h, i, black_box(fail))))
        }
    )+};
}

nest_benches! {
    conn1_managed => workloads::nest::conn1_managed;
    conn1_hand => workloads::nest::conn1_hand;
    conn1_hand_unwind => workloads::nest::conn1_hand_unwind;
    conn3_managed => workloads::nest::conn3_managed;
    conn3_hand => workloads::nest::conn3_hand;
    conn3_hand_unwind => workloads::nest::conn3_hand_unwind;
    conn8_managed => workloads::nest::conn8_managed;
    conn8_hand => workloads::nest::conn8_hand;
    conn8_hand_unwind => workloads::nest::conn8_hand_unwind;
    tally1_managed => workloads::nest::tally1_managed;
    tally1_hand => workloads::nest::tally1_hand;
    tally1_hand_unwind => workloads::nest::tally1_hand_unwind;
    tally3_managed => workloads::nest::tally3_managed;
    tally3_hand => workloads::nest::tally3_hand;
    tally3_hand_unwind => workloads::nest::tally3_hand_unwind;
    tally8_managed => workloads::nest::tally8_managed;
    tally8_hand => workloads::nest::tally8_hand;
    tally8_hand_unwind => workloads::nest::tally8_hand_unwind;
    async1_managed_noop => workloads::nest_async::tally1_managed_noop;
    async1_hand_noop => workloads::nest_async::tally1_hand_noop;
    async1_managed_futures => workloads::nest_async::tally1_managed_futures;
    async1_hand_futures => workloads::nest_async::tally1_hand_futures;
    async3_managed_noop => workloads::nest_async::tally3_managed_noop;
    async3_hand_noop => workloads::nest_async::tally3_hand_noop;
    async3_managed_futures => workloads::nest_async::tally3_managed_futures;
    async3_hand_futures => workloads::nest_async::tally3_hand_futures;
}

library_benchmark_group!(
    name = nest;
    benchmarks = conn1_managed, conn1_hand, conn1_hand_unwind, conn3_managed, conn3_hand, conn3_hand_unwind,
        conn8_managed, conn8_hand, conn8_hand_unwind, tally1_managed, tally1_hand, tally1_hand_unwind,
        tally3_managed, tally3_hand, tally3_hand_unwind, tally8_managed, tally8_hand, tally8_hand_unwind
);

library_benchmark_group!(
    name = nest_async;
    benchmarks = async1_managed_noop, async1_hand_noop, async1_managed_futures, async1_hand_futures,
        async3_managed_noop, async3_hand_noop, async3_managed_futures, async3_hand_futures
);

main!(library_benchmark_groups = defer, scope, stream, exit_stack, async_scope, nest, nest_async);
