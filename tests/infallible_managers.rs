//! A manager that cannot fail (`Error = Infallible`: `timed`, `nullcontext`,
//! an infallible `#[managed]` impl, struct or fn) is entered in a scope of
//! any error type: `std::io::Error` and a user's error enum have no
//! `From<Infallible>`, and the scope does not ask for it (the enter's `?`
//! and the exit's error take no conversion there). Before, every scope in
//! this file failed to compile with "`?` couldn't convert the error to
//! `std::io::Error`" and "the trait bound `std::io::Error:
//! From<Infallible>` is not satisfied".

mod common;

use std::cell::RefCell;
use std::convert::Infallible;
use std::io::{self, BufWriter, Write};

use common::{block_on, Pending};
use managed::{defer, managed, nullcontext, scope, scoped, timed, with, yield_, Manage, Outcome};

/// What happened, in order.
type Log = RefCell<Vec<String>>;

/// An infallible manager from `#[managed]`: its exit returns `()`.
struct Marker<'a> {
    name: &'static str,
    log: &'a Log,
}

#[managed]
impl Marker<'_> {
    #[enter]
    fn begin(&mut self) {
        self.log.borrow_mut().push(format!("enter {}", self.name));
    }

    #[exit]
    fn end(self, outcome: &Outcome<'_>) {
        let seen = match outcome {
            Outcome::Ok => "ok".to_string(),
            Outcome::Err(e) => format!("err {e:?}"),
            Outcome::Panic(p) => format!("panic {}", p.message().unwrap_or("?")),
            Outcome::Cancelled => "cancelled".to_string(),
        };
        self.log.borrow_mut().push(format!("exit {} {seen}", self.name));
    }
}

/// A user's error enum: converts from `io::Error`, not from `Infallible`.
#[derive(Debug)]
enum AppError {
    Io(io::Error),
    Invalid(&'static str),
}

impl From<io::Error> for AppError {
    fn from(e: io::Error) -> Self {
        AppError::Io(e)
    }
}

fn marker<'a>(name: &'static str, log: &'a Log) -> Marker<'a> {
    Marker { name, log }
}

fn io_scope(log: &Log, fail: bool) -> io::Result<usize> {
    scope! {
        let m = with!(marker("a", log))?;
        let _t = with!(timed("io scope"))?;
        let n = with!(nullcontext(3))?;
        let out = with!(BufWriter::new(Vec::new()))?; // a manager that can fail, `From<io::Error>`
        defer!(err => log.borrow_mut().push("err defer".into()));
        if fail {
            return Err(io::Error::other("disk full"));
        }
        out.write_all(m.name.as_bytes())?;
        Ok(*n + out.buffer().len())
    }
}

#[test]
fn infallible_managers_in_an_io_error_scope() {
    let log = Log::default();
    assert_eq!(io_scope(&log, false).expect("ok"), 4);
    assert_eq!(io_scope(&log, true).expect_err("fails").to_string(), "disk full");
    assert_eq!(
        *log.borrow(),
        ["enter a", "exit a ok", "enter a", "err defer", "exit a err Custom { kind: Other, error: \"disk full\" }",]
    );
}

#[test]
fn the_enter_result_is_irrefutable_when_the_manager_cannot_fail() {
    let r: io::Result<u32> = scope! {
        let Ok(t) = with!(timed("irrefutable"));
        let _: &mut managed::contextlib::Timed = t;
        let Ok(n) = with!(nullcontext(41));
        let _ = with!(nullcontext(()));
        Ok(*n + 1)
    };
    assert_eq!(r.expect("ok"), 42);
}

#[test]
fn infallible_managers_in_a_scope_of_a_user_error_enum() {
    let log = Log::default();
    let r: Result<(), AppError> = scope! {
        let m = with!(marker("a", &log))?;
        let out = with!(BufWriter::new(Vec::new()))?; // `AppError: From<io::Error>`
        out.write_all(m.name.as_bytes())?;
        Err(AppError::Invalid("rejected"))
    };
    assert!(matches!(r, Err(AppError::Invalid("rejected"))));
    let r: Result<(), AppError> = scope! {
        with!(nullcontext(()))?;
        Err(AppError::Io(io::Error::other("x")))
    };
    assert!(matches!(r, Err(AppError::Io(e)) if e.to_string() == "x"));
    assert_eq!(*log.borrow(), ["enter a", "exit a err Invalid(\"rejected\")"]);
}

#[test]
fn an_infallible_manager_exits_seeing_a_panic_in_an_io_error_scope() {
    common::quiet_panics();
    let log = Log::default();
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: io::Result<()> = scope! {
            let _m = with!(marker("a", &log))?;
            panic!("boom");
        };
    }));
    assert!(unwound.is_err());
    assert_eq!(*log.borrow(), ["enter a", "exit a panic boom"]);
}

/// `#[managed] fn` without `Result`: cannot fail.
#[managed]
fn counter(start: u32) -> u32 {
    let outcome = yield_!(start);
    assert!(outcome.is_ok(), "the scope below succeeds");
}

/// A struct whose error type is `io::Error` with fields that cannot fail
/// (and one that can).
#[managed(error = io::Error)]
struct Report {
    #[managed]
    timer: managed::contextlib::Timed,
    #[managed]
    rows: managed::contextlib::NullContext<Vec<u32>>,
    #[managed]
    out: BufWriter<Vec<u8>>,
}

#[test]
fn an_infallible_managed_fn_and_struct_fields_in_an_io_error_scope() {
    let r: io::Result<u32> = scope! {
        let n = with!(counter(40))?;
        let report = with!(Report { timer: timed("report").into(), rows: nullcontext(vec![1]).into(), out: BufWriter::new(Vec::new()).into() })?;
        report.out.write_all(b"x")?;
        Ok(*n + u32::try_from(report.out.buffer().len()).expect("small") + 1)
    };
    assert_eq!(r.expect("ok"), 42);
}

#[scoped(timed("decorated"), nullcontext(()))]
fn decorated(fail: bool) -> io::Result<u8> {
    if fail {
        return Err(io::Error::other("failed"));
    }
    Ok(1)
}

#[test]
fn a_scoped_fn_of_io_result_with_managers_that_cannot_fail() {
    assert_eq!(decorated(false).expect("ok"), 1);
    assert!(decorated(true).is_err());
}

/// Generic code keeps its `From` bound, and a bound to `Infallible` needs none.
fn generic<M: Manage>(manager: M) -> io::Result<()>
where
    io::Error: From<M::Error>,
{
    scope! {
        with!(manager)?;
        Ok(())
    }
}

fn generic_infallible<M: Manage<Error = Infallible>>(manager: M) -> Result<(), AppError> {
    scope! {
        with!(manager)?;
        Ok(())
    }
}

#[test]
fn generic_code_with_its_from_bound_and_with_an_infallible_bound() {
    generic(BufWriter::new(Vec::new())).expect("ok");
    let log = Log::default();
    generic_infallible(marker("g", &log)).expect("ok");
    generic_infallible(nullcontext(1)).expect("ok");
    assert_eq!(*log.borrow(), ["enter g", "exit g ok"]);
}

/// An async manager that cannot fail.
struct AsyncMarker<'a> {
    log: &'a Log,
}

#[managed]
impl AsyncMarker<'_> {
    #[exit]
    async fn close(self, outcome: &Outcome<'_>) {
        Pending(1).await;
        self.log.borrow_mut().push(format!("async exit ok: {}", outcome.is_ok()));
    }
}

/// An async struct whose error type is a user's enum, with an async field
/// and a sync field that cannot fail.
#[managed(error = AppError)]
struct Session<'a> {
    #[managed(async)]
    conn: AsyncMarker<'a>,
    #[managed]
    timer: managed::contextlib::Timed,
}

#[test]
fn infallible_managers_in_an_async_io_error_scope() {
    let log = Log::default();
    let run = |fail: bool| {
        block_on(scope!(async {
            let n = with!(nullcontext(1))?; // sync, cannot fail
            let _a = with!(AsyncMarker { log: &log })?; // async, cannot fail
            let Ok(_t) = with!(timed("async"));
            Pending(1).await;
            if fail {
                return Err(io::Error::other("failed"));
            }
            Ok::<_, io::Error>(*n)
        }))
    };
    assert_eq!(run(false).expect("ok"), 1);
    assert!(run(true).is_err());
    let r: Result<(), AppError> = block_on(scope!(async {
        let s = with!(Session { conn: AsyncMarker { log: &log }.into(), timer: timed("session").into() })?;
        let _ = &s.timer;
        Err(AppError::Invalid("async"))
    }));
    assert!(matches!(r, Err(AppError::Invalid("async"))));
    assert_eq!(*log.borrow(), ["async exit ok: true", "async exit ok: false", "async exit ok: false"]);
}
