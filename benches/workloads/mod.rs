//! The code measured by `benches/callgrind.rs` (instruction counts) and
//! `benches/wallclock.rs` (criterion): each row of BENCHMARKS.md is one
//! `managed` function here next to its hand-written equivalent and, where one
//! exists, its scopeguard equivalent.
//!
//! Rules every pair follows, so a ratio compares like with like:
//! - the same work and the same cleanup on both sides; where `managed` merges
//!   an exit error into the block's result, the hand-written side does the
//!   same merge (first error primary, later one reported to the hook);
//! - every function is `#[inline(never)]` and takes its inputs through
//!   `black_box` at the call site, so neither side is folded into its caller;
//! - the body calls [`work`], an opaque function that may unwind, so drop
//!   guards need their landing pads exactly as in real code.
//!
//! The small workloads in this file and `async_scope.rs` are the first
//! rows, kept as they were; the workloads of DESIGN.md section 10 (two kinds
//! of manager, 1 / 3 / 8 managers, Ok and a mid-body `?`, sync and async
//! under two executors) are in `nest.rs` and `nest_async.rs`.
//!
//! Adding a row: add the functions here (or in your own module), one bench
//! per function in `callgrind.rs` / `wallclock.rs`, and one `[[row]]` in
//! `benches/rows.toml`.

use std::cell::Cell;
use std::hint::black_box;

use managed::{Manage, Outcome};

pub mod async_scope;
pub mod nest;
pub mod nest_async;

/// Calls per measured benchmark: instruction counts are divided by this,
/// so per-call figures carry no harness noise.
pub const CALLS: u64 = 1_000;

/// Opaque work that may panic: the reason drop guards and `catch_unwind`
/// keep their landing pads, as in real code. (Without the panic path the
/// optimiser proves it cannot unwind and removes them on every side.)
#[inline(never)]
pub fn work(x: u64) -> u64 {
    let x = black_box(x);
    assert!(x != EXIT_FAILS_FOR - 1, "work: input out of range");
    x.wrapping_mul(3)
}

/// A cheap manager: counts enters and exits, tells Ok from failure, and can
/// fail its exit (never does in the benches, but the optimiser cannot know:
/// the merge code stays on both sides).
pub struct Counter<'a> {
    hits: &'a Cell<u64>,
    target: u64,
    fail_exit: bool,
}

impl<'a> Counter<'a> {
    #[inline]
    pub fn new(hits: &'a Cell<u64>, target: u64) -> Self {
        Counter { hits, target, fail_exit: target == EXIT_FAILS_FOR }
    }
}

/// The value an exit fails for: outside every benchmark's inputs.
pub const EXIT_FAILS_FOR: u64 = u64::MAX;

/// A non-allocating error, so allocation counts measure the framework only.
#[derive(Debug, PartialEq, Eq)]
pub struct Failed(pub u64);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed: {}", self.0)
    }
}

impl std::error::Error for Failed {}

impl Manage for Counter<'_> {
    type Target = u64;
    type Error = Failed;
    #[inline]
    fn enter(&mut self) -> Result<&mut u64, Failed> {
        self.hits.set(self.hits.get() + 1);
        Ok(&mut self.target)
    }
    #[inline]
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Failed> {
        self.hits.set(self.hits.get() + if outcome.is_ok() { 1 } else { 2 });
        if self.fail_exit {
            Err(Failed(self.target))
        } else {
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- defer!

/// `defer!` outside a scope: a drop guard.
#[inline(never)]
pub fn defer_managed(hits: &Cell<u64>, x: u64) -> u64 {
    managed::defer!(hits.set(hits.get() + 1));
    work(x)
}

/// The hand-written drop guard users would write instead.
#[inline(never)]
pub fn defer_hand(hits: &Cell<u64>, x: u64) -> u64 {
    struct Bump<'a>(&'a Cell<u64>);
    impl Drop for Bump<'_> {
        #[inline]
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let _bump = Bump(hits);
    work(x)
}

/// `scopeguard::defer!`.
#[inline(never)]
pub fn defer_scopeguard(hits: &Cell<u64>, x: u64) -> u64 {
    scopeguard::defer!(hits.set(hits.get() + 1));
    work(x)
}

/// `defer!(panic => ..)` outside a scope: runs only while unwinding.
#[inline(never)]
pub fn defer_panic_managed(hits: &Cell<u64>, x: u64) -> u64 {
    managed::defer!(panic => hits.set(hits.get() + 1));
    work(x)
}

/// The hand-written guard that only acts while unwinding.
#[inline(never)]
pub fn defer_panic_hand(hits: &Cell<u64>, x: u64) -> u64 {
    struct OnUnwind<'a>(&'a Cell<u64>);
    impl Drop for OnUnwind<'_> {
        #[inline]
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.set(self.0.get() + 1);
            }
        }
    }
    let _bump = OnUnwind(hits);
    work(x)
}

/// `scopeguard::defer_on_unwind!`.
#[inline(never)]
pub fn defer_panic_scopeguard(hits: &Cell<u64>, x: u64) -> u64 {
    scopeguard::defer_on_unwind!(hits.set(hits.get() + 1));
    work(x)
}

// ---------------------------------------------------------------- scope!

/// What a hand-written cleanup does with its result: the primary/suppressed
/// rule `scope!` applies (first error wins, the later one goes to the hook
/// because `Failed` cannot hold it). Written once, as a user would.
#[inline]
fn merge<T>(body: Result<T, Failed>, exit: Result<(), Failed>) -> Result<T, Failed> {
    match (body, exit) {
        (body, Ok(())) => body,
        (Ok(_), Err(later)) => Err(later),
        (Err(primary), Err(later)) => {
            managed::report(managed::ReportKind::SuppressedNotAttached, &later);
            Err(primary)
        }
    }
}

/// The outcome a hand-written exit is given.
#[inline]
fn outcome_of<T>(body: &Result<T, Failed>) -> Outcome<'_> {
    match body {
        Ok(_) => Outcome::Ok,
        Err(e) => Outcome::err(e),
    }
}

/// `scope!` with one manager; `fail` makes the body return an error.
#[inline(never)]
pub fn scope1_managed(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    managed::scope! {
        let a = managed::with!(Counter::new(hits, x))?;
        *a = a.wrapping_add(work(x));
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    }
}

/// The same by hand: enter, run the body, exit with its outcome, merge.
#[inline(never)]
pub fn scope1_hand(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut m = Counter::new(hits, x);
    let a = m.enter()?;
    let body = (|| {
        *a = a.wrapping_add(work(x));
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    })();
    let exit = m.exit(&outcome_of(&body));
    merge(body, exit)
}

/// `scope!` with three managers, exited in reverse order.
#[inline(never)]
pub fn scope3_managed(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    managed::scope! {
        let a = managed::with!(Counter::new(hits, x))?;
        let b = managed::with!(Counter::new(hits, x + 1))?;
        let c = managed::with!(Counter::new(hits, x + 2))?;
        *a = a.wrapping_add(work(b.wrapping_add(*c)));
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    }
}

/// The same by hand. A failed enter exits the managers already entered with
/// that error as their outcome, as `scope!` does.
#[inline(never)]
pub fn scope3_hand(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut ma = Counter::new(hits, x);
    let a = ma.enter()?;
    let mut mb = Counter::new(hits, x + 1);
    let result_b = match mb.enter() {
        Ok(b) => {
            let mut mc = Counter::new(hits, x + 2);
            let result_c = match mc.enter() {
                Ok(c) => {
                    let body = (|| {
                        *a = a.wrapping_add(work(b.wrapping_add(*c)));
                        if fail {
                            return Err(Failed(*a));
                        }
                        Ok(*a)
                    })();
                    let exit = mc.exit(&outcome_of(&body));
                    merge(body, exit)
                }
                Err(e) => Err(e),
            };
            let exit = mb.exit(&outcome_of(&result_c));
            merge(result_c, exit)
        }
        Err(e) => Err(e),
    };
    let exit = ma.exit(&outcome_of(&result_b));
    merge(result_b, exit)
}

// ------------------------------------------- scope! with a fallible enter

/// The enter of a real resource (open a file, take a lock): opaque, and it
/// may fail. It never does here; the optimiser cannot know, so `with!`'s
/// `entered` flag and the early return on a failed enter stay in the code.
#[inline(never)]
pub fn acquire(x: u64) -> Result<u64, Failed> {
    let x = black_box(x);
    if x == EXIT_FAILS_FOR - 2 {
        Err(Failed(x))
    } else {
        Ok(x)
    }
}

/// A manager whose enter is [`acquire`].
pub struct Resource<'a> {
    hits: &'a Cell<u64>,
    target: u64,
}

impl<'a> Resource<'a> {
    #[inline]
    pub fn new(hits: &'a Cell<u64>, target: u64) -> Self {
        Resource { hits, target }
    }
}

impl Manage for Resource<'_> {
    type Target = u64;
    type Error = Failed;
    #[inline]
    fn enter(&mut self) -> Result<&mut u64, Failed> {
        self.target = acquire(self.target)?;
        self.hits.set(self.hits.get() + 1);
        Ok(&mut self.target)
    }
    #[inline]
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Failed> {
        self.hits.set(self.hits.get() + if outcome.is_ok() { 1 } else { 2 });
        Ok(())
    }
}

/// `scope!` with one manager whose enter may fail.
#[inline(never)]
pub fn scope_fallible_managed(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    managed::scope! {
        let a = managed::with!(Resource::new(hits, x))?;
        *a = a.wrapping_add(work(x));
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    }
}

/// The same by hand.
#[inline(never)]
pub fn scope_fallible_hand(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut m = Resource::new(hits, x);
    let a = m.enter()?;
    let body = (|| {
        *a = a.wrapping_add(work(x));
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    })();
    let exit = m.exit(&outcome_of(&body));
    merge(body, exit)
}

/// The same by hand, and as panic-safe as `scope!`: a panic of the body
/// exits the manager with the panic as the outcome, then resumes.
#[inline(never)]
pub fn scope_fallible_hand_unwind(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut m = Resource::new(hits, x);
    let a = m.enter()?;
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        *a = a.wrapping_add(work(x));
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    }));
    let body = match caught {
        Ok(body) => body,
        Err(panic) => {
            if let Err(e) = m.exit(&Outcome::panic(&*panic)) {
                managed::report(managed::ReportKind::FailedWhileUnwinding, &e);
            }
            std::panic::resume_unwind(panic)
        }
    };
    let exit = m.exit(&outcome_of(&body));
    merge(body, exit)
}

// ------------------------------------------------ #[managed] fn (sync)

/// [`Counter`] written as a `#[managed]` function: the enter before
/// `yield_!`, the exit after it.
#[managed::managed]
pub fn counted(hits: &Cell<u64>, target: u64) -> Result<u64, Failed> {
    hits.set(hits.get() + 1);
    let fail_exit = target == EXIT_FAILS_FOR;
    let outcome = managed::yield_!(target);
    hits.set(hits.get() + if outcome.is_ok() { 1 } else { 2 });
    if fail_exit {
        Err(Failed(target))?;
    }
}

/// `scope!` with one manager made by `#[managed]` (compare with
/// [`scope1_managed`], the same manager implemented by hand).
#[inline(never)]
pub fn scope1_attr(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    managed::scope! {
        let a = managed::with!(counted(hits, x))?;
        *a = a.wrapping_add(work(x));
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    }
}
