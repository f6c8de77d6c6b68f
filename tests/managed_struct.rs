//! `#[managed]` on structs: fields entered in order with rollback, exited in
//! reverse with every failure kept; hooks; generics; through `scope!` and
//! `Guard`.
#![allow(
    clippy::unnecessary_wraps,
    clippy::elidable_lifetime_names,
    reason = "the test managers spell out each signature form #[managed] accepts"
)]

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use managed::prelude::*;
use managed::{Guard, Slot};

type Log = RefCell<Vec<String>>;

/// A field manager that records its calls and fails or panics on demand.
struct Part<'a> {
    name: &'static str,
    log: &'a Log,
    fail_enter: bool,
    fail_exit: bool,
    panic_exit: bool,
}

fn part<'a>(name: &'static str, log: &'a Log) -> Part<'a> {
    Part { name, log, fail_enter: false, fail_exit: false, panic_exit: false }
}

fn describe(outcome: &Outcome) -> &'static str {
    if outcome.is_ok() {
        "ok"
    } else if outcome.is_panic() {
        "panic"
    } else {
        "err"
    }
}

#[managed]
impl Part<'_> {
    #[enter]
    fn enter_part(&mut self) -> Result<(), io::Error> {
        self.log.borrow_mut().push(format!("enter {}", self.name));
        if self.fail_enter {
            return Err(io::Error::other(format!("{} refused", self.name)));
        }
        Ok(())
    }

    #[exit]
    fn exit_part(self, outcome: &Outcome) -> Result<(), io::Error> {
        self.log.borrow_mut().push(format!("exit {} {}", self.name, describe(outcome)));
        assert!(!self.panic_exit, "{} exit panicked", self.name);
        if self.fail_exit {
            return Err(io::Error::other(format!("{} exit failed", self.name)));
        }
        Ok(())
    }
}

#[managed]
struct Trio<'a> {
    #[managed]
    a: Part<'a>,
    label: String,
    #[managed]
    b: Part<'a>,
    #[managed]
    c: Part<'a>,
}

fn trio<'a>(log: &'a Log, f: impl FnOnce(&mut Part<'a>, &mut Part<'a>, &mut Part<'a>)) -> Trio<'a> {
    let (mut a, mut b, mut c) = (part("a", log), part("b", log), part("c", log));
    f(&mut a, &mut b, &mut c);
    Trio { a: a.into(), label: "trio".into(), b: b.into(), c: Slot::new(c) }
}

#[test]
fn enters_in_order_and_exits_in_reverse() {
    let log = Log::default();
    let r = scope! {
        let t = with!(trio(&log, |_, _, _| {}))?;
        t.label.push('!');
        log.borrow_mut().push(format!("body {} {}", t.label, t.b.name));
        Ok::<_, managed::Error>(())
    };
    r.unwrap();
    assert_eq!(*log.borrow(), ["enter a", "enter b", "enter c", "body trio! b", "exit c ok", "exit b ok", "exit a ok"]);
}

#[test]
fn failed_enter_rolls_back_the_entered_fields() {
    let log = Log::default();
    let r = scope! {
        let _t = with!(trio(&log, |_, b, _| b.fail_enter = true))?;
        log.borrow_mut().push("body".into());
        Ok::<_, managed::Error>(())
    };
    let e = r.unwrap_err();
    assert_eq!(e.to_string(), "b refused");
    assert_eq!(*log.borrow(), ["enter a", "enter b", "exit a err"]);
}

#[test]
fn rollback_failures_are_suppressed_under_the_enter_error() {
    let log = Log::default();
    let mut guard = Guard::new(trio(&log, |a, b, c| {
        a.fail_exit = true;
        b.fail_exit = true;
        c.fail_enter = true;
    }));
    let e = guard.enter().err().expect("c refuses");
    assert_eq!(e.to_string(), "c refused");
    let suppressed: Vec<String> = e.suppressed().iter().map(ToString::to_string).collect();
    assert_eq!(suppressed, ["b exit failed", "a exit failed"]);
    assert_eq!(*log.borrow(), ["enter a", "enter b", "enter c", "exit b err", "exit a err"]);
    // The rolled back fields are gone; the caller sees that without a panic.
    let t = guard.into_inner();
    assert!(t.a.get().is_none() && t.c.get().is_some());
}

#[test]
fn a_slot_gives_its_manager_back_until_the_rollback_exited_it() {
    let log = Log::default();
    let mut guard = Guard::new(trio(&log, |_, _, c| c.fail_enter = true));
    assert_eq!(guard.enter().err().expect("c refuses").to_string(), "c refused");
    let Trio { mut a, mut c, .. } = guard.into_inner();
    assert!(a.get_mut().is_none(), "a was exited by the rollback");
    assert!(a.into_inner().is_none());
    let failed = c.get_mut().expect("c never entered, so it was not exited");
    failed.name = "c again";
    assert_eq!(c.into_inner().map(|p| p.name), Some("c again"));
    assert_eq!(*log.borrow(), ["enter a", "enter b", "enter c", "exit b err", "exit a err"]);
}

#[test]
fn every_field_exits_and_later_failures_are_suppressed() {
    let log = Log::default();
    let r = scope! {
        let _t = with!(trio(&log, |a, _, c| {
            a.fail_exit = true;
            c.fail_exit = true;
        }))?;
        Ok::<_, managed::Error>(())
    };
    let e = r.unwrap_err();
    assert_eq!(e.to_string(), "c exit failed");
    assert_eq!(e.suppressed().len(), 1);
    assert_eq!(e.suppressed()[0].to_string(), "a exit failed");
    // b and a see c's failure: the primary failure so far.
    assert_eq!(*log.borrow(), ["enter a", "enter b", "enter c", "exit c ok", "exit b err", "exit a err"]);
}

#[test]
fn field_exits_see_the_block_error() {
    let log = Log::default();
    let r = scope! {
        let _t = with!(trio(&log, |_, _, _| {}))?;
        Err::<(), _>(managed::Error::msg("body failed"))
    };
    assert_eq!(r.unwrap_err().to_string(), "body failed");
    assert_eq!(log.borrow()[3..], ["exit c err", "exit b err", "exit a err"]);
}

#[test]
fn a_panicking_exit_is_seen_by_the_rest_and_resumes() {
    let log = Log::default();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let mut guard = Guard::new(trio(&log, |_, b, _| b.panic_exit = true));
        guard.enter().unwrap();
        let _ = guard.exit(&Outcome::Ok);
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("b exit panicked"));
    assert_eq!(log.borrow()[3..], ["exit c ok", "exit b ok", "exit a panic"]);
}

#[test]
fn a_panicking_enter_rolls_back_and_resumes() {
    struct Bomb;
    #[managed]
    #[allow(clippy::unused_self, clippy::unnecessary_wraps, reason = "a manager that only panics")]
    impl Bomb {
        #[enter]
        fn arm(&mut self) -> Result<(), io::Error> {
            panic!("bomb went off")
        }
        #[exit]
        fn disarm(self) -> Result<(), io::Error> {
            Ok(())
        }
    }
    #[managed]
    struct Risky<'a> {
        #[managed]
        first: Part<'a>,
        #[managed]
        bomb: Bomb,
    }
    let log = Log::default();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let mut guard = Guard::new(Risky { first: part("first", &log).into(), bomb: Bomb.into() });
        let _ = guard.enter();
    }));
    assert!(caught.is_err());
    assert_eq!(*log.borrow(), ["enter first", "exit first panic"]);
}

/// Hooks run after every field entered and before any field exits.
#[managed(enter = Session::opened, exit = Session::closing)]
struct Session<'a> {
    #[managed]
    conn: Part<'a>,
    refuse: bool,
}

impl Session<'_> {
    fn opened(&mut self) -> Result<(), io::Error> {
        self.conn.log.borrow_mut().push("hook opened".into());
        if self.refuse {
            return Err(io::Error::other("hook refused"));
        }
        Ok(())
    }

    fn closing(&mut self, outcome: &Outcome) {
        self.conn.log.borrow_mut().push(format!("hook closing {}", describe(outcome)));
    }
}

#[test]
fn hooks_run_around_the_fields() {
    let log = Log::default();
    scope! {
        let s = with!(Session { conn: part("conn", &log).into(), refuse: false })?;
        s.conn.log.borrow_mut().push("body".into());
        Ok::<_, managed::Error>(())
    }
    .unwrap();
    assert_eq!(*log.borrow(), ["enter conn", "hook opened", "body", "hook closing ok", "exit conn ok"]);
}

#[test]
fn a_failing_enter_hook_rolls_back_every_field() {
    let log = Log::default();
    let mut guard = Guard::new(Session { conn: part("conn", &log).into(), refuse: true });
    assert_eq!(guard.enter().err().map(|e| e.to_string()).as_deref(), Some("hook refused"));
    assert_eq!(*log.borrow(), ["enter conn", "hook opened", "exit conn err"]);
}

/// `error = Type` picks the struct's error type; generics and lifetimes work.
#[derive(Debug)]
enum AppError {
    Io(io::Error),
}

impl From<io::Error> for AppError {
    fn from(e: io::Error) -> Self {
        AppError::Io(e)
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Io(e) => write!(f, "io: {e}"),
        }
    }
}

#[managed(error = AppError)]
struct Writer<'a, W: io::Write> {
    #[managed]
    out: io::BufWriter<W>,
    #[managed]
    audit: Part<'a>,
    lines: usize,
}

#[test]
fn generic_struct_with_a_custom_error_type() {
    let log = Log::default();
    let mut sink = Vec::new();
    let r = scope! {
        let w = with!(Writer { out: io::BufWriter::new(&mut sink).into(), audit: part("audit", &log).into(), lines: 0 })?;
        io::Write::write_all(&mut *w.out, b"hello\n")?;
        w.lines += 1;
        Ok::<_, AppError>(w.lines)
    };
    assert_eq!(r.unwrap(), 1);
    assert_eq!(sink, b"hello\n", "the BufWriter field was flushed by its exit");
    assert_eq!(*log.borrow(), ["enter audit", "exit audit ok"]);
}

#[test]
fn custom_error_type_keeps_the_first_failure() {
    let log = Log::default();
    let mut guard = Guard::new(Writer {
        out: io::BufWriter::new(Vec::new()).into(),
        audit: Part { fail_exit: true, ..part("audit", &log) }.into(),
        lines: 0,
    });
    guard.enter().unwrap();
    let e = guard.exit(&Outcome::Ok).unwrap_err();
    assert_eq!(e.to_string(), "io: audit exit failed");
}

/// Tuple structs: fields by index.
#[managed]
struct Both<'a>(#[managed] Part<'a>, #[managed] Part<'a>);

#[test]
fn tuple_struct_fields() {
    let log = Log::default();
    let mut guard = Guard::new(Both(part("0", &log).into(), part("1", &log).into()));
    guard.enter().unwrap();
    guard.exit(&Outcome::Ok).unwrap();
    assert_eq!(*log.borrow(), ["enter 0", "enter 1", "exit 1 ok", "exit 0 ok"]);
}

/// A struct of structs: composition nests.
#[managed]
struct Outer<'a> {
    #[managed]
    inner: Both<'a>,
    #[managed]
    last: Part<'a>,
}

#[test]
fn composed_structs_nest() {
    let log = Log::default();
    let r = scope! {
        let _o = with!(Outer { inner: Both(part("x", &log).into(), part("y", &log).into()).into(), last: part("z", &log).into() })?;
        Ok::<_, managed::Error>(())
    };
    r.unwrap();
    assert_eq!(*log.borrow(), ["enter x", "enter y", "enter z", "exit z ok", "exit y ok", "exit x ok"]);
}

/// A field whose type is a type parameter: the struct is a manager when the
/// parameter is one.
#[managed]
struct Around<M> {
    #[managed]
    inner: M,
    #[managed]
    out: io::BufWriter<Vec<u8>>,
}

#[test]
fn type_parameter_fields_make_a_conditional_impl() {
    let log = Log::default();
    let mut guard =
        Guard::new(Around { inner: part("inner", &log).into(), out: io::BufWriter::new(Vec::new()).into() });
    guard.enter().unwrap();
    guard.exit(&Outcome::Ok).unwrap();
    assert_eq!(*log.borrow(), ["enter inner", "exit inner ok"]);
}
