//! `ExitStack`, checked against `CPython`'s `Lib/test/test_contextlib.py`.
//!
//! Ported from `TestBaseExitStack` / `TestExitStack` (Python's
//! `with ExitStack() as stack:` is `ExitStack::new().run(|stack| ..)` here,
//! the one form that carries suppression back to the caller):
//!
//! | `CPython` test | here |
//! | --- | --- |
//! | `test_no_resources` | `test_no_resources` |
//! | `test_callback` | `test_callback` (arguments are captured by the closure) |
//! | `test_push` | `test_push` |
//! | `test_enter_context` | `test_enter_context` |
//! | `test_enter_context_errors` | `test_enter_context_errors` (a failing enter; a type that is not a manager is a compile error: `tests/ui/exit_stack/enter-non-manager.rs`) |
//! | `test_close` | `test_close` |
//! | `test_pop_all` | `test_pop_all` |
//! | `test_exit_raise` | `test_exit_raise` |
//! | `test_exit_suppress` | `test_exit_suppress` |
//! | `test_exit_exception_chaining_reference` | `test_exit_exception_chaining_reference` (ADAPTED) |
//! | `test_exit_exception_chaining` | `test_exit_exception_chaining` (ADAPTED) |
//! | `test_exit_exception_non_suppressing` | `test_exit_exception_non_suppressing` |
//! | `test_exit_exception_with_correct_context` | `test_exit_exception_with_correct_context` (ADAPTED) |
//! | `test_exit_exception_with_existing_context` | `test_exit_exception_with_existing_context` (ADAPTED) |
//! | `test_body_exception_suppress` | `test_body_exception_suppress` |
//! | `test_exit_exception_chaining_suppress` | `test_exit_exception_chaining_suppress` |
//! | `test_excessive_nesting` | `test_excessive_nesting` |
//! | `test_instance_bypass` | compile error, `tests/ui/exit_stack/enter-non-manager.rs` |
//! | `test_dont_reraise_RuntimeError` | `test_dont_reraise_runtime_error` (ADAPTED) |
//!
//! ADAPTED: DESIGN's primary-error rule differs from Python's. Python raises
//! the *latest* exception with the earlier ones chained as `__context__`;
//! here the *first* failure is primary and later ones are attached to it as
//! `suppressed()`, in exit order. Exits see the primary failure so far (the
//! root cause), where Python's see the latest exception. Each adapted test
//! says what it checks instead.
//!
//! Not ported (no Rust meaning): `test_instance_docs` (docstrings),
//! `test_exit_exception_traceback` (traceback frames),
//! `test_exit_exception_explicit_none_context` (`__context__ = None`).
//!
//! Rust-only cases follow the ports: panics, the error hook, drop, borrowed
//! exits, targets held at once, `close_with`'s result, `Manage` for the
//! stack.
//!
//! Dropping differs from Python on purpose. `CPython` runs a stack's exits
//! only in `__exit__` (under `with`) or `close()`; a stack that is never
//! closed runs nothing when it is collected. Here a stack dropped unclosed
//! runs its exits with `Outcome::Cancelled` (`Outcome::Panic` while
//! unwinding): it was not told how its block ended, so no exit may take it
//! for a success (`tests/exit_stack_drop.rs` has the cases).

use std::cell::{Cell, RefCell};
use std::io::{BufWriter, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, PoisonError};

use managed::{Error, ExitStack, Manage, Outcome, Report, ReportKind};

// ---- helpers ---------------------------------------------------------------

/// A named error, standing for Python's exception classes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Exc(&'static str);

impl std::fmt::Display for Exc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
impl std::error::Error for Exc {}

fn raise(name: &'static str) -> Error {
    Error::new(Exc(name))
}

/// The name of an error made by `raise`.
fn name(e: &Error) -> &'static str {
    e.downcast_ref::<Exc>().map_or("<other>", |x| x.0)
}

/// Names of the suppressed errors, in order.
fn suppressed_names(e: &Error) -> Vec<&'static str> {
    e.suppressed().iter().map(name).collect()
}

/// The error the outcome shows, by name.
fn seen(o: &Outcome<'_>) -> Option<&'static str> {
    o.error::<Exc>().map(|x| x.0)
}

/// Serialises the tests that replace the process-wide error hook.
static HOOK_LOCK: Mutex<()> = Mutex::new(());
static REPORTS: Mutex<Vec<(ReportKind, String)>> = Mutex::new(Vec::new());

fn record(report: &Report<'_>) {
    REPORTS.lock().unwrap_or_else(PoisonError::into_inner).push((report.kind(), format!("{:?}", report.error())));
}

/// Installs the recording hook for the duration of a test.
struct Reports {
    _lock: MutexGuard<'static, ()>,
    previous: managed::ErrorHook,
}

impl Reports {
    fn start() -> Self {
        let lock = HOOK_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        REPORTS.lock().unwrap_or_else(PoisonError::into_inner).clear();
        Reports { _lock: lock, previous: managed::set_error_hook(record) }
    }
    #[allow(clippy::unused_self, reason = "a method, so reports are only read while the hook is installed")]
    fn take(&self) -> Vec<(ReportKind, String)> {
        std::mem::take(&mut *REPORTS.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for Reports {
    fn drop(&mut self) {
        managed::set_error_hook(self.previous);
    }
}

/// A manager that records its enter and exit in a shared log.
struct Probe<'l> {
    name: &'static str,
    log: &'l RefCell<Vec<String>>,
    fail_exit: bool,
}

impl Manage for Probe<'_> {
    type Target = &'static str;
    type Error = Error;
    fn enter(&mut self) -> Result<&mut &'static str, Error> {
        self.log.borrow_mut().push(format!("enter {}", self.name));
        Ok(&mut self.name)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.log.borrow_mut().push(format!("exit {} saw {:?}", self.name, seen(outcome)));
        if self.fail_exit {
            Err(raise(self.name))
        } else {
            Ok(())
        }
    }
}

// ---- ported from CPython ---------------------------------------------------

#[test]
fn test_no_resources() {
    let r = ExitStack::new().run(|_stack| Ok::<_, Error>(()));
    assert!(matches!(r, Ok(Some(()))));
}

#[test]
fn test_callback() {
    // Python passes positional and keyword arguments to the callback; a Rust
    // closure captures them. The order of the calls is what is checked.
    type Call = (Vec<i32>, Vec<(&'static str, i32)>);
    let expected: Vec<Call> = vec![
        (vec![], vec![]),
        (vec![1], vec![]),
        (vec![1, 2], vec![]),
        (vec![], vec![("example", 1)]),
        (vec![1], vec![("example", 1)]),
        (vec![1, 2], vec![("example", 1)]),
        (vec![1, 2], vec![("self", 3), ("callback", 4)]),
    ];
    let result = RefCell::new(Vec::new());
    let r = ExitStack::new().run(|stack| {
        for (args, kwds) in expected.iter().rev().cloned() {
            let result = &result;
            stack.callback(move || result.borrow_mut().push((args, kwds)));
        }
        Ok::<_, Error>(())
    });
    assert!(matches!(r, Ok(Some(()))));
    assert_eq!(*result.borrow(), expected);
}

#[test]
fn test_push() {
    /// Python's `ExitCM`: an object whose exit checks the outcome; pushed,
    /// never entered.
    struct ExitCm<F>(F);
    impl<F: Fn(&Outcome<'_>) -> Result<bool, Error>> ExitCm<F> {
        fn exit(self, o: &Outcome<'_>) -> Result<bool, Error> {
            (self.0)(o)
        }
    }
    // The block fails (Python: 1/0); exits pushed after a suppressing one
    // see the error, those pushed before it see Ok.
    let checks = Cell::new(0);
    let expect_exc = |o: &Outcome<'_>| {
        assert_eq!(seen(o), Some("ZeroDivisionError"));
        checks.set(checks.get() + 1);
        Ok(false)
    };
    let expect_ok = |o: &Outcome<'_>| {
        assert!(o.is_ok(), "{o:?}");
        checks.set(checks.get() + 1);
        Ok(false)
    };
    let r = ExitStack::new().run(|stack| {
        stack.push(expect_ok);
        let cm = ExitCm(expect_ok);
        stack.push(move |o: &Outcome<'_>| cm.exit(o));
        stack.push(|_: &Outcome<'_>| Ok(true));
        let cm = ExitCm(expect_exc);
        stack.push(move |o: &Outcome<'_>| cm.exit(o));
        stack.push(expect_exc);
        stack.push(expect_exc);
        Err::<(), _>(raise("ZeroDivisionError"))
    });
    assert!(matches!(r, Ok(None)), "suppressed: {r:?}");
    assert_eq!(checks.get(), 5);
}

#[test]
fn test_enter_context() {
    struct TestCm<'r>(&'r RefCell<Vec<i32>>, ());
    impl Manage for TestCm<'_> {
        type Target = ();
        type Error = std::convert::Infallible;
        fn enter(&mut self) -> Result<&mut (), Self::Error> {
            self.0.borrow_mut().push(1);
            Ok(&mut self.1)
        }
        fn exit(self, _: &Outcome<'_>) -> Result<(), Self::Error> {
            self.0.borrow_mut().push(3);
            Ok(())
        }
    }
    let result = RefCell::new(Vec::new());
    let r = ExitStack::new().run(|stack| {
        stack.callback(|| result.borrow_mut().push(4)); // registered first => cleaned up last
        stack.enter(TestCm(&result, ()))?;
        assert_eq!(stack.len(), 2);
        result.borrow_mut().push(2);
        Ok::<_, Error>(())
    });
    assert!(matches!(r, Ok(Some(()))));
    assert_eq!(*result.borrow(), [1, 2, 3, 4]);
}

#[test]
fn test_enter_context_errors() {
    // Python's TypeError for an object lacking __enter__/__exit__ is a
    // compile error here (see the UI test). What remains at run time: a
    // failing enter registers nothing.
    struct Refuses;
    impl Manage for Refuses {
        type Target = ();
        type Error = Error;
        fn enter(&mut self) -> Result<&mut (), Error> {
            Err(raise("TypeError"))
        }
        fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
            panic!("exit after a failed enter")
        }
    }
    let stack = ExitStack::new();
    for _ in 0..3 {
        let e = stack.enter(Refuses).expect_err("enter fails");
        assert_eq!(name(&e), "TypeError");
    }
    assert!(stack.is_empty());
    stack.close().expect("nothing to run");
}

#[test]
fn test_close() {
    let result = RefCell::new(Vec::new());
    let stack = ExitStack::new();
    stack.callback(|| result.borrow_mut().push(1));
    stack.close().expect("close");
    result.borrow_mut().push(2);
    assert_eq!(*result.borrow(), [1, 2]);
}

#[test]
fn test_pop_all() {
    let result = RefCell::new(Vec::new());
    let new_stack = {
        let mut stack = ExitStack::new();
        stack.callback(|| result.borrow_mut().push(3));
        let new_stack = stack.pop_all();
        result.borrow_mut().push(1);
        stack.close().expect("empty");
        new_stack
    };
    result.borrow_mut().push(2);
    new_stack.close().expect("close");
    assert_eq!(*result.borrow(), [1, 2, 3]);
}

#[test]
fn test_exit_raise() {
    let r = ExitStack::new().run(|stack| {
        stack.push(|_: &Outcome<'_>| Ok(false));
        Err::<(), _>(raise("ZeroDivisionError"))
    });
    assert_eq!(r.map_err(|e| name(&e)), Err("ZeroDivisionError"));
}

#[test]
fn test_exit_suppress() {
    let r = ExitStack::new().run(|stack| {
        stack.push(|_: &Outcome<'_>| Ok(true));
        Err::<(), _>(raise("ZeroDivisionError"))
    });
    assert!(matches!(r, Ok(None)));
}

/// One exit of the chaining tests.
#[derive(Clone, Copy, Debug)]
enum Step {
    Raise(&'static str),
    Suppress,
}

fn push_step<'a>(stack: &ExitStack<'a>, step: Step, saved: &'a RefCell<Vec<Option<&'static str>>>) {
    match step {
        Step::Raise(n) => stack.push(move |_: &Outcome<'_>| Err(raise(n))),
        Step::Suppress => stack.push(move |o: &Outcome<'_>| {
            saved.borrow_mut().push(seen(o));
            Ok(true)
        }),
    }
}

/// Describes a run's result: the primary error and its suppressed ones.
fn describe<T: std::fmt::Debug>(r: &Result<Option<T>, Error>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("{} {:?}", name(e), suppressed_names(e)),
    }
}

#[test]
fn test_exit_exception_chaining_reference() {
    fn nested(steps: &[Step], saved: &RefCell<Vec<Option<&'static str>>>) -> Result<Option<()>, Error> {
        match steps.split_first() {
            None => Err(raise("ZeroDivisionError")),
            Some((step, inner)) => ExitStack::new()
                .run(|stack| {
                    push_step(stack, *step, saved);
                    nested(inner, saved)
                })
                .map(Option::flatten),
        }
    }
    // ADAPTED. CPython checks that one ExitStack chains exceptions exactly as
    // nested `with` statements do. Here: nested single-entry stacks (the
    // nested `with`s) give the same result as one stack with all entries.
    // Outermost first: RaiseExc(IndexError), RaiseExcWithContext(KeyError,
    // AttributeError) (two exits here), SuppressExc, RaiseExc(ValueError).
    let steps = [
        Step::Raise("IndexError"),
        Step::Raise("KeyError"),
        Step::Raise("AttributeError"),
        Step::Suppress,
        Step::Raise("ValueError"),
    ];
    let saved_flat = RefCell::new(Vec::new());
    let flat = ExitStack::new().run(|stack| {
        for step in steps {
            push_step(stack, step, &saved_flat);
        }
        Err::<(), _>(raise("ZeroDivisionError"))
    });

    let saved_nested = RefCell::new(Vec::new());
    let nested_result = nested(&steps, &saved_nested);

    assert_eq!(describe(&flat), describe(&nested_result));
    assert_eq!(describe(&flat), r#"AttributeError ["KeyError", "IndexError"]"#);
    // Python's SuppressExc saw ValueError (context ZeroDivisionError); here
    // it sees the root cause, the block's ZeroDivisionError.
    assert_eq!(*saved_flat.borrow(), [Some("ZeroDivisionError")]);
    assert_eq!(*saved_nested.borrow(), *saved_flat.borrow());
}

#[test]
fn test_exit_exception_chaining() {
    // ADAPTED. Python: IndexError raised, context KeyError, context
    // AttributeError, the inner ones suppressed; the suppressing exit saw
    // ValueError. Here: the first failure after the suppression is primary
    // (AttributeError), the later ones suppressed in exit order (KeyError,
    // IndexError); the suppressing exit saw the block's ZeroDivisionError,
    // and the ValueError before it was suppressed with it.
    let saved = RefCell::new(Vec::new());
    let r = ExitStack::new().run(|stack| {
        push_step(stack, Step::Raise("IndexError"), &saved);
        push_step(stack, Step::Raise("KeyError"), &saved);
        push_step(stack, Step::Raise("AttributeError"), &saved);
        push_step(stack, Step::Suppress, &saved);
        push_step(stack, Step::Raise("ValueError"), &saved);
        Err::<(), _>(raise("ZeroDivisionError"))
    });
    let e = r.expect_err("AttributeError");
    assert_eq!(name(&e), "AttributeError");
    assert_eq!(suppressed_names(&e), ["KeyError", "IndexError"]);
    assert!(e.suppressed().iter().all(|s| s.suppressed().is_empty()), "inner ones were suppressed");
    assert_eq!(*saved.borrow(), [Some("ZeroDivisionError")]);
}

#[test]
fn test_exit_exception_non_suppressing() {
    // bpo-19092
    let r = ExitStack::new().run(|stack| {
        stack.callback(|| ());
        stack.push(|_: &Outcome<'_>| Err(raise("IndexError")));
        Ok::<_, Error>(())
    });
    assert_eq!(describe(&r), r"IndexError []");

    let r = ExitStack::new().run(|stack| {
        stack.push(|_: &Outcome<'_>| Err(raise("KeyError")));
        stack.push(|_: &Outcome<'_>| Ok(true));
        stack.push(|_: &Outcome<'_>| Err(raise("IndexError")));
        Ok::<_, Error>(())
    });
    assert_eq!(describe(&r), r"KeyError []");
}

#[test]
fn test_exit_exception_with_correct_context() {
    // ADAPTED (bpo-20317). Python: exc4, context exc3, context exc2, context
    // exc1. Here: the block's exc1 stays primary and exc2, exc3, exc4 are
    // suppressed in exit order, each once (no self-referential loop).
    let r = ExitStack::new().run(|stack| {
        for n in ["exc4", "exc3", "exc2"] {
            stack.enter(managed::closing(RaisesOnClose(n)))?;
        }
        Err::<(), _>(raise("exc1"))
    });
    assert_eq!(describe(&r), r#"exc1 ["exc2", "exc3", "exc4"]"#);
}

/// Python's `gets_the_context_right`: a manager whose cleanup raises.
struct RaisesOnClose(&'static str);

impl managed::Close for RaisesOnClose {
    type Error = Error;
    fn close(self) -> Result<(), Error> {
        Err(raise(self.0))
    }
}

#[test]
fn test_exit_exception_with_existing_context() {
    // ADAPTED. Python's `raise_nested(inner, outer)` raises `outer` while
    // handling `inner`; result: exc5 > exc4 > exc3 > exc2 > exc1. Here an
    // exit that fails twice keeps its own first failure primary (inner, with
    // outer suppressed on it), and the block's exc1 stays primary overall.
    fn raise_nested(inner: &'static str, outer: &'static str) -> Error {
        let mut e = raise(inner);
        e.push_suppressed(raise(outer));
        e
    }
    let r = ExitStack::new().run(|stack| {
        stack.push(|_: &Outcome<'_>| Err(raise_nested("exc4", "exc5")));
        stack.push(|_: &Outcome<'_>| Err(raise_nested("exc2", "exc3")));
        Err::<(), _>(raise("exc1"))
    });
    let e = r.expect_err("exc1");
    assert_eq!(name(&e), "exc1");
    assert_eq!(suppressed_names(&e), ["exc2", "exc4"]);
    assert_eq!(suppressed_names(&e.suppressed()[0]), ["exc3"]);
    assert_eq!(suppressed_names(&e.suppressed()[1]), ["exc5"]);
    assert_eq!(
        format!("{e:#}"),
        "exc1\n  suppressed: exc2\n    suppressed: exc3\n  suppressed: exc4\n    suppressed: exc5"
    );
}

#[test]
fn test_body_exception_suppress() {
    let r = ExitStack::new().run(|stack| {
        stack.push(|_: &Outcome<'_>| Ok(true));
        Err::<(), _>(raise("ZeroDivisionError"))
    });
    assert!(matches!(r, Ok(None)), "Expected no exception, got {r:?}");
}

#[test]
fn test_exit_exception_chaining_suppress() {
    let r = ExitStack::new().run(|stack| {
        stack.push(|_: &Outcome<'_>| Ok(true));
        stack.push(|_: &Outcome<'_>| Err(raise("ZeroDivisionError")));
        stack.push(|_: &Outcome<'_>| Err(raise("KeyError")));
        Ok::<_, Error>(())
    });
    assert!(matches!(r, Ok(Some(()))), "{r:?}");
}

#[test]
fn test_excessive_nesting() {
    // The original implementation would die with RecursionError here.
    let n: u32 = if cfg!(miri) { 1_000 } else { 10_000 };
    let count = Cell::new(0u32);
    let r = ExitStack::new().run(|stack| {
        for _ in 0..n {
            stack.callback(|| count.set(count.get() + 1));
        }
        Ok::<_, Error>(())
    });
    assert!(matches!(r, Ok(Some(()))));
    assert_eq!(count.get(), n);
}

#[test]
fn test_dont_reraise_runtime_error() {
    // ADAPTED (bpo-27122: an exit re-raising the error it saw made an
    // infinite context loop). Here `first` re-raises what it saw and
    // `second` raises a new error caused by it; both see the block's error,
    // which stays primary; each exit's failure is attached once.
    let r = ExitStack::new().run(|stack| {
        stack.push(|o: &Outcome<'_>| {
            assert_eq!(seen(o), Some("UniqueRuntimeError"));
            Err(raise("UniqueException"))
        });
        stack.push(|o: &Outcome<'_>| Err(raise(seen(o).unwrap_or("nothing seen"))));
        Err::<(), _>(raise("UniqueRuntimeError"))
    });
    assert_eq!(describe(&r), r#"UniqueRuntimeError ["UniqueRuntimeError", "UniqueException"]"#);
}

// ---- Rust-only cases -------------------------------------------------------

#[test]
fn entries_run_lifo_each_once_and_see_the_primary_failure() {
    let log = RefCell::new(Vec::new());
    let stack = ExitStack::new();
    for (name, fail_exit) in [("a", false), ("b", true), ("c", true), ("d", false)] {
        stack.enter(Probe { name, log: &log, fail_exit }).expect("enter");
    }
    let e = stack.close().expect_err("c fails first");
    assert_eq!(name(&e), "c");
    assert_eq!(suppressed_names(&e), ["b"]);
    assert_eq!(
        *log.borrow(),
        [
            "enter a",
            "enter b",
            "enter c",
            "enter d",
            "exit d saw None",
            "exit c saw None",
            "exit b saw Some(\"c\")", // the first failure is what later exits see
            "exit a saw Some(\"c\")",
        ]
    );
}

#[test]
fn many_targets_are_held_at_once() {
    let stack = ExitStack::new();
    let writers: Vec<&mut BufWriter<Vec<u8>>> =
        (0..20).map(|_| stack.enter(BufWriter::new(Vec::new())).expect("enter")).collect();
    for (i, w) in writers.into_iter().enumerate() {
        write!(w, "{i}").expect("buffered");
    }
    assert_eq!(stack.len(), 20);
    stack.close().expect("flush to a Vec");
}

#[test]
fn exits_may_borrow_locals() {
    let mut total = 0;
    {
        let total_ref = &mut total;
        let stack = ExitStack::new();
        stack.callback(move || *total_ref += 5);
        stack.close().expect("close");
    }
    assert_eq!(total, 5);
}

#[test]
fn close_with_reports_suppression_and_secondary_failures() {
    let block = raise("block");
    // Nothing suppresses: Ok(false), the caller keeps its error.
    assert!(!ExitStack::new().close_with(&Outcome::err(&block)).expect("no exit failed"));
    // Suppressed: Ok(true).
    let stack = ExitStack::new();
    stack.push(|o: &Outcome<'_>| Ok(seen(o) == Some("block")));
    assert!(stack.close_with(&Outcome::err(&block)).expect("suppressed"));
    // Ok(true) on an Ok outcome suppresses nothing.
    let stack = ExitStack::new();
    stack.push(|_: &Outcome<'_>| Ok(true));
    assert!(!stack.close_with(&Outcome::Ok).expect("nothing to suppress"));
    // An exit failure is returned for the caller to attach to its error.
    let stack = ExitStack::new();
    stack.push(|o: &Outcome<'_>| {
        assert_eq!(seen(o), Some("block"));
        Err(raise("rollback"))
    });
    assert_eq!(name(&stack.close_with(&Outcome::err(&block)).expect_err("rollback failed")), "rollback");
}

#[test]
fn a_panicking_exit_is_caught_the_rest_run_and_it_resumes() {
    let reports = Reports::start();
    let log = RefCell::new(Vec::new());
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let stack = ExitStack::new();
        stack.push(|o: &Outcome<'_>| {
            log.borrow_mut().push(format!("first registered saw panic {:?}", o.panic_message()));
            Err(raise("after the panic"))
        });
        stack.push(|o: &Outcome<'_>| {
            log.borrow_mut().push(format!("second saw panic {:?}", o.panic_message()));
            Ok(true) // a panic cannot be suppressed
        });
        stack.callback(|| std::panic::panic_any(String::from("exit panicked")));
        stack.push(|_: &Outcome<'_>| Err(raise("before the panic")));
        let _ = stack.close();
    }));
    let payload = caught.expect_err("the exit's panic resumes");
    assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("exit panicked"), "payload unchanged");
    assert_eq!(
        *log.borrow(),
        ["second saw panic Some(\"exit panicked\")", "first registered saw panic Some(\"exit panicked\")"]
    );
    let reports = reports.take();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::ReplacedByPanic);
    assert!(reports[0].1.contains("before the panic"), "{reports:?}");
    assert_eq!(reports[1].0, ReportKind::FailedWhileUnwinding);
    assert!(reports[1].1.contains("after the panic"), "{reports:?}");
}

#[test]
fn closing_with_a_panic_returns_exit_errors_and_reports_exit_panics() {
    let reports = Reports::start();
    let payload = catch_unwind(|| panic!("block panicked")).expect_err("panics");
    let stack = ExitStack::new();
    stack.push(|o: &Outcome<'_>| {
        assert_eq!(o.panic_message(), Some("block panicked"));
        Err(raise("exit error"))
    });
    stack.callback(|| panic!("exit panic"));
    let e = stack.close_with(&Outcome::panic(&*payload)).expect_err("the exit error is returned");
    assert_eq!(name(&e), "exit error");
    let reports = reports.take();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::FailedWhileUnwinding);
    assert!(reports[0].1.contains("exit panic"), "{reports:?}");
}

#[test]
fn run_resumes_the_body_panic_after_the_exits() {
    let reports = Reports::start();
    let saw = Cell::new(None);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        ExitStack::new().run(|stack| {
            stack.push(|o: &Outcome<'_>| {
                saw.set(o.panic_message().map(str::to_owned).map(|_| true));
                Err(raise("cleanup failed while unwinding"))
            });
            assert!(saw.get().is_some(), "body panicked");
            Ok::<(), Error>(())
        })
    }));
    assert_eq!(caught.expect_err("resumes").downcast_ref::<&str>(), Some(&"body panicked"));
    assert_eq!(saw.get(), Some(true));
    let reports = reports.take();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0, ReportKind::FailedWhileUnwinding);
}

#[test]
fn run_with_another_error_type_reports_exit_failures() {
    let reports = Reports::start();
    let r = ExitStack::new().run(|stack| {
        stack.push(|_: &Outcome<'_>| Err(raise("exit")));
        Err::<(), _>(std::io::Error::other("body"))
    });
    assert_eq!(r.expect_err("body error").to_string(), "body");
    let reports = reports.take();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0, ReportKind::SuppressedNotAttached);
}

#[test]
fn dropping_an_unclosed_stack_cancels_its_exits_and_reports() {
    let reports = Reports::start();
    let ran = Cell::new(0);
    {
        let stack = ExitStack::new();
        stack.callback(|| ran.set(ran.get() + 1));
        stack.push(|o: &Outcome<'_>| {
            assert!(o.is_cancelled(), "not told how the block ended: not a success");
            Err(raise("lost on drop? no: reported"))
        });
    }
    assert_eq!(ran.get(), 1);
    let reports = reports.take();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0, ReportKind::StackDropped);
    assert!(reports[0].1.contains("reported"));
}

#[test]
fn dropping_while_unwinding_shows_a_panic() {
    let saw_panic = Cell::new(false);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let stack = ExitStack::new();
        stack.push(|o: &Outcome<'_>| {
            saw_panic.set(o.is_panic());
            Ok(false)
        });
        panic!("unwinding through the stack");
    }));
    assert!(caught.is_err());
    assert!(saw_panic.get());
}

#[test]
fn the_stack_is_a_manager() {
    let log = RefCell::new(Vec::new());
    let mut guard = managed::Guard::new(ExitStack::new());
    let stack = guard.enter().expect("enter");
    stack.enter(Probe { name: "inner", log: &log, fail_exit: true }).expect("enter");
    let block = raise("block");
    let e = guard.exit(&Outcome::err(&block)).expect_err("inner exit fails");
    assert_eq!(name(&e), "inner");
    assert_eq!(log.borrow()[1], "exit inner saw Some(\"block\")");
}

#[test]
fn nested_stacks_close_inner_first() {
    let log = RefCell::new(Vec::new());
    let outer = ExitStack::new();
    outer.callback(|| log.borrow_mut().push("outer"));
    let inner = outer.enter(ExitStack::new()).expect("enter");
    inner.callback(|| log.borrow_mut().push("inner"));
    outer.close().expect("close");
    assert_eq!(*log.borrow(), ["inner", "outer"]);
}

#[test]
fn a_hundred_thousand_entries_close_without_recursion() {
    // Miri interprets every instruction: a smaller stack still checks the
    // loop (a recursive close would overflow Miri's stack much earlier).
    let n: u32 = if cfg!(miri) { 2_000 } else { 100_000 };
    let stack = ExitStack::new();
    let count = Cell::new(0u32);
    for i in 0..n {
        if i % 2 == 0 {
            stack.callback(|| count.set(count.get() + 1));
        } else {
            stack.push(|_: &Outcome<'_>| {
                count.set(count.get() + 1);
                Ok(false)
            });
        }
    }
    stack.close().expect("close");
    assert_eq!(count.get(), n);
}

#[test]
fn with_exit_stack_in_scope() {
    use managed::prelude::*;

    let log = RefCell::new(Vec::new());
    // `with ExitStack() as stack:` — the stack's exits see the scope's outcome.
    let r: Result<(), Error> = scope! {
        let stack = with!(ExitStack::new())?;
        let a = stack.enter(Probe { name: "a", log: &log, fail_exit: false })?;
        let b = stack.enter(Probe { name: "b", log: &log, fail_exit: true })?;
        log.borrow_mut().push(format!("body holds {a} and {b}"));
        stack.callback(|| log.borrow_mut().push("callback".to_owned()));
        Err(raise("body"))
    };
    let e = r.expect_err("the body fails");
    assert_eq!(name(&e), "body", "the body's error stays primary");
    assert_eq!(suppressed_names(&e), ["b"], "the stack's exit failure is attached");
    assert_eq!(
        *log.borrow(),
        [
            "enter a",
            "enter b",
            "body holds a and b",
            "callback",
            "exit b saw Some(\"body\")",
            "exit a saw Some(\"body\")",
        ]
    );

    // On success, the stack's exit failure is the scope's error.
    let log = RefCell::new(Vec::new());
    let r: Result<u8, Error> = scope! {
        let stack = with!(ExitStack::new())?;
        stack.enter(Probe { name: "c", log: &log, fail_exit: true })?;
        Ok(1)
    };
    assert_eq!(name(&r.expect_err("exit fails")), "c");
}

#[test]
fn after_a_panic_every_remaining_exit_runs_once_and_later_panics_are_reported() {
    let reports = Reports::start();
    let ran = RefCell::new(Vec::new());
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let stack = ExitStack::new();
        for i in 0..10 {
            let ran = &ran;
            stack.callback(move || {
                ran.borrow_mut().push(i);
                assert!(i % 3 != 0, "exit {i} panicked");
            });
        }
        let _ = stack.close();
    }));
    let payload = caught.expect_err("the first panic resumes");
    assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("exit 9 panicked"));
    assert_eq!(*ran.borrow(), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], "each exit ran exactly once");
    let kinds: Vec<ReportKind> = reports.take().into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, [ReportKind::FailedWhileUnwinding; 3], "exits 6, 3 and 0 panicked while unwinding");
}

/// A stack under a scope does not own the scope's error: when one of its
/// exits panics, the scope sends the error it carried to the hook, once.
#[test]
fn a_stack_exit_panic_under_a_failed_scope_reports_the_scope_error_once() {
    use managed::prelude::*;

    let reports = Reports::start();
    let caught = catch_unwind(AssertUnwindSafe(|| -> Result<(), Error> {
        scope! {
            let stack = with!(ExitStack::new())?;
            stack.push(|_: &Outcome<'_>| std::panic::panic_any("test: exit panicked"));
            Err(raise("body"))
        }
    }));
    assert!(caught.is_err(), "the exit's panic resumes");
    let reports = reports.take();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::ReplacedByPanic);
    assert!(reports[0].1.contains("body"), "{reports:?}");
}

#[test]
fn is_empty_and_len_follow_the_registered_exits() {
    let mut stack = ExitStack::new();
    assert!(stack.is_empty());
    stack.callback(|| {});
    assert!(!stack.is_empty());
    assert_eq!(stack.len(), 1);
    let moved = stack.pop_all();
    assert!(stack.is_empty());
    assert!(!moved.is_empty());
    moved.close().expect("a callback cannot fail");
}
