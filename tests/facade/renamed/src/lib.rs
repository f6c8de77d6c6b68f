//! `managed` as a renamed dependency (`mg = { package = "managed", .. }`):
//! `scope!`, `with!` and `defer!` imported under the new name, and written
//! with its path. Compiling this crate is half of the test: before the
//! macros named the crate through `$crate`, every scope here failed with
//! "cannot find `managed` in the crate root".
#![cfg(test)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use mg::{defer, scope, with, Error, Manage, Outcome};

/// What happened, in order.
type Log = RefCell<Vec<String>>;

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

/// Logs its enter and its exit with the outcome the exit saw.
struct Step<'a> {
    name: &'static str,
    log: &'a Log,
}

impl Manage for Step<'_> {
    type Target = Self;
    type Error = Error;
    fn enter(&mut self) -> Result<&mut Self, Error> {
        push(self.log, format!("enter {}", self.name));
        Ok(self)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        let seen = if outcome.is_ok() { "ok" } else { "failed" };
        push(self.log, format!("exit {} {seen}", self.name));
        Ok(())
    }
}

/// An async scope without an `.await` that waits: finishes on its first poll.
fn poll_once<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the scope did not finish on its first poll"),
    }
}

fn imported(log: &Log, fail: bool) -> Result<usize, Error> {
    scope! {
        let step = with!(Step { name: "a", log })?;
        defer!(ok => push(log, "ok defer"));
        defer!(err => push(log, "err defer"));
        if fail {
            return Err(Error::msg("failed"));
        }
        Ok(step.name.len())
    }
}

#[test]
fn scope_with_and_defer_imported_under_the_new_name() {
    let log = Log::default();
    assert_eq!(imported(&log, false).expect("ok"), 1);
    assert_eq!(imported(&log, true).expect_err("fails").to_string(), "failed");
    assert_eq!(*log.borrow(), ["enter a", "ok defer", "exit a ok", "enter a", "err defer", "exit a failed"]);
}

fn qualified(log: &Log, fail: bool) -> Result<usize, Error> {
    mg::scope! {
        let step = mg::with!(Step { name: "a", log })?;
        mg::defer!(ok => push(log, "ok defer"));
        mg::defer!(|outcome: &Outcome<'_>| push(log, format!("saw ok: {}", outcome.is_ok())));
        if fail {
            return Err(Error::msg("failed"));
        }
        Ok(step.name.len())
    }
}

#[test]
fn scope_with_and_defer_written_with_the_new_name() {
    let log = Log::default();
    assert_eq!(qualified(&log, false).expect("ok"), 1);
    assert!(qualified(&log, true).is_err());
    assert_eq!(
        *log.borrow(),
        ["enter a", "saw ok: true", "ok defer", "exit a ok", "enter a", "saw ok: false", "exit a failed"]
    );
}

#[test]
fn an_async_scope_written_with_the_new_name() {
    let log = Log::default();
    let run = |fail: bool| {
        poll_once(mg::scope!(async {
            let step = mg::with!(Step { name: "a", log: &log })?;
            mg::defer!(err => async { push(&log, "async err defer") });
            if fail {
                return Err(Error::msg("failed"));
            }
            Ok::<_, Error>(step.name.len())
        }))
    };
    assert_eq!(run(false).expect("ok"), 1);
    assert!(run(true).is_err());
    assert_eq!(*log.borrow(), ["enter a", "exit a ok", "enter a", "async err defer", "exit a failed"]);
}

#[test]
fn defer_outside_a_scope_with_the_new_name() {
    let log = Log::default();
    {
        mg::defer! { push(&log, "second") }
        defer!(push(&log, "third"));
        push(&log, "first");
    }
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mg::defer!(panic => push(&log, "unwinding"));
        std::panic::resume_unwind(Box::new("boom"));
    }));
    assert!(unwound.is_err());
    assert_eq!(*log.borrow(), ["first", "third", "second", "unwinding"]);
}

/// `#[managed]` takes the crate's path as an option (an attribute is given
/// no `$crate`).
struct Counter(u32);

#[mg::managed(crate = "mg")]
impl Counter {
    #[exit]
    fn finish(self) {
        assert!(self.0 > 0, "exited with a count");
    }
}

#[test]
fn a_managed_impl_with_the_crate_option_in_a_scope() {
    let n = mg::scope! {
        let counter = mg::with!(Counter(41))?;
        counter.0 += 1;
        Ok::<_, Error>(counter.0)
    };
    assert_eq!(n.expect("ok"), 42);
}

/// `#[scoped]` takes the crate's path as an option too.
#[mg::scoped(crate = "mg", Step { name: "decorator", log })]
fn decorated(log: &Log, fail: bool) -> Result<(), Error> {
    push(log, "body");
    if fail {
        return Err(Error::msg("failed"));
    }
    Ok(())
}

#[test]
fn a_scoped_fn_with_the_crate_option() {
    let log = Log::default();
    decorated(&log, false).expect("ok");
    assert!(decorated(&log, true).is_err());
    assert_eq!(
        *log.borrow(),
        ["enter decorator", "body", "exit decorator ok", "enter decorator", "body", "exit decorator failed"]
    );
}
