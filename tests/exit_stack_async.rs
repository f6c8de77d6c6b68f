//! `AsyncExitStack` and `SendAsyncExitStack`, checked against `CPython`'s
//! `Lib/test/test_contextlib_async.py` (`TestAsyncExitStack`, which also
//! runs the `TestBaseExitStack` cases over the async stack).
//!
//! Every case is written once (`stack_cases!`) and run over both stacks
//! (modules `local` and `send`), so the bodies use only `Send` state (a
//! `Journal`, atomics). The `Send`-only cases (spawning on tokio, `Send` and
//! `Sync` checks, generic code) are in `tests/exit_stack_send.rs`.
//!
//! | `CPython` test | here |
//! | --- | --- |
//! | `test_no_resources` | `test_no_resources` |
//! | `test_callback` / `test_async_callback` | `test_async_callback` (sync and async callbacks mixed, LIFO) |
//! | `test_push` / `test_async_push` | `test_async_push` (sync and async exits see the outcome; suppression) |
//! | `test_enter_context` / `test_enter_async_context` | `test_enter_async_context` (sync and async managers, targets held at once) |
//! | `test_enter_async_context_errors` | `test_enter_async_context_errors` (a failing enter; a non-manager is a type error) |
//! | `test_close` | `test_close` |
//! | `test_pop_all` | `test_pop_all` |
//! | `test_exit_raise` | `test_exit_raise` |
//! | `test_exit_suppress` | `test_exit_suppress` |
//! | `test_async_exit_exception_chaining` | `test_async_exit_exception_chaining` (ADAPTED: the first failure is primary, later ones suppressed in exit order) |
//! | `test_body_exception_suppress` | `test_body_exception_suppress` (`run`) |
//! | `test_excessive_nesting` | `test_excessive_nesting` (10,000 async callbacks) |
//!
//! Not ported (no Rust meaning): `test_instance_docs`,
//! `test_exit_exception_traceback`, `test_async_exit_exception_explicit_none_context`,
//! `test_instance_bypass_async` (a type error here).
//!
//! Rust-only cases: panics in exit futures, dropping an unclosed stack,
//! cancelling `aclose` at every await point, `with!(AsyncExitStack::new())`
//! in `scope!(async ..)`.
//!
//! Dropping differs from Python on purpose: `CPython`'s `AsyncExitStack` runs
//! its exits only in `__aexit__` (under `async with`) or `aclose()`, and one
//! never closed runs nothing. Here a stack dropped unclosed cancels its
//! entries (sync exits see `Outcome::Cancelled`, async managers get
//! `exit_cancelled`): it was not told how its block ended, so no exit may
//! take that for a success (`tests/exit_stack_drop.rs` has the cases).

mod common;

use common::{block_on, describe, poll_n_then_drop, quiet_panics, reports_of, Journal, Pending};
use managed::{scope, with, Error, Outcome};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

/// The cases, over the stack type imported as `Stack` where it is expanded.
macro_rules! stack_cases {
    () => {
        #[test]
        fn test_no_resources() {
            block_on(async {
                let stack = Stack::new();
                assert!(stack.is_empty());
                stack.aclose().await.expect("nothing to fail");
            });
        }

        #[test]
        fn test_async_callback() {
            let order = Journal::new();
            block_on(async {
                let stack = Stack::new();
                for i in 0..4 {
                    let order = &order;
                    if i % 2 == 0 {
                        stack.callback(move || order.push(i.to_string()));
                    } else {
                        stack.callback_async(move || async move {
                            Pending(2).await;
                            order.push(i.to_string());
                        });
                    }
                }
                stack.aclose().await.expect("callbacks do not fail");
            });
            assert_eq!(order.lines(), ["3", "2", "1", "0"]);
        }

        #[test]
        fn test_async_push() {
            let seen = Journal::new();
            let block_error = Error::msg("block");
            let suppressed = block_on(async {
                let stack = Stack::new();
                let seen = &seen;
                stack.push(move |o: &Outcome<'_>| {
                    seen.push(format!("sync {}", describe(o)));
                    Ok(false)
                });
                stack.push_async(move |o: &Outcome<'_>| {
                    let d = describe(o);
                    async move {
                        Pending(1).await;
                        seen.push(format!("async suppressing {d}"));
                        Ok(true)
                    }
                });
                stack.push_async(move |o: &Outcome<'_>| {
                    let d = describe(o);
                    async move {
                        seen.push(format!("async {d}"));
                        Ok(false)
                    }
                });
                stack.aclose_with(&Outcome::err(&block_error)).await.expect("suppressed")
            });
            assert!(suppressed);
            assert_eq!(seen.lines(), ["async err(block)", "async suppressing err(block)", "sync ok"]);
        }

        #[test]
        fn test_enter_async_context() {
            let j = Journal::new();
            block_on(async {
                let stack = Stack::new();
                let a = stack.enter_async(j.probe("a").pending(2)).await.expect("enter a");
                let w = stack.enter(std::io::BufWriter::new(Vec::new())).expect("sync enter");
                let b = stack.enter_async(j.probe("b")).await.expect("enter b");
                a.journal.push("use a");
                b.journal.push("use b");
                std::io::Write::write_all(w, b"held at once").expect("write");
                assert_eq!(stack.len(), 3);
                stack.aclose().await.expect("close");
            });
            assert_eq!(
                j.lines(),
                [
                    "enter a",
                    "entered a",
                    "enter b",
                    "entered b",
                    "use a",
                    "use b",
                    "exit b ok",
                    "exited b",
                    "exit a ok",
                    "exited a"
                ]
            );
        }

        #[test]
        fn test_enter_async_context_errors() {
            let j = Journal::new();
            block_on(async {
                let stack = Stack::new();
                let Err(err) = stack.enter_async(j.probe("a").failing_enter()).await else {
                    panic!("enter a succeeded")
                };
                assert_eq!(err.to_string(), "enter a failed");
                assert!(stack.is_empty(), "a failed enter registers nothing");
                stack.aclose().await.expect("close");
            });
            assert_eq!(j.lines(), ["enter a"]);
        }

        #[test]
        fn test_close() {
            let j = Journal::new();
            block_on(async {
                let stack = Stack::new();
                stack.enter_async(j.probe("a")).await.expect("enter");
                stack.aclose().await.expect("close");
            });
            assert_eq!(j.lines().last().map(String::as_str), Some("exited a"));
        }

        #[test]
        fn test_pop_all() {
            let j = Journal::new();
            block_on(async {
                let mut stack = Stack::new();
                stack.enter_async(j.probe("a")).await.expect("enter");
                let kept = stack.pop_all();
                stack.aclose().await.expect("empty");
                j.push("old closed");
                kept.aclose().await.expect("close");
            });
            assert_eq!(j.lines(), ["enter a", "entered a", "old closed", "exit a ok", "exited a"]);
        }

        #[test]
        fn test_exit_raise() {
            let err = block_on(async {
                let stack = Stack::new();
                stack.push_async(|_: &Outcome<'_>| async { Err(Error::msg("exit raised")) });
                stack.aclose().await.expect_err("fails")
            });
            assert_eq!(err.to_string(), "exit raised");
        }

        #[test]
        fn test_exit_suppress() {
            let block_error = Error::msg("block");
            let suppressed = block_on(async {
                let stack = Stack::new();
                stack.push_async(|o: &Outcome<'_>| {
                    let failed = o.is_err();
                    async move { Ok(failed) }
                });
                stack.aclose_with(&Outcome::err(&block_error)).await.expect("suppressed")
            });
            assert!(suppressed);
        }

        #[test]
        fn test_async_exit_exception_chaining() {
            let j = Journal::new();
            let err = block_on(async {
                let stack = Stack::new();
                stack.enter_async(j.probe("a").failing_exit()).await.expect("enter");
                stack.push(|_: &Outcome<'_>| Err(Error::msg("sync exit failed")));
                stack.enter_async(j.probe("c").failing_exit()).await.expect("enter");
                stack.aclose().await.expect_err("fails")
            });
            assert_eq!(
                format!("{err:#}"),
                "exit c failed\n  suppressed: sync exit failed\n  suppressed: exit a failed"
            );
            // Later exits see the primary failure (DESIGN: the root cause).
            assert!(j.lines().contains(&"exit a err(exit c failed)".to_string()), "{:?}", j.lines());
        }

        #[test]
        fn test_body_exception_suppress() {
            let r = block_on(Stack::new().run(async |stack| {
                stack.push_async(|o: &Outcome<'_>| {
                    let parse = o.error::<std::num::ParseIntError>().is_some();
                    async move { Ok(parse) }
                });
                Pending(1).await;
                Ok::<_, Error>("x".parse::<i32>()?)
            }));
            assert_eq!(r.expect("suppressed"), None);
            let r = block_on(Stack::new().run(async |stack| {
                stack.callback_async(|| Pending(1));
                Ok::<_, Error>(5)
            }));
            assert_eq!(r.expect("ok"), Some(5));
        }

        #[test]
        fn test_excessive_nesting() {
            let n = if cfg!(miri) { 50 } else { 10_000 };
            let ran = AtomicUsize::new(0);
            block_on(async {
                let stack = Stack::new();
                for _ in 0..n {
                    stack.callback_async(|| async {
                        ran.fetch_add(1, Ordering::Relaxed);
                    });
                }
                stack.aclose().await.expect("close");
            });
            assert_eq!(ran.load(Ordering::Relaxed), n);
        }

        #[test]
        fn a_panicking_exit_future_is_caught_the_rest_run_and_it_resumes() {
            quiet_panics();
            let j = Journal::new();
            let caught = catch_unwind(AssertUnwindSafe(|| {
                block_on(async {
                    let stack = Stack::new();
                    stack.enter_async(j.probe("a")).await.expect("enter");
                    stack.enter_async(j.probe("b").panicking_exit()).await.expect("enter");
                    stack.enter_async(j.probe("c").failing_exit()).await.expect("enter");
                    let _ = stack.aclose().await;
                });
            }));
            let payload = caught.expect_err("the exit panic resumes");
            assert_eq!(super::common::panic_message(&*payload), "exit b panicked");
            let lines = j.lines();
            assert!(lines.contains(&"exit a panic(exit b panicked)".to_string()), "{lines:?}");
        }

        #[test]
        fn dropping_an_unclosed_stack_cancels_every_entry() {
            let j = Journal::new();
            let ran = Journal::new();
            let ((), reports) = reports_of(|| {
                block_on(async {
                    let stack = Stack::new();
                    stack.enter_async(j.probe("a")).await.expect("enter");
                    stack.push(|o: &Outcome<'_>| {
                        ran.push(describe(o));
                        Err(Error::msg("sync exit failed"))
                    });
                    stack.callback_async(|| async {
                        Pending(1).await; // cannot finish in one poll
                        ran.push("never");
                    });
                    drop(stack);
                });
            });
            assert_eq!(ran.lines(), ["cancelled"]);
            assert_eq!(j.lines(), ["enter a", "entered a", "exit a cancelled", "exited a"]);
            assert_eq!(reports.len(), 2, "{reports:?}");
            assert!(reports[0].contains("did not finish"), "{reports:?}");
            // A closure has no `exit_cancelled` to override: the report says what
            // can be done instead.
            assert!(reports[0].contains("AsyncExitStack") && reports[0].contains("aclose().await"), "{reports:?}");
            assert!(reports[1].contains("sync exit failed"), "{reports:?}");
        }

        /// Cancels `aclose` over three async entries after every number of polls:
        /// each entry is exited (started or cancelled) exactly once.
        #[test]
        fn cancelling_aclose_at_every_await_point_exits_each_entry_once() {
            let mut finished = false;
            for n in 0.. {
                let j = Journal::new();
                let (out, reports) = reports_of(|| {
                    let stack = block_on(async {
                        let stack = Stack::new();
                        for name in ["a", "b", "c"] {
                            stack.enter_async(j.probe(name).pending(2)).await.expect("enter");
                        }
                        stack
                    });
                    poll_n_then_drop(stack.aclose(), n)
                });
                let lines = j.lines();
                for name in ["a", "b", "c"] {
                    assert_eq!(count(&lines, &format!("exit {name} ")), 1, "n = {n}: {lines:?}");
                }
                match out {
                    Some(result) => {
                        result.expect("no failure");
                        assert!(reports.is_empty(), "{reports:?}");
                        assert_eq!(count(&lines, "exit "), 3);
                        assert!(!lines.iter().any(|l| l.ends_with("cancelled")));
                        finished = true;
                        break;
                    }
                    None if n == 0 => {
                        // Never polled: every entry is cancelled, newest first.
                        assert_eq!(
                            &lines[6..],
                            [
                                "exit c cancelled",
                                "exited c",
                                "exit b cancelled",
                                "exited b",
                                "exit a cancelled",
                                "exited a"
                            ]
                        );
                    }
                    None => {
                        // The exit being awaited was dropped and reported; the older ones were cancelled.
                        assert_eq!(reports.len(), 1, "n = {n}: {reports:?}");
                        assert!(reports[0].contains("dropped unfinished"), "{reports:?}");
                    }
                }
            }
            assert!(finished);
        }

        /// Found by the fault matrix: `run` cancelled while it closes the stack
        /// dropped the body's failure it carried without a report.
        #[test]
        fn cancelling_run_mid_close_reports_the_body_failure() {
            let j = Journal::new();
            let (out, reports) = reports_of(|| {
                let run = Stack::new().run(async |stack: &Stack<'_>| {
                    stack.enter_async(j.probe("a")).await?;
                    Err::<(), Error>(Error::msg("body failed"))
                });
                // Poll 1: `a` enters (pending); 2: the body fails, `a` exits
                // (pending): dropped there.
                poll_n_then_drop(run, 2)
            });
            assert!(out.is_none());
            assert_eq!(j.lines(), ["enter a", "entered a", "exit a err(body failed)"]);
            assert_eq!(reports.len(), 2, "{reports:?}");
            assert!(reports[0].contains("dropped unfinished"), "{reports:?}");
            assert!(reports[1].starts_with("Cancelled") && reports[1].contains("body failed"), "{reports:?}");
        }

        /// A stack under a scope does not own the scope's error: when one of
        /// its exits panics, the scope sends the error it carried to the
        /// hook, once.
        #[test]
        fn a_stack_exit_panic_under_a_failed_scope_reports_the_scope_error_once() {
            quiet_panics();
            let (caught, reports) = reports_of(|| {
                catch_unwind(AssertUnwindSafe(|| {
                    block_on(scope!(async {
                        let stack = with!(Stack::new())?;
                        stack.push(|_: &Outcome<'_>| std::panic::panic_any("test: exit panicked"));
                        Err::<(), _>(Error::msg("body failed"))
                    }))
                }))
            });
            assert!(caught.is_err(), "the exit's panic resumes");
            assert_eq!(reports.len(), 1, "{reports:?}");
            assert!(reports[0].starts_with("ReplacedByPanic") && reports[0].contains("body failed"), "{reports:?}");
        }

        #[test]
        fn with_async_exit_stack_in_an_async_scope() {
            let j = Journal::new();
            let r: Result<u32, Error> = block_on(scope!(async {
                let stack = with!(Stack::new())?;
                let a = stack.enter_async(j.probe("a")).await?;
                stack.callback(|| j.push("callback"));
                a.journal.push("body");
                Ok(1)
            }));
            assert_eq!(r.expect("ok"), 1);
            assert_eq!(j.lines(), ["enter a", "entered a", "body", "callback", "exit a ok", "exited a"]);
        }
    };
}

mod local {
    use super::*;
    use managed::AsyncExitStack as Stack;
    stack_cases!();
}

mod send {
    use super::*;
    use managed::SendAsyncExitStack as Stack;
    stack_cases!();
}
