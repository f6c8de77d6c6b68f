//! The sync `scope!` / `defer!` path allocates nothing: a counting global
//! allocator over 10,000 scopes with managers, defers, an error path and
//! exit errors of a non-allocating error type.

use managed::{defer, scope, with, Manage, Outcome};
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

mod counting_alloc;

use counting_alloc::ALLOCATIONS;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// A manager with an error type that does not allocate.
struct Counter<'a> {
    count: &'a Cell<u32>,
    target: u32,
    fail_exit: bool,
}

#[derive(Debug, PartialEq)]
struct Failed(u32);

impl Manage for Counter<'_> {
    type Target = u32;
    type Error = Failed;
    fn enter(&mut self) -> Result<&mut u32, Failed> {
        self.count.set(self.count.get() + 1);
        Ok(&mut self.target)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Failed> {
        self.count.set(self.count.get() + u32::from(outcome.is_ok()));
        if self.fail_exit {
            Err(Failed(self.target))
        } else {
            Ok(())
        }
    }
}

fn one_scope(count: &Cell<u32>, i: u32) -> Result<u32, Failed> {
    defer!(count.set(count.get() + 1));
    scope! {
        let a = with!(Counter { count, target: i, fail_exit: i % 7 == 0 })?;
        defer!(err => count.set(count.get() + 100));
        let b = with!(Counter { count, target: 1, fail_exit: false })?;
        defer!(|o| count.set(count.get() + u32::from(o.is_failure())));
        if i % 5 == 0 {
            return Err(Failed(5));
        }
        *a += *b;
        Ok(*a)
    }
}

#[test]
fn ten_thousand_scopes_allocate_nothing() {
    static REPORTED: AtomicU32 = AtomicU32::new(0);
    managed::set_error_hook(|_| {
        REPORTED.fetch_add(1, Ordering::Relaxed);
    });
    let count = Cell::new(0);
    // Warm up whatever the runtime sets up lazily (thread-locals, the hook's lock).
    let _ = one_scope(&count, 35);
    REPORTED.store(0, Ordering::Relaxed);
    let before = ALLOCATIONS.with(Cell::get);
    let mut ok = 0u32;
    let mut err = 0u32;
    for i in 1..=10_000 {
        match one_scope(&count, i) {
            Ok(v) => {
                assert_eq!(v, i + 1);
                ok += 1;
            }
            Err(_) => err += 1,
        }
    }
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(allocations, 0, "the sync scope path allocated");
    assert_eq!(ok + err, 10_000);
    assert!(err > 0 && ok > 0, "both paths ran: ok {ok}, err {err}");
    assert!(count.get() > 40_000, "managers and defers ran: {}", count.get());
    // Exit errors after a body error of a non-`managed::Error` type go to
    // the hook: i divisible by 35.
    assert_eq!(REPORTED.load(Ordering::Relaxed), 10_000 / 35);
}
