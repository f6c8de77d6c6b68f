//! A stack or a [`Guard`] dropped without being told how its block ended is
//! not a success: its exits see `Outcome::Cancelled` (`Outcome::Panic`
//! while unwinding), so a transaction rolls back. `close` / `aclose`,
//! `run`, `Guard::exit`, or entering the stack as a manager (`with!`, or
//! into another stack) is how a block says how it ended.
//!
//! Each case runs over `ExitStack`, `AsyncExitStack` and
//! `SendAsyncExitStack`: the block returns early through `?` (the
//! stack is dropped), panics (dropped while unwinding), succeeds and
//! closes, runs through `run`, or hands the stack to a scope. `pop_all`'s
//! new stack, a stack entered into another stack, and `Guard` follow.
//! Dropping is the cancellation path: an exit that fails or panics there
//! is reported, the other exits still run, and no panic leaves the drop
//! (the error whose `?` dropped the stack is still returned).
//!
//! Python differs on purpose: `CPython`'s `ExitStack` runs its exits only
//! under `with` (or `close()`); a stack that is never closed runs nothing
//! when it is collected. Here a dropped stack still exits what it holds,
//! and tells its exits that the block did not say it succeeded.
#![cfg(all(feature = "testing", feature = "async"))]

mod common;

use common::{block_on, quiet_panics, reports_of};
use managed::testing::{Event, Journal, Seen};
use managed::{scope, with, Error, ExitStack, Guard, Manage, Outcome};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A transaction: `BEGIN` at enter; at exit `COMMIT` when it sees
/// `Outcome::Ok`, `ROLLBACK` on anything else.
struct Tx<'j>(&'j Journal);

impl Manage for Tx<'_> {
    type Target = Self;
    type Error = Error;
    fn enter(&mut self) -> Result<&mut Self, Error> {
        self.0.note("BEGIN");
        Ok(self)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.0.note(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" });
        Ok(())
    }
}

/// The notes of the journal (what the transactions did), in order.
fn notes(journal: &Journal) -> Vec<String> {
    journal.events().into_iter().filter_map(|e| if let Event::Note(n) = e { Some(n) } else { None }).collect()
}

/// The step of a block that may fail.
fn debit(fails: bool) -> Result<(), Error> {
    if fails {
        Err(Error::msg("insufficient funds"))
    } else {
        Ok(())
    }
}

/// The journal of a transfer that entered `Tx` and the probe `ledger`.
fn assert_transfer(journal: &Journal, ledger: Seen, tx: &str) {
    journal.assert_all_exited();
    assert_eq!(journal.seen_by("ledger"), Some(ledger), "{journal:?}");
    assert_eq!(notes(journal), ["BEGIN", tx], "{journal:?}");
}

/// Runs `transfer` with a debit that fails, so that the block leaves
/// through `?` before it says it succeeded (rolled back: the ledger saw the
/// cancellation; no exit failed, nothing reported), then with one that
/// succeeds (committed).
fn assert_question_mark_rolls_back(transfer: impl Fn(&Journal, bool) -> Result<(), Error>) {
    let journal = Journal::new();
    let (result, reports) = reports_of(|| transfer(&journal, true));
    assert_eq!(result.expect_err("the debit fails").to_string(), "insufficient funds");
    assert_transfer(&journal, Seen::Cancelled, "ROLLBACK");
    assert!(reports.is_empty(), "{reports:?}");

    let journal = Journal::new();
    transfer(&journal, false).expect("said it succeeded");
    assert_transfer(&journal, Seen::Ok, "COMMIT");
}

/// Runs `block`, which enters `Tx` and `ledger` and panics: rolled back,
/// and the ledger saw `ledger_saw`.
fn assert_unwinding_rolls_back(block: impl FnOnce(&Journal), ledger_saw: Seen) {
    quiet_panics();
    let journal = Journal::new();
    assert!(catch_unwind(AssertUnwindSafe(|| block(&journal))).is_err());
    assert_transfer(&journal, ledger_saw, "ROLLBACK");
}

/// Runs `transfer` with a debit that succeeds, then fails; it tells the
/// stack how its block ended (`run`, a scope) and says whether it failed:
/// the exits see `Ok` or the debit's error, never a cancellation.
fn assert_told(transfer: impl Fn(&Journal, bool) -> bool) {
    for fails in [false, true] {
        let journal = Journal::new();
        assert_eq!(transfer(&journal, fails), fails, "the block failed");
        let ledger = if fails { Seen::Err("insufficient funds".into()) } else { Seen::Ok };
        assert_transfer(&journal, ledger, if fails { "ROLLBACK" } else { "COMMIT" });
    }
}

/// Runs `block`, which enters `Tx` and a `ledger` whose exit fails into a
/// stack held by another stack or a guard, and drops the holder: both
/// exits are cancelled, and the inner stack returns the failure to the
/// holder, which reports it once, as `kind`.
fn assert_nested_cancelled(block: impl FnOnce(&Journal), kind: &str) {
    let journal = Journal::new();
    let ((), reports) = reports_of(|| block(&journal));
    assert_transfer(&journal, Seen::Cancelled, "ROLLBACK");
    assert_eq!(reports, [format!("{kind}: probe ledger failed at exit")]);
}

// ---- ExitStack -------------------------------------------------------------

/// The trap: `?` leaves before `close`, and the stack is dropped.
fn transfer(journal: &Journal, fails: bool) -> Result<(), Error> {
    let stack = ExitStack::new();
    stack.enter(Tx(journal))?;
    stack.enter(journal.probe("ledger"))?;
    debit(fails)?;
    stack.close()
}

#[test]
fn an_exit_stack_dropped_after_a_question_mark_rolls_back() {
    assert_question_mark_rolls_back(transfer);
}

#[test]
fn an_exit_stack_dropped_while_unwinding_shows_the_panic() {
    // Payload not available from a destructor: the panic, without its message.
    assert_unwinding_rolls_back(
        |journal| {
            let stack = ExitStack::new();
            stack.enter(Tx(journal)).expect("enter");
            stack.enter(journal.probe("ledger")).expect("enter");
            panic!("test: the block panicked");
        },
        Seen::Panic(None),
    );
}

#[test]
fn exit_stack_run_closes_with_the_body_outcome() {
    assert_told(|journal, fails| {
        let result = ExitStack::new().run(|stack| {
            stack.enter(Tx(journal))?;
            stack.enter(journal.probe("ledger"))?;
            debit(fails)
        });
        result.is_err()
    });
}

#[test]
fn an_exit_stack_in_a_scope_sees_the_scope_outcome() {
    assert_told(|journal, fails| {
        let result: Result<(), Error> = scope! {
            let stack = with!(ExitStack::new())?;
            stack.enter(Tx(journal))?;
            stack.enter(journal.probe("ledger"))?;
            debit(fails)?;
            Ok(())
        };
        result.is_err()
    });
}

/// Python's idiom: enter everything under a stack, `pop_all` once all
/// succeeded; the caller owns the new stack.
fn open_both(journal: &Journal, second_fails: bool) -> Result<ExitStack<'_>, Error> {
    let mut stack = ExitStack::new();
    stack.enter(Tx(journal))?;
    let ledger = journal.probe("ledger");
    stack.enter(if second_fails { ledger.fail_enter() } else { ledger })?;
    Ok(stack.pop_all())
}

#[test]
fn pop_all_moves_the_duty_to_say_how_the_block_ended() {
    // A failed enter drops the stack before `pop_all`: rolled back.
    let journal = Journal::new();
    assert!(open_both(&journal, true).is_err());
    journal.assert_all_exited();
    assert_eq!(notes(&journal), ["BEGIN", "ROLLBACK"]);

    // The new stack, dropped by its owner after a `?` (rolled back) or
    // closed (committed).
    assert_question_mark_rolls_back(|journal, fails| {
        let stack = open_both(journal, false)?;
        debit(fails)?;
        stack.close()
    });
}

#[test]
fn an_exit_stack_entered_into_a_dropped_stack_is_cancelled_with_it() {
    assert_nested_cancelled(
        |journal| {
            let outer = ExitStack::new();
            let inner = outer.enter(ExitStack::new()).expect("enter");
            inner.enter(Tx(journal)).expect("enter");
            inner.enter(journal.probe("ledger").fail_exit()).expect("enter");
        },
        "StackDropped",
    );
}

#[test]
fn a_suppressing_exit_does_not_turn_a_dropped_stack_into_a_success() {
    let journal = Journal::new();
    {
        let stack = ExitStack::new();
        stack.enter(Tx(&journal)).expect("enter");
        stack.enter(journal.probe("ledger")).expect("enter");
        stack.push(|o: &Outcome<'_>| Ok(o.is_failure()));
    }
    assert_transfer(&journal, Seen::Cancelled, "ROLLBACK");
}

#[test]
fn a_dropped_exit_stack_reports_each_failed_exit_once() {
    let journal = Journal::new();
    let ((), reports) = reports_of(|| {
        let stack = ExitStack::new();
        stack.enter(journal.probe("first").fail_exit()).expect("enter");
        stack.enter(journal.probe("second").fail_exit()).expect("enter");
    });
    journal.assert_all_exited();
    // Both see the cancellation: it stays the primary failure.
    assert_eq!(journal.seen_by("second"), Some(Seen::Cancelled));
    assert_eq!(journal.seen_by("first"), Some(Seen::Cancelled));
    assert_eq!(reports, ["StackDropped: probe second failed at exit", "StackDropped: probe first failed at exit"]);
}

/// Leaves through `?` with an exit that panics when the stack is dropped:
/// `first` fails, `panics` panics, `last` fails.
fn transfer_with_a_panicking_exit(journal: &Journal) -> Result<(), Error> {
    let stack = ExitStack::new();
    stack.enter(journal.probe("first").fail_exit())?;
    stack.enter(journal.probe("panics").panic_exit())?;
    stack.enter(journal.probe("last").fail_exit())?;
    debit(true)?;
    stack.close()
}

/// The drop of `transfer_with_a_panicking_exit`'s stack, or of a stack that
/// holds the same exits, seen by `run` (which catches a panic): every exit
/// ran once seeing `seen`, and each failure, the panic included, was
/// reported once as `kind`.
fn assert_panicking_exit_reported<R>(run: impl FnOnce(&Journal) -> R, seen: &Seen, kind: &str) -> R {
    quiet_panics();
    let journal = Journal::new();
    let (result, reports) = reports_of(|| run(&journal));
    journal.assert_all_exited();
    assert_eq!(journal.exit_order(), ["last", "panics", "first"]);
    for probe in ["last", "panics", "first"] {
        assert_eq!(journal.seen_by(probe), Some(seen.clone()), "{probe}: {journal:?}");
    }
    assert_eq!(
        reports,
        [
            format!("{kind}: probe last failed at exit"),
            format!("{kind}: panic: \"probe panics panicked at exit\""),
            format!("{kind}: probe first failed at exit"),
        ]
    );
    result
}

/// Runs `transfer`, which leaves through `?` with the exits of
/// `transfer_with_a_panicking_exit` on a stack: no panic leaves the drop,
/// the debit's error is returned, the exits saw `Cancelled` and each
/// failure was reported once as `kind`.
fn assert_error_returned_past_a_panicking_exit(transfer: impl FnOnce(&Journal) -> Result<(), Error>, kind: &str) {
    let result = assert_panicking_exit_reported(
        |journal| catch_unwind(AssertUnwindSafe(|| transfer(journal))),
        &Seen::Cancelled,
        kind,
    );
    let result = result.expect("no panic leaves the stack's drop");
    assert_eq!(result.expect_err("the debit fails").to_string(), "insufficient funds");
}

#[test]
fn a_dropped_exit_stack_reports_a_panicking_exit_and_the_error_in_flight_is_returned() {
    assert_error_returned_past_a_panicking_exit(transfer_with_a_panicking_exit, "StackDropped");
}

#[test]
fn a_dropped_exit_stack_reports_a_panicking_exit_while_unwinding_and_the_panic_resumes() {
    let result = assert_panicking_exit_reported(
        |journal| {
            catch_unwind(AssertUnwindSafe(|| {
                let stack = ExitStack::new();
                stack.enter(journal.probe("first").fail_exit()).expect("enter");
                stack.enter(journal.probe("panics").panic_exit()).expect("enter");
                stack.enter(journal.probe("last").fail_exit()).expect("enter");
                panic!("test: the block panicked");
            }))
        },
        &Seen::Panic(None),
        "StackDropped",
    );
    let payload = result.expect_err("the block's panic resumes");
    assert_eq!(common::panic_message(&*payload), "test: the block panicked");
}

#[test]
fn pop_all_gives_the_new_stack_a_drop_that_reports_a_panicking_exit() {
    assert_error_returned_past_a_panicking_exit(
        |journal| {
            let kept = {
                let mut stack = ExitStack::new();
                stack.enter(journal.probe("first").fail_exit())?;
                stack.enter(journal.probe("panics").panic_exit())?;
                stack.enter(journal.probe("last").fail_exit())?;
                stack.pop_all()
            };
            debit(true)?;
            kept.close()
        },
        "StackDropped",
    );
}

#[test]
fn a_dropped_exit_stack_reports_the_panic_of_a_stack_entered_into_it() {
    // The inner stack is closed as a manager (its exit), so its panic
    // resumes from that exit, as from any manager's, into the dropped
    // outer stack, which reports it and the inner stack's error.
    quiet_panics();
    let journal = Journal::new();
    let (result, reports) = reports_of(|| {
        catch_unwind(AssertUnwindSafe(|| -> Result<(), Error> {
            let outer = ExitStack::new();
            outer.enter(journal.probe("outer").fail_exit())?;
            let inner = outer.enter(ExitStack::new())?;
            inner.enter(journal.probe("first").fail_exit())?;
            inner.enter(journal.probe("panics").panic_exit())?;
            debit(true)?;
            outer.close()
        }))
    });
    let result = result.expect("no panic leaves the outer stack's drop");
    assert_eq!(result.expect_err("the debit fails").to_string(), "insufficient funds");
    journal.assert_all_exited();
    assert_eq!(journal.exit_order(), ["panics", "first", "outer"]);
    assert_eq!(journal.seen_by("first"), Some(Seen::Panic(Some("probe panics panicked at exit".into()))));
    assert_eq!(journal.seen_by("outer"), Some(Seen::Cancelled));
    assert_eq!(
        reports,
        [
            "FailedWhileUnwinding: probe first failed at exit",
            "StackDropped: panic: \"probe panics panicked at exit\"",
            "StackDropped: probe outer failed at exit",
        ]
    );
}

// ---- Guard -----------------------------------------------------------------

#[test]
fn a_guard_dropped_after_a_question_mark_rolls_back() {
    assert_question_mark_rolls_back(|journal, fails| {
        let mut tx = Guard::new(Tx(journal));
        tx.enter()?;
        let mut ledger = Guard::new(journal.probe("ledger"));
        ledger.enter()?;
        debit(fails)?;
        ledger.exit(&Outcome::Ok)?;
        tx.exit(&Outcome::Ok)
    });
}

#[test]
fn a_guard_dropped_while_unwinding_shows_the_panic() {
    assert_unwinding_rolls_back(
        |journal| {
            let mut tx = Guard::new(Tx(journal));
            tx.enter().expect("enter");
            let mut ledger = Guard::new(journal.probe("ledger"));
            ledger.enter().expect("enter");
            panic!("test: the block panicked");
        },
        Seen::Panic(None),
    );
}

#[test]
fn a_dropped_guard_over_a_stack_reports_its_failed_exit_once() {
    assert_nested_cancelled(
        |journal| {
            let mut guard = Guard::new(ExitStack::new());
            let stack = guard.enter().expect("enter");
            stack.enter(Tx(journal)).expect("enter");
            stack.enter(journal.probe("ledger").fail_exit()).expect("enter");
        },
        "GuardDropped",
    );
}

#[test]
fn a_guard_never_entered_exits_nothing() {
    let journal = Journal::new();
    drop(Guard::new(journal.probe("ledger")));
    assert!(journal.events().is_empty());
}

// ---- AsyncExitStack and SendAsyncExitStack ---------------------------------

/// The async cases, over the stack type imported as `Stack`. `ledger` is
/// entered as an async manager, `Tx` as a sync one.
macro_rules! async_cases {
    () => {
        #[test]
        fn dropped_after_a_question_mark_rolls_back() {
            async fn transfer(journal: &Journal, fails: bool) -> Result<(), Error> {
                let stack = Stack::new();
                stack.enter(Tx(journal))?;
                stack.enter_async(journal.probe("ledger")).await?;
                debit(fails)?;
                stack.aclose().await
            }
            assert_question_mark_rolls_back(|journal, fails| block_on(transfer(journal, fails)));
        }

        #[test]
        fn dropped_while_unwinding_shows_the_panic_to_sync_exits() {
            // `Tx` sees the panic; the async `ledger` gets its
            // `exit_cancelled` (it cannot be awaited).
            assert_unwinding_rolls_back(
                |journal| {
                    block_on(async {
                        let stack = Stack::new();
                        stack.enter_async(journal.probe("ledger")).await.expect("enter");
                        stack.enter(Tx(journal)).expect("enter");
                        panic!("test: the block panicked");
                    })
                },
                Seen::Cancelled,
            );
        }

        #[test]
        fn run_closes_with_the_body_outcome() {
            assert_told(|journal, fails| {
                let result = block_on(Stack::new().run(async |stack: &Stack<'_>| {
                    stack.enter(Tx(journal))?;
                    stack.enter_async(journal.probe("ledger")).await?;
                    debit(fails)
                }));
                result.is_err()
            });
        }

        #[test]
        fn in_a_scope_sees_the_scope_outcome() {
            assert_told(|journal, fails| {
                let result: Result<(), Error> = block_on(scope!(async {
                    let stack = with!(Stack::new())?;
                    stack.enter(Tx(journal))?;
                    stack.enter_async(journal.probe("ledger")).await?;
                    debit(fails)?;
                    Ok(())
                }));
                result.is_err()
            });
        }

        #[test]
        fn pop_all_moves_the_duty_to_say_how_the_block_ended() {
            async fn transfer(journal: &Journal, fails: bool) -> Result<(), Error> {
                let kept = {
                    let mut stack = Stack::new();
                    stack.enter(Tx(journal))?;
                    stack.enter_async(journal.probe("ledger")).await?;
                    stack.pop_all()
                };
                debit(fails)?;
                kept.aclose().await
            }
            assert_question_mark_rolls_back(|journal, fails| block_on(transfer(journal, fails)));
        }

        #[test]
        fn dropped_after_a_question_mark_reports_a_panicking_exit() {
            async fn transfer(journal: &Journal) -> Result<(), Error> {
                let stack = Stack::new();
                stack.enter(journal.probe("first").fail_exit())?;
                stack.enter_async(journal.probe("panics").panic_exit()).await?;
                stack.enter(journal.probe("last").fail_exit())?;
                debit(true)?;
                stack.aclose().await
            }
            assert_error_returned_past_a_panicking_exit(|journal| block_on(transfer(journal)), "Cancelled");
        }

        #[test]
        fn pop_all_gives_the_new_stack_a_drop_that_reports_a_panicking_exit() {
            async fn transfer(journal: &Journal) -> Result<(), Error> {
                let kept = {
                    let mut stack = Stack::new();
                    stack.enter(journal.probe("first").fail_exit())?;
                    stack.enter_async(journal.probe("panics").panic_exit()).await?;
                    stack.enter(journal.probe("last").fail_exit())?;
                    stack.pop_all()
                };
                debit(true)?;
                kept.aclose().await
            }
            assert_error_returned_past_a_panicking_exit(|journal| block_on(transfer(journal)), "Cancelled");
        }

        #[test]
        fn a_stack_entered_into_it_is_cancelled_with_it() {
            assert_nested_cancelled(
                |journal| {
                    block_on(async {
                        let outer = Stack::new();
                        let inner = outer.enter_async(Stack::new()).await.expect("enter");
                        inner.enter(Tx(journal)).expect("enter");
                        inner.enter(journal.probe("ledger").fail_exit()).expect("enter");
                    });
                },
                "Cancelled",
            );
        }
    };
}

mod local {
    use super::*;
    use managed::AsyncExitStack as Stack;
    async_cases!();
}

mod send {
    use super::*;
    use managed::SendAsyncExitStack as Stack;
    async_cases!();
}

#[test]
fn an_exit_stack_entered_into_a_dropped_async_stack_is_cancelled_with_it() {
    assert_nested_cancelled(
        |journal| {
            block_on(async {
                let outer = managed::AsyncExitStack::new();
                let inner = outer.enter(ExitStack::new()).expect("enter");
                inner.enter(Tx(journal)).expect("enter");
                inner.enter(journal.probe("ledger").fail_exit()).expect("enter");
            });
        },
        "Cancelled",
    );
}

/// The panic an exit sees when the stack is dropped while the thread
/// unwinds has no payload (the destructor cannot reach it); a scope's
/// exits, which caught the panic, see it with its payload.
#[test]
fn only_an_exit_that_caught_the_panic_sees_its_payload() {
    quiet_panics();
    let payloads = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(&str, bool)>::new()));
    let seen = |who: &'static str| {
        let payloads = payloads.clone();
        move |outcome: &Outcome<'_>| {
            match outcome {
                Outcome::Panic(view) => payloads.borrow_mut().push((who, view.has_payload())),
                _ => payloads.borrow_mut().push((who, false)),
            }
            Ok(false)
        }
    };
    let dropped = catch_unwind(AssertUnwindSafe(|| {
        let stack = ExitStack::new();
        stack.push(seen("dropped stack"));
        panic!("boom");
    }));
    assert!(dropped.is_err());
    let scoped = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let stack = with!(ExitStack::new())?;
            stack.push(seen("scope's stack"));
            panic!("boom")
        };
    }));
    assert!(scoped.is_err());
    assert_eq!(*payloads.borrow(), [("dropped stack", false), ("scope's stack", true)]);
}
