//! `defer!` outside `scope!`: scopeguard's semantics (runs once, at the end
//! of the enclosing block, also while unwinding), and `defer!(panic => ..)`.

mod common;

use common::quiet_panics;
use managed::defer;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn runs_once_at_the_end_of_the_block() {
    let count = Cell::new(0);
    {
        defer! { count.set(count.get() + 1) }
        assert_eq!(count.get(), 0, "not before the end of the block");
    }
    assert_eq!(count.get(), 1);
}

#[test]
fn runs_in_lifo_order() {
    let log = RefCell::new(Vec::new());
    {
        defer!(log.borrow_mut().push(1));
        defer!(log.borrow_mut().push(2));
        defer! {
            log.borrow_mut().push(3);
        }
    }
    assert_eq!(*log.borrow(), [3, 2, 1]);
}

#[test]
fn runs_on_early_return_and_question_mark() {
    fn f(log: &RefCell<Vec<&'static str>>, fail: bool) -> Result<(), std::num::ParseIntError> {
        defer!(log.borrow_mut().push("deferred"));
        let _: u8 = if fail { "x".parse()? } else { 1 };
        log.borrow_mut().push("end");
        Ok(())
    }
    let log = RefCell::new(Vec::new());
    assert!(f(&log, true).is_err());
    assert_eq!(*log.borrow(), ["deferred"]);
    log.borrow_mut().clear();
    assert!(f(&log, false).is_ok());
    assert_eq!(*log.borrow(), ["end", "deferred"]);
}

#[test]
fn runs_while_unwinding() {
    quiet_panics();
    let count = Cell::new(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        defer!(count.set(count.get() + 1));
        panic!("test: unwinding");
    }));
    assert!(r.is_err());
    assert_eq!(count.get(), 1);
}

#[test]
fn captured_value_is_dropped_once() {
    struct DropCounter<'a>(&'a Cell<u32>);
    impl Drop for DropCounter<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let drops = Cell::new(0);
    let ran = Cell::new(false);
    {
        let owned = DropCounter(&drops);
        defer! {
            let moved = owned;
            ran.set(true);
            drop(moved);
        }
        assert_eq!(drops.get(), 0);
    }
    assert!(ran.get());
    assert_eq!(drops.get(), 1);
}

#[test]
fn panic_defer_runs_only_while_unwinding() {
    quiet_panics();
    let count = Cell::new(0);
    {
        defer!(panic => count.set(count.get() + 1));
    }
    assert_eq!(count.get(), 0, "not on a normal exit");
    let r = catch_unwind(AssertUnwindSafe(|| {
        defer!(panic => count.set(count.get() + 10));
        panic!("test: p");
    }));
    assert!(r.is_err());
    assert_eq!(count.get(), 10);
}

#[test]
fn a_panicking_panic_defer_is_reported_not_aborting() {
    quiet_panics();
    let (r, reports) = common::reports_of(|| {
        catch_unwind(AssertUnwindSafe(|| {
            defer!(panic => panic!("second panic"));
            panic!("test: first");
        }))
    });
    assert_eq!(common::panic_message(&*r.expect_err("first panic resumes")), "test: first");
    assert_eq!(reports.len(), 1);
    assert!(reports[0].contains("second panic"), "{reports:?}");
}

#[test]
fn defers_in_a_loop_run_each_iteration() {
    let log = RefCell::new(Vec::new());
    for i in 0..3 {
        defer!(log.borrow_mut().push(i));
    }
    assert_eq!(*log.borrow(), [0, 1, 2]);
}

#[test]
fn jumps_that_stay_inside_the_deferred_code_are_accepted() {
    let log = RefCell::new(Vec::new());
    {
        defer! {
            'outer: for i in 0..5 {
                for j in 0..5 {
                    if j == 1 {
                        continue 'outer;
                    }
                    if i == 2 {
                        break 'outer;
                    }
                    log.borrow_mut().push((i, j));
                }
            }
            let value = 'block: {
                if log.borrow().is_empty() {
                    break 'block 0;
                }
                1
            };
            log.borrow_mut().push((value, value));
            let non_empty = |entries: &[(i32, i32)]| {
                if entries.is_empty() {
                    return false;
                }
                true
            };
            assert!(non_empty(&log.borrow()));
            if value == 1 {
                return;
            }
            log.borrow_mut().push((9, 9));
        }
    }
    assert_eq!(*log.borrow(), [(0, 0), (1, 0), (1, 1)]);
}
