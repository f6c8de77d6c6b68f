//! `#[managed]` managers allocate nothing (DESIGN section 10): a counting
//! global allocator over 10,000 scopes entering an impl-block manager, a
//! struct of managers and a `yield_!` fn, on the ok and the error paths.

use managed::{managed, scope, with, yield_, Outcome};
use std::cell::Cell;

mod counting_alloc;

use counting_alloc::ALLOCATIONS;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[derive(Debug, PartialEq)]
struct Failed(u32);

struct Counter<'a> {
    count: &'a Cell<u32>,
    value: u32,
}

#[managed]
impl Counter<'_> {
    #[enter]
    fn start(&mut self) -> Result<(), Failed> {
        self.count.set(self.count.get() + 1);
        if self.value == 13 {
            return Err(Failed(13));
        }
        Ok(())
    }

    #[exit]
    fn stop(self, outcome: &Outcome) {
        self.count.set(self.count.get() + u32::from(outcome.is_ok()));
    }
}

#[managed(error = Failed)]
struct Both<'a> {
    #[managed]
    first: Counter<'a>,
    #[managed]
    second: Counter<'a>,
}

#[managed]
fn counted(count: &Cell<u32>, start: u32) -> Result<u32, Failed> {
    count.set(count.get() + 1);
    let outcome = yield_!(start);
    if outcome.is_failure() {
        count.set(count.get() + 100);
    }
}

fn one_scope(count: &Cell<u32>, i: u32) -> Result<u32, Failed> {
    scope! {
        let a = with!(Counter { count, value: i })?;
        let both = with!(Both { first: Counter { count, value: 1 }.into(), second: Counter { count, value: i % 100 }.into() })?;
        let n = with!(counted(count, i))?;
        if i % 5 == 0 {
            return Err(Failed(5));
        }
        *n += a.value + both.first.value;
        Ok(*n)
    }
}

#[test]
fn ten_thousand_scopes_allocate_nothing() {
    let count = Cell::new(0);
    // Warm up whatever the runtime sets up lazily.
    let _ = one_scope(&count, 1);
    let before = ALLOCATIONS.with(Cell::get);
    let (mut ok, mut err) = (0u32, 0u32);
    for i in 1..=10_000 {
        match one_scope(&count, i) {
            Ok(v) => {
                assert_eq!(v, 2 * i + 1);
                ok += 1;
            }
            Err(_) => err += 1,
        }
    }
    let allocations = ALLOCATIONS.with(Cell::get) - before;
    assert_eq!(allocations, 0, "the #[managed] managers allocated");
    assert!(ok > 0 && err > 0, "both paths ran: ok {ok}, err {err}");
    assert!(count.get() > 40_000, "enters and exits ran: {}", count.get());
}
