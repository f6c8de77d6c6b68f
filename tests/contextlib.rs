//! `suppress`, `closing`, `nullcontext`, `timed`, checked against `CPython`'s
//! `Lib/test/test_contextlib.py`.
//!
//! | `CPython` test | here |
//! | --- | --- |
//! | `ClosingTestCase.test_closing` | `test_closing` |
//! | `ClosingTestCase.test_closing_error` | `test_closing_error` |
//! | `NullcontextTestCase.test_nullcontext` | `test_nullcontext` |
//! | `TestSuppress.test_no_exception` | `test_no_exception` |
//! | `TestSuppress.test_exact_exception` | `test_exact_exception` |
//! | `TestSuppress.test_exception_hierarchy` | `test_exception_hierarchy` (a wrapped error matches) |
//! | `TestSuppress.test_other_exception` | `test_other_exception` |
//! | `TestSuppress.test_no_args` | `test_no_args` |
//! | `TestSuppress.test_multiple_exception_args` | `test_multiple_exception_args` |
//! | `TestSuppress.test_cm_is_reentrant` | `test_cm_is_reentrant` |
//!
//! Not ported: `test_instance_docs` (docstrings); `TestSuppress.
//! test_no_result_from_enter` (`Suppress::run`'s body takes no argument, so
//! there is no enter result to check). Python's exception classes become
//! Rust error types; "suppress these classes" becomes a predicate.

use std::cell::{Cell, RefCell};
use std::num::ParseIntError;
use std::rc::Rc;
use std::time::Duration;

use managed::{closing, nullcontext, scope, suppress, timed, with, Close, Error, ExitStack, Outcome};

// ---- closing ---------------------------------------------------------------

struct C<'s> {
    state: &'s RefCell<Vec<i32>>,
    id: u32,
}

impl Close for C<'_> {
    type Error = std::convert::Infallible;
    fn close(self) -> Result<(), Self::Error> {
        self.state.borrow_mut().push(1);
        Ok(())
    }
}

#[test]
fn test_closing() {
    let state = RefCell::new(Vec::new());
    let x = C { state: &state, id: 7 };
    assert!(state.borrow().is_empty());
    let r: Result<(), Error> = scope! {
        let y = with!(closing(x))?;
        assert_eq!(y.id, 7); // the target is the value itself
        Ok(())
    };
    r.expect("no error");
    assert_eq!(*state.borrow(), [1]);
}

#[test]
fn test_closing_error() {
    let state = RefCell::new(Vec::new());
    let x = C { state: &state, id: 7 };
    let r: Result<(), Error> = scope! {
        let y = with!(closing(x))?;
        assert_eq!(y.id, 7);
        let _n: i32 = "1/0".parse()?;
        Ok(())
    };
    assert!(r.expect_err("the body fails").downcast_ref::<ParseIntError>().is_some());
    assert_eq!(*state.borrow(), [1], "closed on the error path too");
}

#[test]
fn closing_returns_the_close_error() {
    struct FailsToClose;
    impl Close for FailsToClose {
        type Error = std::io::Error;
        fn close(self) -> std::io::Result<()> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
    }
    let stack = ExitStack::new();
    stack.enter(closing(FailsToClose)).expect("enter");
    let e = stack.close().expect_err("close fails");
    assert_eq!(e.downcast_ref::<std::io::Error>().map(std::io::Error::kind), Some(std::io::ErrorKind::BrokenPipe));
}

// ---- nullcontext -----------------------------------------------------------

#[test]
fn test_nullcontext() {
    #[derive(Debug, PartialEq)]
    struct Thing(u8);
    let r: Result<u8, Error> = scope! {
        let c_in = with!(nullcontext(Thing(3)))?;
        assert_eq!(*c_in, Thing(3));
        c_in.0 += 1;
        Ok(c_in.0)
    };
    assert_eq!(r.expect("nothing fails"), 4);
}

// ---- suppress --------------------------------------------------------------

#[derive(Debug)]
enum Lookup {
    Index(usize),
    Key(&'static str),
}

impl std::fmt::Display for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lookup::Index(i) => write!(f, "index {i} out of range"),
            Lookup::Key(k) => write!(f, "no key {k}"),
        }
    }
}
impl std::error::Error for Lookup {}

fn index(s: &str, i: usize) -> Result<char, Lookup> {
    s.chars().nth(i).ok_or(Lookup::Index(i))
}

#[test]
fn test_no_exception() {
    let r = suppress(|_: &ParseIntError| true).run(|| Ok::<_, ParseIntError>(2i32.pow(5)));
    assert_eq!(r, Ok(Some(32)));
}

#[test]
fn test_exact_exception() {
    let r = suppress(|_: &ParseIntError| true).run(|| "five".parse::<i32>());
    assert_eq!(r, Ok(None));
}

#[test]
fn test_exception_hierarchy() {
    // Python: suppress(LookupError) catches an IndexError. Here the
    // predicate names the family (any `Lookup`), and the error matches also
    // when it arrives wrapped in a `managed::Error`.
    let lookup = suppress(|e: &Lookup| matches!(e, Lookup::Index(_) | Lookup::Key(_)));
    assert!(matches!(lookup.run(|| index("Hello", 50)), Ok(None)));
    let wrapped = lookup.run(|| -> Result<char, Error> { Ok(index("Hello", 50)?) });
    assert!(matches!(wrapped, Ok(None)));
}

#[test]
fn test_other_exception() {
    let r = suppress(|_: &Lookup| true).run(|| "1/0".parse::<i32>());
    assert!(r.is_err(), "a ParseIntError is not a Lookup");
}

#[test]
fn test_no_args() {
    let r = suppress(|_: &ParseIntError| false).run(|| "x".parse::<i32>());
    assert!(r.is_err(), "suppresses nothing");
}

#[test]
fn test_multiple_exception_args() {
    let either =
        suppress(|e: &Error| e.downcast_ref::<ParseIntError>().is_some() || e.downcast_ref::<Lookup>().is_some());
    assert!(matches!(either.run(|| -> Result<i32, Error> { Ok("x".parse::<i32>()?) }), Ok(None)));
    assert!(matches!(either.run(|| -> Result<char, Error> { Ok(index("", 5)?) }), Ok(None)));
    let other = either.run(|| -> Result<(), Error> { Err(Error::msg("other")) });
    assert_eq!(other.expect_err("not named").to_string(), "other");
}

#[test]
fn test_cm_is_reentrant() {
    let ignore = suppress(|_: &Error| true);
    assert!(matches!(ignore.run(|| Ok::<_, Error>(())), Ok(Some(()))));
    assert!(matches!(ignore.run(|| -> Result<(), Error> { Err(Error::msg("len(5)")) }), Ok(None)));
    let outer_continued = Cell::new(false);
    let r = ignore.run(|| -> Result<(), Error> {
        let inner = ignore.run(|| -> Result<(), Error> { Err(Error::msg("len(5)")) }); // nested use
        assert!(matches!(inner, Ok(None)));
        outer_continued.set(true);
        Err(Error::msg("1/0"))
    });
    assert!(matches!(r, Ok(None)));
    assert!(outer_continued.get());
}

#[test]
fn suppress_in_an_exit_stack() {
    let stack = ExitStack::new();
    stack.push(suppress(|e: &Lookup| matches!(e, Lookup::Key(_))).exit());
    let key = Error::new(Lookup::Key("k"));
    assert!(stack.close_with(&Outcome::err(&key)).expect("suppressed"));

    let stack = ExitStack::new();
    stack.push(suppress(|e: &Lookup| matches!(e, Lookup::Key(_))).exit());
    let idx = Error::new(Lookup::Index(1));
    assert!(!stack.close_with(&Outcome::err(&idx)).expect("not suppressed, no exit failed"));
}

#[test]
fn suppress_never_catches_a_panic() {
    let caught = std::panic::catch_unwind(|| suppress(|_: &Error| true).run(|| -> Result<(), Error> { panic!("no") }));
    assert!(caught.is_err());
}

/// `suppress` does not look into an `anyhow::Error` (anyhow's downcast needs
/// bounds a generic `E` lacks); its docs say to name `anyhow::Error` and
/// look inside in the predicate, which this checks.
#[cfg(feature = "anyhow")]
#[test]
fn suppress_over_anyhow_names_anyhow_error() {
    use std::io::ErrorKind;
    let not_found = suppress(|e: &std::io::Error| e.kind() == ErrorKind::NotFound);
    let wrapped = || Err::<(), _>(anyhow::Error::new(std::io::Error::from(ErrorKind::NotFound)));
    assert!(not_found.run(wrapped).is_err(), "not looked into");
    let via_anyhow = suppress(|e: &anyhow::Error| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::NotFound)
    });
    assert!(matches!(via_anyhow.run(wrapped), Ok(None)));
    // Through `managed::Error` converted from anyhow, `Outcome::error` finds the anyhow error.
    let managed_err =
        || Err::<(), _>(Error::from_anyhow(anyhow::Error::new(std::io::Error::from(ErrorKind::NotFound))));
    assert!(matches!(via_anyhow.run(managed_err), Ok(None)));
}

// ---- timed -----------------------------------------------------------------

#[test]
fn timed_reports_elapsed_time_and_outcome_to_its_callback() {
    let seen: Rc<RefCell<Vec<(String, Duration, bool)>>> = Rc::default();
    let sink = seen.clone();
    let r: Result<(), Error> = scope! {
        let t = with!(timed("step").with_callback(move |name, elapsed, outcome| {
            sink.borrow_mut().push((name.to_owned(), elapsed, outcome.is_err()));
        }))?;
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.elapsed() >= Duration::from_millis(5));
        Err(Error::msg("step failed"))
    };
    assert!(r.is_err());
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "step");
    assert!(seen[0].1 >= Duration::from_millis(5), "{:?}", seen[0].1);
    assert!(seen[0].2, "the callback saw the error outcome");
}

#[test]
fn timed_without_callback_exits_ok() {
    let stack = ExitStack::new();
    let t = stack.enter(timed(String::from("owned name"))).expect("enter");
    assert_eq!(t.name(), "owned name");
    stack.close().expect("timing never fails");
}

/// A scope holding a `timed` across an `.await` is a `Send` future when the
/// callback is `Send`: it can be spawned.
#[test]
fn timed_with_a_send_callback_is_held_across_await_in_a_spawned_task() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_time().build().expect("runtime");
    let (tx, rx) = std::sync::mpsc::channel();
    let task = runtime.spawn(scope!(async move {
        let t = with!(timed("spawned").with_callback(move |name, elapsed, outcome| {
            tx.send((name.to_owned(), elapsed, outcome.is_ok())).expect("the test waits");
        }))?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok::<_, Error>(t.elapsed())
    }));
    let elapsed_in_block = runtime.block_on(task).expect("the task ran").expect("the block succeeds");
    let (name, elapsed, ok) = rx.recv().expect("the callback ran");
    assert_eq!((name.as_str(), ok), ("spawned", true));
    assert!(elapsed >= elapsed_in_block && elapsed >= Duration::from_millis(2), "{elapsed:?}");
}

/// The callback may borrow: it need not be `'static`.
#[test]
fn timed_callback_may_borrow_a_local() {
    let mut total = Duration::ZERO;
    for _ in 0..2 {
        let r: Result<(), Error> = scope! {
            with!(timed("step").with_callback(|_, elapsed, _| total += elapsed))?;
            std::thread::sleep(Duration::from_millis(1));
            Ok(())
        };
        r.expect("timing never fails");
    }
    assert!(total >= Duration::from_millis(2), "{total:?}");
}
