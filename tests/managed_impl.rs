//! `#[managed]` on impl blocks: every enter/exit/error/panic path, through
//! `scope!` + `with!` and through `managed::Guard`.
#![allow(
    clippy::unnecessary_wraps,
    clippy::elidable_lifetime_names,
    clippy::unused_self,
    reason = "the test managers spell out each signature form #[managed] accepts"
)]

use std::cell::RefCell;
use std::convert::Infallible;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use managed::prelude::*;
use managed::Guard;

type Log = RefCell<Vec<String>>;

fn error_type_is<E, M: Manage<Error = E>>(_: &M) {}

/// Both methods fallible with the same error type.
struct Conn<'a> {
    log: &'a Log,
    fail_enter: bool,
    fail_exit: bool,
    queries: u32,
}

impl<'a> Conn<'a> {
    fn new(log: &'a Log) -> Self {
        Conn { log, fail_enter: false, fail_exit: false, queries: 0 }
    }
}

#[managed]
impl Conn<'_> {
    #[enter]
    fn connect(&mut self) -> Result<(), io::Error> {
        self.log.borrow_mut().push("connect".into());
        if self.fail_enter {
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        }
        Ok(())
    }

    #[exit]
    fn close(self, outcome: &Outcome) -> Result<(), io::Error> {
        let how = if outcome.is_ok() {
            "ok"
        } else if outcome.is_panic() {
            "panic"
        } else {
            "err"
        };
        self.log.borrow_mut().push(format!("close {how} after {} queries", self.queries));
        if self.fail_exit {
            return Err(io::Error::other("close failed"));
        }
        Ok(())
    }
}

#[test]
fn target_is_self_and_exit_sees_ok() {
    let log = Log::default();
    let r = scope! {
        let conn = with!(Conn::new(&log))?;
        conn.queries += 2;
        Ok::<_, io::Error>(conn.queries)
    };
    assert_eq!(r.unwrap(), 2);
    assert_eq!(*log.borrow(), ["connect", "close ok after 2 queries"]);
    error_type_is::<io::Error, _>(&Conn::new(&log));
}

#[test]
fn failed_enter_skips_exit_and_returns_the_error() {
    let log = Log::default();
    let r = scope! {
        let _conn = with!(Conn { fail_enter: true, ..Conn::new(&log) })?;
        log.borrow_mut().push("body".into());
        Ok::<_, io::Error>(())
    };
    assert_eq!(r.unwrap_err().kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(*log.borrow(), ["connect"]);
}

#[test]
fn exit_sees_an_error_left_by_question_mark() {
    let log = Log::default();
    let r = scope! {
        let _conn = with!(Conn::new(&log))?;
        let n: u32 = "not a number".parse().map_err(io::Error::other)?;
        Ok::<_, io::Error>(n)
    };
    assert!(r.is_err());
    assert_eq!(*log.borrow(), ["connect", "close err after 0 queries"]);
}

#[test]
fn exit_sees_an_error_returned_early() {
    let log = Log::default();
    let r = scope! {
        let conn = with!(Conn::new(&log))?;
        conn.queries = 1;
        if conn.queries == 1 {
            return Err(io::Error::other("early"));
        }
        Ok::<_, io::Error>(())
    };
    assert_eq!(r.unwrap_err().to_string(), "early");
    assert_eq!(*log.borrow(), ["connect", "close err after 1 queries"]);
}

#[test]
fn exit_sees_a_panic_and_the_panic_resumes() {
    let log = Log::default();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        scope! {
            let _conn = with!(Conn::new(&log))?;
            panic!("boom");
            #[allow(unreachable_code)]
            Ok::<_, io::Error>(())
        }
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(*log.borrow(), ["connect", "close panic after 0 queries"]);
}

#[test]
fn failed_exit_is_the_error_of_a_successful_block() {
    let log = Log::default();
    let r = scope! {
        let _conn = with!(Conn { fail_exit: true, ..Conn::new(&log) })?;
        Ok::<_, io::Error>(5)
    };
    assert_eq!(r.unwrap_err().to_string(), "close failed");
}

#[test]
fn failed_exits_are_suppressed_under_the_block_error() {
    let log = Log::default();
    let r = scope! {
        let _a = with!(Conn { fail_exit: true, ..Conn::new(&log) })?;
        let _b = with!(Conn { fail_exit: true, ..Conn::new(&log) })?;
        Err::<(), _>(managed::Error::msg("body failed"))
    };
    let e = r.unwrap_err();
    assert_eq!(e.to_string(), "body failed");
    assert_eq!(e.suppressed().len(), 2);
    assert!(e.suppressed().iter().all(|s| s.to_string() == "close failed"));
}

#[test]
fn guard_enters_and_exits_by_hand() {
    let log = Log::default();
    let mut guard = Guard::new(Conn { fail_exit: true, ..Conn::new(&log) });
    guard.enter().unwrap().queries = 7;
    let e = guard.exit(&Outcome::err(&"by hand")).unwrap_err();
    assert_eq!(e.to_string(), "close failed");
    assert_eq!(*log.borrow(), ["connect", "close err after 7 queries"]);
}

/// Neither method can fail: the error type is `Infallible`. No `#[enter]`.
struct Counter<'a>(&'a Log);

#[managed]
impl Counter<'_> {
    #[exit]
    fn done(self) {
        self.0.borrow_mut().push("done".into());
    }
}

#[test]
fn exit_only_and_infallible() {
    let log = Log::default();
    let mut guard = Guard::new(Counter(&log));
    guard.enter().unwrap();
    let Ok(()) = guard.exit(&Outcome::Ok);
    assert_eq!(*log.borrow(), ["done"]);
    error_type_is::<Infallible, _>(&Counter(&log));
}

/// Only the exit can fail, through an alias: the error is read from it.
struct Flusher(Vec<u8>);

#[managed]
impl Flusher {
    #[enter]
    fn start(&mut self) {
        self.0.clear();
    }

    #[exit]
    fn flush(self, _outcome: &Outcome<'_>) -> io::Result<()> {
        if self.0.is_empty() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "nothing written"));
        }
        Ok(())
    }
}

#[test]
fn error_type_read_through_an_alias() {
    let r = scope! {
        let f = with!(Flusher(vec![1, 2]))?;
        assert!(f.0.is_empty(), "enter cleared it");
        Ok::<_, io::Error>(())
    };
    assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WriteZero);
    error_type_is::<io::Error, _>(&Flusher(vec![]));
}

/// Generic impl blocks keep their parameters and bounds.
struct Recorder<'l, T: Clone> {
    log: &'l RefCell<Vec<T>>,
    value: T,
}

#[managed]
impl<'l, T> Recorder<'l, T>
where
    T: Clone,
{
    #[enter]
    fn begin(&mut self) -> Result<(), managed::Error> {
        self.log.borrow_mut().push(self.value.clone());
        Ok(())
    }

    #[exit]
    fn end(self, outcome: &Outcome) -> Result<(), managed::Error> {
        if outcome.is_ok() {
            self.log.borrow_mut().push(self.value);
        }
        Ok(())
    }
}

#[test]
fn generic_impl_block() {
    let log = RefCell::new(Vec::new());
    scope! {
        let r = with!(Recorder { log: &log, value: 'x' })?;
        r.value = 'y';
        Ok::<_, managed::Error>(())
    }
    .unwrap();
    assert_eq!(*log.borrow(), ['x', 'y']);
}

/// The methods stay callable as ordinary methods.
#[test]
fn marked_methods_remain_inherent_methods() {
    let log = Log::default();
    let mut conn = Conn::new(&log);
    conn.connect().unwrap();
    conn.close(&Outcome::Ok).unwrap();
    assert_eq!(log.borrow().len(), 2);
}

mod renamed {
    extern crate managed as facade;

    pub struct Unit;

    #[facade::managed(crate = "facade")]
    impl Unit {
        #[exit]
        fn bye(self) {}
    }
}

#[test]
fn crate_option_names_a_renamed_facade() {
    let mut guard = Guard::new(renamed::Unit);
    assert!(guard.enter().is_ok());
    assert!(guard.exit(&Outcome::Ok).is_ok());
}
