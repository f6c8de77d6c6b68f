//! The benchmark pairs in `benches/workloads/` are honest equivalents: for
//! the same inputs, the `managed` function, its hand-written baseline and
//! its scopeguard version return the same value and do the same cleanup
//! work (the `hits` counter). A baseline that skipped work would make a
//! ratio in BENCHMARKS.md meaningless.

#[allow(dead_code)] // `CALLS` is for the benches
#[path = "../benches/workloads/mod.rs"]
mod workloads;

use std::cell::Cell;

type DeferFn = fn(&Cell<u64>, u64) -> u64;
type ScopeFn = fn(&Cell<u64>, u64, bool) -> Result<u64, workloads::Failed>;

fn run_defer(f: DeferFn, x: u64) -> (u64, u64) {
    let hits = Cell::new(0);
    let value = f(&hits, x);
    (value, hits.get())
}

fn run_scope(f: ScopeFn, x: u64, fail: bool) -> (Result<u64, workloads::Failed>, u64) {
    let hits = Cell::new(0);
    let value = f(&hits, x, fail);
    (value, hits.get())
}

#[test]
fn defer_pairs_do_the_same_work() {
    for x in [0, 1, 7, 1_000] {
        let managed = run_defer(workloads::defer_managed, x);
        assert_eq!(managed, (x * 3, 1));
        assert_eq!(run_defer(workloads::defer_hand, x), managed);
        assert_eq!(run_defer(workloads::defer_scopeguard, x), managed);

        let managed = run_defer(workloads::defer_panic_managed, x);
        assert_eq!(managed, (x * 3, 0), "no panic, so the on-panic defer does not run");
        assert_eq!(run_defer(workloads::defer_panic_hand, x), managed);
        assert_eq!(run_defer(workloads::defer_panic_scopeguard, x), managed);
    }
}

#[test]
fn defer_pairs_run_while_unwinding() {
    // `work` panics for this input: every on-panic guard runs once.
    let x = workloads::EXIT_FAILS_FOR - 1;
    let fns: [DeferFn; 6] = [
        workloads::defer_managed,
        workloads::defer_hand,
        workloads::defer_scopeguard,
        workloads::defer_panic_managed,
        workloads::defer_panic_hand,
        workloads::defer_panic_scopeguard,
    ];
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for f in fns {
        let hits = Cell::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&hits, x)));
        assert!(r.is_err(), "work panics for this input");
        assert_eq!(hits.get(), 1, "the guard ran once while unwinding");
    }
    std::panic::set_hook(previous);
}

#[test]
fn scope_pairs_do_the_same_work_on_both_paths() {
    let pairs: [(ScopeFn, ScopeFn); 2] =
        [(workloads::scope1_managed, workloads::scope1_hand), (workloads::scope3_managed, workloads::scope3_hand)];
    for (managed, hand) in pairs {
        for fail in [false, true] {
            for x in [0, 1, 7, 1_000] {
                let m = run_scope(managed, x, fail);
                assert_eq!(m.0.is_err(), fail, "the Err row runs the Err path");
                assert_eq!(run_scope(hand, x, fail), m, "x {x}, fail {fail}");
            }
        }
    }
}

#[test]
fn scope_pairs_merge_a_failing_exit_alike() {
    // The manager whose target is `EXIT_FAILS_FOR` fails its exit: on the Ok
    // path that error is the result; on the Err path the body's error stays
    // primary and the exit's goes to the hook, on both sides.
    let x = workloads::EXIT_FAILS_FOR;
    for fail in [false, true] {
        let m = run_scope(workloads::scope1_managed, x, fail);
        assert_eq!(run_scope(workloads::scope1_hand, x, fail), m, "fail {fail}");
        assert_eq!(run_scope(workloads::scope1_attr, x, fail), m, "fail {fail}");
    }
}

#[test]
fn a_failed_enter_is_not_exited_on_either_side() {
    // `acquire` fails for this input: no exit runs, the enter's error is the result.
    let x = workloads::EXIT_FAILS_FOR - 2;
    let m = run_scope(workloads::scope_fallible_managed, x, false);
    assert_eq!(m, (Err(workloads::Failed(x)), 0));
    assert_eq!(run_scope(workloads::scope_fallible_hand, x, false), m);
    assert_eq!(run_scope(workloads::scope_fallible_hand_unwind, x, false), m);
}

#[test]
fn the_panic_safe_baseline_does_what_scope_does() {
    for fail in [false, true] {
        for x in [0, 1, 7] {
            let m = run_scope(workloads::scope_fallible_managed, x, fail);
            assert_eq!(run_scope(workloads::scope_fallible_hand_unwind, x, fail), m);
        }
    }
    // `work` panics for this input: both exit the manager with the panic (+2).
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let x = workloads::EXIT_FAILS_FOR - 1;
    let fns: [ScopeFn; 2] = [workloads::scope_fallible_managed, workloads::scope_fallible_hand_unwind];
    for f in fns {
        let hits = Cell::new(0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&hits, x, false)));
        assert!(r.is_err(), "the panic resumes");
        assert_eq!(hits.get(), 1 + 2, "entered, then exited with a failure outcome");
    }
    std::panic::set_hook(previous);
}

#[test]
fn async_scope_pairs_do_the_same_work_on_both_paths() {
    use workloads::async_scope as a;
    let pairs: [(ScopeFn, ScopeFn); 2] = [(a::async1_managed, a::async1_hand), (a::async3_managed, a::async3_hand)];
    for (managed, hand) in pairs {
        for fail in [false, true] {
            for x in [0, 1, 7, 1_000] {
                let m = run_scope(managed, x, fail);
                assert_eq!(m.0.is_err(), fail, "the Err row runs the Err path");
                assert_eq!(run_scope(hand, x, fail), m, "x {x}, fail {fail}");
            }
        }
    }
    // 3 managers: entered (+1 each) and exited with the body's outcome (+1 ok, +2 err).
    assert_eq!(run_scope(a::async3_managed, 1, false).1, 3 + 3);
    assert_eq!(run_scope(a::async3_managed, 1, true).1, 3 + 6);
}

#[test]
fn async_scope_pairs_merge_a_failing_exit_alike() {
    use workloads::async_scope as a;
    let x = workloads::EXIT_FAILS_FOR;
    for fail in [false, true] {
        let m = run_scope(a::async1_managed, x, fail);
        assert!(m.0.is_err(), "the exit's error, or the body's when both fail");
        assert_eq!(run_scope(a::async1_hand, x, fail), m, "fail {fail}");
    }
}

// ------------------------------------------------ DESIGN.md section 10 workloads
// `benches/workloads/nest.rs` and `nest_async.rs`: every side of a pair
// returns the same result and leaves the same journal digest (the enters
// and exits, in order, with the outcome each exit saw), which is also
// checked against the journal the scope must leave.

mod nest_pairs {
    use super::workloads::nest::{self, comparable, entered, exited, record, Side, ENTER_FAILS_FOR, EXIT_FAILS_FOR};
    use super::workloads::nest_async;
    use std::cell::Cell;

    /// The result (value, or primary error code and number of suppressed
    /// errors) and the journal digest.
    fn run(f: Side, x: u64, fail: bool) -> (Result<u64, (Option<u64>, usize)>, u64) {
        let hits = Cell::new(0);
        let value = f(&hits, x, fail);
        (comparable(&value), hits.get())
    }

    /// The digest of `entered` managers (ids `x`, `x + 1`, ..) entered in
    /// order, then exited newest first; exit `k` sees an Ok outcome iff
    /// `ok_at(k)`.
    fn journal(x: u64, entered_count: u64, ok_at: impl Fn(u64) -> bool) -> u64 {
        let hits = Cell::new(0);
        for k in 0..entered_count {
            record(&hits, entered(x.wrapping_add(k)));
        }
        for k in (0..entered_count).rev() {
            record(&hits, exited(x.wrapping_add(k), ok_at(k)));
        }
        hits.get()
    }

    /// Every side of every pair, sync and async: (name, managers, sides).
    fn all_pairs() -> Vec<(&'static str, u64, Vec<Side>)> {
        let mut pairs: Vec<_> = nest::WORKLOADS
            .iter()
            .map(|&(name, n, managed, hand, unwind)| (name, n, vec![managed, hand, unwind]))
            .collect();
        pairs.extend(nest_async::WORKLOADS.iter().map(|&(name, n, managed, hand)| (name, n, vec![managed, hand])));
        pairs
    }

    #[test]
    fn every_side_enters_and_exits_alike_on_the_ok_and_err_paths() {
        for (name, n, sides) in all_pairs() {
            for fail in [false, true] {
                for x in [0, 1, 7, 1_000] {
                    let managed = run(sides[0], x, fail);
                    assert_eq!(managed.0.is_err(), fail, "{name}: the Err row leaves through `?`");
                    assert_eq!(managed.1, journal(x, n, |_| !fail), "{name}: enters, then exits newest first");
                    for (i, side) in sides.iter().enumerate().skip(1) {
                        assert_eq!(run(*side, x, fail), managed, "{name} side {i}, x {x}, fail {fail}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_failed_enter_exits_only_the_managers_entered_before_it() {
        for (name, n, sides) in all_pairs() {
            for k in 0..n {
                // Manager `k` (id `x + k`) fails to enter.
                let x = ENTER_FAILS_FOR - k;
                let managed = run(sides[0], x, false);
                assert_eq!(managed, (Err((Some(ENTER_FAILS_FOR), 0)), journal(x, k, |_| false)), "{name}, enter {k}");
                for side in &sides[1..] {
                    assert_eq!(run(*side, x, false), managed, "{name}, enter {k}");
                }
            }
        }
    }

    #[test]
    fn a_failed_exit_is_merged_alike() {
        // Manager `k` fails its exit: on the Ok path its error is the
        // result and the older managers see a failure; on the Err path the
        // body's error stays primary, with the exit's attached to it.
        for (name, n, sides) in all_pairs() {
            for k in 0..n {
                let x = EXIT_FAILS_FOR - k;
                for fail in [false, true] {
                    let managed = run(sides[0], x, fail);
                    let expected = journal(x, n, |j| !fail && j >= k);
                    assert_eq!(managed.1, expected, "{name}, exit {k}, fail {fail}");
                    if fail {
                        assert!(
                            matches!(managed.0, Err((Some(_), 1))),
                            "{name}, exit {k}: the body's error, one attached"
                        );
                    } else {
                        assert_eq!(managed.0, Err((Some(EXIT_FAILS_FOR), 0)), "{name}, exit {k}");
                    }
                    for side in &sides[1..] {
                        assert_eq!(run(*side, x, fail), managed, "{name}, exit {k}, fail {fail}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_panicking_body_exits_every_manager_on_the_panic_safe_sides() {
        // `work` panics for this input: `scope!` and the nest with
        // `catch_unwind` exit every manager with a failure, then resume.
        let x = super::workloads::EXIT_FAILS_FOR - 1;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        for &(name, n, managed, _, unwind) in &nest::WORKLOADS {
            for side in [managed, unwind] {
                let hits = Cell::new(0);
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| side(&hits, x, false)));
                assert!(r.is_err(), "{name}: the panic resumes");
                assert_eq!(hits.get(), journal(x, n, |_| false), "{name}: every manager exited with the panic");
            }
        }
        std::panic::set_hook(previous);
    }
}
