//! Figures that are neither instructions nor time: heap allocations per call
//! (a counting global allocator) and, for the async rows, `size_of_val` of
//! futures. Prints one JSON object per line, `{"fact": "<name>", "value": N}`,
//! which `benches/run.sh` reads and `benches/rows.toml` refers to as
//! `fact:<name>`.
//!
//! Adding a fact: one more `fact(..)` call in `main`.

// Facts cover the rows that need them; the other workloads are measured elsewhere.
#[allow(dead_code)]
mod workloads;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which is ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract, which is ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn fact(name: &str, value: impl std::fmt::Display) {
    println!("{{\"fact\": \"{name}\", \"value\": {value}}}");
}

/// Heap allocations per call of `f`, over [`workloads::CALLS`] calls.
#[allow(clippy::cast_precision_loss)] // a count of calls, far below 2^52
fn allocations_per_call(mut f: impl FnMut(&Cell<u64>, u64)) -> f64 {
    let hits = Cell::new(0);
    f(&hits, 0); // warm-up: lazily initialised runtime state is not per call
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in 0..workloads::CALLS {
        f(black_box(&hits), black_box(i));
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / workloads::CALLS as f64
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it too, which is fine: it is quick.
    let scope = |name: &str, fail: bool, f: fn(&Cell<u64>, u64, bool) -> Result<u64, workloads::Failed>| {
        fact(
            name,
            allocations_per_call(|h, i| {
                let _ = black_box(f(h, i, fail));
            }),
        );
    };
    fact(
        "allocs.defer.managed",
        allocations_per_call(|h, i| {
            black_box(workloads::defer_managed(h, i));
        }),
    );
    fact(
        "allocs.defer.hand",
        allocations_per_call(|h, i| {
            black_box(workloads::defer_hand(h, i));
        }),
    );
    scope("allocs.scope1_ok.managed", false, workloads::scope1_managed);
    scope("allocs.scope1_ok.hand", false, workloads::scope1_hand);
    scope("allocs.scope1_err.managed", true, workloads::scope1_managed);
    scope("allocs.scope1_err.hand", true, workloads::scope1_hand);
    scope("allocs.scope3_ok.managed", false, workloads::scope3_managed);
    scope("allocs.scope3_ok.hand", false, workloads::scope3_hand);
    scope("allocs.scope3_err.managed", true, workloads::scope3_managed);
    scope("allocs.scope3_err.hand", true, workloads::scope3_hand);
    scope("allocs.scope1_attr.managed", false, workloads::scope1_attr);

    // Async scopes: allocations per scope polled to completion, and the
    // size of each future (the state machine the caller stores).
    {
        use workloads::async_scope as a;
        scope("allocs.async1_ok.managed", false, a::async1_managed);
        scope("allocs.async1_err.managed", true, a::async1_managed);
        scope("allocs.async3_ok.managed", false, a::async3_managed);
        scope("allocs.async3_err.managed", true, a::async3_managed);
        scope("allocs.async1_ok.hand", false, a::async1_hand);
        scope("allocs.async3_ok.hand", false, a::async3_hand);
        let hits = Cell::new(0);
        fact("size.async1.managed", std::mem::size_of_val(&a::async1_managed_fut(&hits, 0, false)));
        fact("size.async1.hand", std::mem::size_of_val(&a::async1_hand_fut(&hits, 0, false)));
        fact("size.async3.managed", std::mem::size_of_val(&a::async3_managed_fut(&hits, 0, false)));
        fact("size.async3.hand", std::mem::size_of_val(&a::async3_hand_fut(&hits, 0, false)));
        fact("size.async.body", std::mem::size_of_val(&a::async_body_fut(&hits, 0, false)));
        fact("size.async.manager", std::mem::size_of::<a::AsyncCounter<'_>>());
        fact(
            "size.async.exit_future",
            std::mem::size_of_val(&managed::AsyncManage::exit(a::AsyncCounter::new(&hits, 0), &managed::Outcome::Ok)),
        );
    }

    section10_facts();

    // ExitStack: heap allocations per entry to build and close a stack of N
    // capturing callbacks, next to `Vec<Box<dyn FnOnce()>>`.
    for n in [1u64, 10, 1_000, 10_000] {
        let counter = Cell::new(0u64);
        let per_entry = |f: &dyn Fn()| {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            f();
            #[allow(clippy::cast_precision_loss)] // counts far below 2^52
            let per = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / n as f64;
            per
        };
        let stack = per_entry(&|| {
            let stack = managed::ExitStack::new();
            for i in 0..n {
                let counter = &counter;
                stack.callback(move || counter.set(counter.get().wrapping_add(i)));
            }
            black_box(stack.close()).ok();
        });
        let vec = per_entry(&|| {
            let mut exits: Vec<Box<dyn FnOnce() + '_>> = Vec::new();
            for i in 0..n {
                let counter = &counter;
                exits.push(Box::new(move || counter.set(counter.get().wrapping_add(i))));
            }
            while let Some(exit) = exits.pop() {
                exit();
            }
        });
        fact(&format!("allocs.exit_stack.n{n}.managed"), stack);
        fact(&format!("allocs.exit_stack.n{n}.vec_box"), vec);
    }
}

/// DESIGN.md section 10 workloads (`workloads/nest.rs`, `nest_async.rs`):
/// allocations per scope of the `scope!` side, Ok and Err paths, and the
/// size of each async future against the hand-written block's.
fn section10_facts() {
    // The Err path allocates the user's own `managed::Error` on both sides:
    // the fact is what the `scope!` side allocates beyond the hand-written.
    let beyond_hand = |name: &str, fail: bool, managed: workloads::nest::Side, hand: workloads::nest::Side| {
        let per_call = |f: workloads::nest::Side| {
            allocations_per_call(|h, i| {
                let _ = black_box(f(h, i, fail));
            })
        };
        fact(name, per_call(managed) - per_call(hand));
    };
    for (name, _, managed, hand, _) in workloads::nest::WORKLOADS {
        beyond_hand(&format!("allocs.{name}_ok.managed"), false, managed, hand);
        beyond_hand(&format!("allocs.{name}_err.managed"), true, managed, hand);
    }
    for (name, _, managed, hand) in workloads::nest_async::WORKLOADS {
        beyond_hand(&format!("allocs.{name}_ok.managed"), false, managed, hand);
        beyond_hand(&format!("allocs.{name}_err.managed"), true, managed, hand);
    }
    {
        use workloads::nest_async as n;
        let hits = Cell::new(0);
        fact("size.nest_async1.managed", std::mem::size_of_val(&n::tally1_managed_fut(&hits, 0, false)));
        fact("size.nest_async1.hand", std::mem::size_of_val(&n::tally1_hand_fut(&hits, 0, false)));
        fact("size.nest_async3.managed", std::mem::size_of_val(&n::tally3_managed_fut(&hits, 0, false)));
        fact("size.nest_async3.hand", std::mem::size_of_val(&n::tally3_hand_fut(&hits, 0, false)));
    }
}
