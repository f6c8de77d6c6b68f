//! `#[managed]` on a fn with one `yield_!` (Python's `@contextmanager`):
//! enter and exit parts, their failures, panics, captured arguments and
//! locals, through `scope!` and `Guard`.
#![allow(
    clippy::unnecessary_wraps,
    clippy::elidable_lifetime_names,
    reason = "the test managers spell out each signature form #[managed] accepts"
)]

use std::cell::RefCell;
use std::convert::Infallible;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use managed::prelude::*;
use managed::Guard;

type Log = RefCell<Vec<String>>;

#[derive(Debug, PartialEq)]
struct Tx {
    rows: Vec<&'static str>,
}

/// Code before `yield_!` is the enter, after it the exit; `?` in either is
/// that part's failure.
#[managed]
fn transaction(log: &Log, fail_begin: bool, fail_end: bool) -> Result<Tx, io::Error> {
    log.borrow_mut().push("BEGIN".into());
    if fail_begin {
        return Err(io::Error::other("begin failed"));
    }
    let tx = Tx { rows: Vec::new() };
    let outcome = yield_!(tx);
    let verb = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
    log.borrow_mut().push(format!("{verb} {:?}", tx.rows));
    if fail_end {
        Err(io::Error::other(format!("{verb} failed")))?;
    }
}

#[test]
fn enter_lends_and_exit_sees_ok() {
    let log = Log::default();
    let r = scope! {
        let tx = with!(transaction(&log, false, false))?;
        tx.rows.push("alice");
        log.borrow_mut().push("body".into());
        Ok::<_, io::Error>(tx.rows.len())
    };
    assert_eq!(r.unwrap(), 1);
    assert_eq!(*log.borrow(), ["BEGIN", "body", "COMMIT [\"alice\"]"]);
}

#[test]
fn early_return_in_enter_is_an_enter_failure_and_no_exit_runs() {
    let log = Log::default();
    let r = scope! {
        let _tx = with!(transaction(&log, true, false))?;
        log.borrow_mut().push("body".into());
        Ok::<_, io::Error>(())
    };
    assert_eq!(r.unwrap_err().to_string(), "begin failed");
    assert_eq!(*log.borrow(), ["BEGIN"]);
}

#[test]
fn question_mark_in_exit_is_an_exit_failure() {
    let log = Log::default();
    let r = scope! {
        let _tx = with!(transaction(&log, false, true))?;
        Ok::<_, io::Error>(())
    };
    assert_eq!(r.unwrap_err().to_string(), "COMMIT failed");
}

#[test]
fn exit_sees_the_block_error_and_its_failure_is_suppressed() {
    let log = Log::default();
    let r = scope! {
        let tx = with!(transaction(&log, false, true))?;
        tx.rows.push("bob");
        Err::<(), _>(managed::Error::msg("constraint violated"))
    };
    let e = r.unwrap_err();
    assert_eq!(e.to_string(), "constraint violated");
    assert_eq!(e.suppressed()[0].to_string(), "ROLLBACK failed");
    assert_eq!(*log.borrow(), ["BEGIN", "ROLLBACK [\"bob\"]"]);
}

#[test]
fn exit_sees_a_panic_and_the_panic_resumes() {
    let log = Log::default();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        scope! {
            let _tx = with!(transaction(&log, false, false))?;
            panic!("boom");
            #[allow(unreachable_code)]
            Ok::<_, io::Error>(())
        }
    }));
    assert_eq!(caught.unwrap_err().downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(*log.borrow(), ["BEGIN", "ROLLBACK []"]);
}

#[test]
fn each_call_gives_a_fresh_manager_through_guard() {
    let log = Log::default();
    for name in ["one", "two"] {
        let mut guard = Guard::new(transaction(&log, false, false));
        guard.enter().unwrap().rows.push(name);
        guard.exit(&Outcome::Ok).unwrap();
    }
    assert_eq!(*log.borrow(), ["BEGIN", "COMMIT [\"one\"]", "BEGIN", "COMMIT [\"two\"]"]);
}

#[test]
fn exit_without_enter_runs_nothing() {
    let log = Log::default();
    let guard = Guard::new(transaction(&log, false, true));
    assert!(guard.exit(&Outcome::Ok).is_ok());
    assert!(log.borrow().is_empty(), "not even the enter part ran");
}

/// A bare return type is the target, and the manager cannot fail.
#[managed]
fn counting(log: &Log) -> u32 {
    let start = log.borrow().len();
    let outcome = yield_!(0);
    log.borrow_mut().push(format!("counted from {start}, ok: {}", outcome.is_ok()));
}

#[test]
fn bare_target_is_infallible() {
    fn error_is_infallible<M: Manage<Error = Infallible, Target = u32>>(_: &M) {}
    let log = Log::default();
    error_is_infallible(&counting(&log));
    let mut guard = Guard::new(counting(&log));
    *guard.enter().unwrap() += 1;
    let Ok(()) = guard.exit(&Outcome::Ok);
    assert_eq!(*log.borrow(), ["counted from 0, ok: true"]);
}

/// A local never mentioned after its `let` is kept alive until the exit
/// (a lock guard, a timer): dropped after the exit part, not at enter.
struct Noisy<'a>(&'a Log, &'static str);

impl Drop for Noisy<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().push(format!("drop {}", self.1));
    }
}

#[managed]
fn holding(log: &Log) -> Result<(), managed::Error> {
    let _held = Noisy(log, "held");
    let temporary = Noisy(log, "temporary");
    drop(temporary);
    yield_!(());
    log.borrow_mut().push("exit part".into());
}

#[test]
fn unmentioned_locals_live_until_the_exit() {
    let log = Log::default();
    scope! {
        with!(holding(&log))?;
        log.borrow_mut().push("body".into());
        Ok::<_, managed::Error>(())
    }
    .unwrap();
    assert_eq!(*log.borrow(), ["drop temporary", "body", "exit part", "drop held"]);
}

/// Generic fns, `mut` locals used by the exit part, `yield_!(expr)` of a
/// non-local, and `yield_!` as a statement without the outcome.
#[managed]
fn collecting<T: Clone + std::fmt::Debug>(into: &RefCell<Vec<T>>, first: T) -> Result<Vec<T>, managed::Error> {
    let mut seen = 0_usize;
    seen += 1;
    yield_!(vec![first.clone()]);
    seen += 1;
    into.borrow_mut().push(first);
    assert_eq!(seen, 2);
}

#[test]
fn generic_fn_and_statement_form() {
    let into = RefCell::new(Vec::new());
    let r = scope! {
        let v = with!(collecting(&into, 'a'))?;
        v.push('b');
        Ok::<_, managed::Error>(v.clone())
    };
    assert_eq!(r.unwrap(), ['a', 'b']);
    assert_eq!(*into.borrow(), ['a']);
}

/// `mut` arguments, and the lent variable reused by name after `yield_!`.
#[managed]
fn buffered(mut out: Vec<u8>, sink: &RefCell<Vec<u8>>) -> Result<Vec<u8>, io::Error> {
    out.push(b'[');
    let outcome = yield_!(out);
    if outcome.is_ok() {
        out.push(b']');
        sink.borrow_mut().extend_from_slice(&out);
    }
}

#[test]
fn lent_value_returns_to_the_exit_part() {
    let sink = RefCell::new(Vec::new());
    scope! {
        let out = with!(buffered(Vec::new(), &sink))?;
        out.extend_from_slice(b"data");
        Ok::<_, io::Error>(())
    }
    .unwrap();
    assert_eq!(&*sink.borrow(), b"[data]");
    let r = scope! {
        let out = with!(buffered(Vec::new(), &sink))?;
        out.push(b'x');
        Err::<(), _>(io::Error::other("failed"))
    };
    assert!(r.is_err());
    assert_eq!(&*sink.borrow(), b"[data]", "exit part saw the failure and wrote nothing");
}

/// A panic in the exit part comes out of the scope.
#[managed]
fn panicking_exit() -> Result<u8, io::Error> {
    yield_!(1);
    panic!("exit part panicked");
}

#[test]
fn a_panic_in_the_exit_part_resumes() {
    let caught = catch_unwind(|| {
        scope! {
            let _one = with!(panicking_exit())?;
            Ok::<_, io::Error>(())
        }
    });
    assert_eq!(caught.unwrap_err().downcast_ref::<&str>(), Some(&"exit part panicked"));
}

/// Const generics, where clauses and patterns in arguments.
#[managed]
fn windowed<T, const N: usize>((first, last): (T, T), log: &RefCell<Vec<String>>) -> Result<[Option<T>; N], io::Error>
where
    T: Copy + std::fmt::Debug,
{
    log.borrow_mut().push(format!("open {first:?}"));
    yield_!([None; N]);
    log.borrow_mut().push(format!("close {last:?}"));
}

#[test]
fn const_generics_where_clauses_and_argument_patterns() {
    let log = RefCell::new(Vec::new());
    let filled = scope! {
        let window = with!(windowed::<u8, 3>((1, 9), &log))?;
        window[1] = Some(5);
        Ok::<_, io::Error>(window.iter().flatten().count())
    };
    assert_eq!(filled.unwrap(), 1);
    assert_eq!(*log.borrow(), ["open 1", "close 9"]);
}

/// The exit part may end with an explicit `Ok(())` (or any
/// `Result<(), E>`), as a fn body would.
#[managed]
fn explicit_ok(fail: bool) -> Result<u8, io::Error> {
    yield_!(0);
    if fail {
        Err(io::Error::other("exit tail failed"))
    } else {
        Ok(())
    }
}

#[test]
fn exit_part_tail_is_its_result() {
    let mut guard = Guard::new(explicit_ok(false));
    guard.enter().unwrap();
    assert!(guard.exit(&Outcome::Ok).is_ok());
    let mut guard = Guard::new(explicit_ok(true));
    guard.enter().unwrap();
    assert_eq!(guard.exit(&Outcome::Ok).unwrap_err().to_string(), "exit tail failed");
}
