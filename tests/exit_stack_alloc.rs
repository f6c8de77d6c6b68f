//! `ExitStack` storage cost, counted with a counting global allocator
//! (DESIGN section 10: at most one allocation per entry, amortised less;
//! fewer than `Vec<Box<dyn FnOnce()>>` for small stacks).

use std::cell::Cell;
use std::io::BufWriter;

use managed::{ExitStack, Outcome};

mod counting_alloc;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

use counting_alloc::allocations;

/// Allocations to build a stack of `n` capturing callbacks; the `i`th adds
/// `i + 1` to `counter`, so that after the close `counter` holds
/// `n (n + 1) / 2` exactly when each ran once.
fn stack_of(n: usize, counter: &Cell<u64>) -> (ExitStack<'_>, u64) {
    allocations(|| {
        let stack = ExitStack::new();
        for i in 0..n {
            let step = u64::try_from(i + 1).unwrap_or(0);
            stack.callback(move || counter.set(counter.get() + step));
        }
        stack
    })
}

/// What `counter` holds once each callback of `stack_of(n, counter)` ran.
fn each_ran_once(n: usize) -> u64 {
    let n = n as u64;
    n * (n + 1) / 2
}

/// The same with the baseline, `Vec<Box<dyn FnOnce()>>`.
fn baseline_of(n: usize, counter: &Cell<u64>) -> (Vec<Box<dyn FnOnce() + '_>>, u64) {
    allocations(|| {
        let mut v: Vec<Box<dyn FnOnce() + '_>> = Vec::new();
        for i in 0..n {
            let step = u64::try_from(i).unwrap_or(0);
            v.push(Box::new(move || counter.set(counter.get() + step)));
        }
        v
    })
}

#[test]
fn a_new_stack_does_not_allocate() {
    let (stack, n) = allocations(ExitStack::new);
    assert_eq!(n, 0);
    let ((), n) = allocations(|| stack.close().expect("empty"));
    assert_eq!(n, 0);
}

#[test]
fn small_stacks_cost_one_allocation_per_entry_and_no_list() {
    for n in 1..=4 {
        let counter = Cell::new(0);
        let (stack, made) = stack_of(n, &counter);
        let (_baseline, baseline) = baseline_of(n, &counter);
        assert_eq!(made, n as u64, "one box per entry, the list is inline");
        assert_eq!(baseline, n as u64 + 1, "the baseline also allocates its Vec");
        let ((), closing) = allocations(|| stack.close().expect("no failure"));
        assert_eq!(closing, 0, "closing without failures allocates nothing");
        assert_eq!(counter.get(), each_ran_once(n), "n={n}: every callback ran, once");
    }
}

#[test]
fn closures_that_capture_nothing_cost_nothing() {
    static RAN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    fn ran() {
        let _ = RAN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let ((), made) = allocations(|| {
        let stack = ExitStack::new();
        for _ in 0..4 {
            stack.callback(ran);
            stack.push(|_: &Outcome<'_>| {
                ran();
                Ok(false)
            });
        }
        assert_eq!(stack.len(), 8);
        stack.close().expect("no failure");
    });
    assert_eq!(RAN.load(std::sync::atomic::Ordering::Relaxed), 8, "every entry ran");
    // Eight zero-sized entries: no boxes; past the four inline slots the
    // list allocates once (capacity 4) for the other four.
    assert_eq!(made, 1);
}

#[test]
fn large_stacks_cost_one_allocation_per_entry_plus_amortised_list_growth() {
    for n in [10, 1_000, 10_000] {
        let counter = Cell::new(0);
        let (stack, made) = stack_of(n, &counter);
        let (baseline_stack, baseline) = baseline_of(n, &counter);
        // Doubling growth: about log2(n) reallocations on top of the boxes.
        let growth = u64::from(usize::BITS - n.leading_zeros());
        assert!(made <= n as u64 + growth, "n={n}: {made} allocations");
        assert!(made <= baseline, "n={n}: {made} vs baseline {baseline}");
        let ((), closing) = allocations(|| stack.close().expect("no failure"));
        assert_eq!(closing, 0);
        assert_eq!(counter.get(), each_ran_once(n), "n={n}: every callback ran, once");
        drop(baseline_stack);
    }
}

#[test]
fn an_entered_manager_costs_one_allocation() {
    let stack = ExitStack::new();
    let (target, made) = allocations(|| stack.enter(BufWriter::with_capacity(0, Vec::new())).map(|_| ()));
    target.expect("enter");
    assert_eq!(made, 1, "the manager's box (BufWriter::with_capacity(0) allocates nothing itself)");
    stack.close().expect("flush");
}
