//! A user of a framework that re-exports `managed` (`pub use managed;`):
//! this crate depends on `managed` only through `framework`, so every path
//! to the macros goes through it. Compiling this crate is half of the test:
//! before the macros named the crate through `$crate`, each scope here
//! failed with "cannot find `managed` in the crate root".
#![cfg(test)]

use std::cell::RefCell;

use framework::managed::{defer, scope, with, Error};
use framework::Transaction;

type Log = RefCell<Vec<&'static str>>;

fn imported(log: &Log, fail: bool) -> Result<(), Error> {
    scope! {
        let tx = with!(Transaction { log })?;
        defer!(ok => log.borrow_mut().push("ok defer"));
        if fail {
            return Err(Error::msg("failed"));
        }
        tx.log.borrow_mut().push("INSERT");
        Ok(())
    }
}

#[test]
fn macros_imported_from_the_re_export() {
    let log = Log::default();
    imported(&log, false).expect("ok");
    assert!(imported(&log, true).is_err());
    assert_eq!(*log.borrow(), ["BEGIN", "INSERT", "ok defer", "COMMIT", "BEGIN", "ROLLBACK"]);
}

fn qualified(log: &Log, fail: bool) -> Result<(), Error> {
    framework::managed::scope! {
        let tx = framework::managed::with!(Transaction { log })?;
        framework::managed::defer!(err => log.borrow_mut().push("err defer"));
        if fail {
            return Err(Error::msg("failed"));
        }
        tx.log.borrow_mut().push("INSERT");
        Ok(())
    }
}

#[test]
fn macros_written_with_the_re_export_path() {
    let log = Log::default();
    qualified(&log, false).expect("ok");
    assert!(qualified(&log, true).is_err());
    assert_eq!(*log.borrow(), ["BEGIN", "INSERT", "COMMIT", "BEGIN", "err defer", "ROLLBACK"]);
    {
        framework::managed::defer! { log.borrow_mut().push("standalone") }
    }
    assert_eq!(log.borrow().last(), Some(&"standalone"));
}

#[test]
fn a_framework_macro_that_writes_the_scope_with_crate_paths() {
    let log = Log::default();
    let ok: Result<usize, Error> = framework::transaction!(&log, |tx| {
        tx.log.borrow_mut().push("INSERT");
        Ok(1)
    });
    assert_eq!(ok.expect("ok"), 1);
    let failed: Result<usize, Error> = framework::transaction!(&log, |tx| {
        tx.log.borrow_mut().push("INSERT");
        Err(Error::msg("constraint violated"))
    });
    assert!(failed.is_err());
    assert_eq!(*log.borrow(), ["BEGIN", "INSERT", "COMMIT", "BEGIN", "INSERT", "failure recorded", "ROLLBACK"]);
}

#[framework::managed::scoped(crate = "framework::managed", Transaction { log })]
fn decorated(log: &Log) -> Result<(), Error> {
    log.borrow_mut().push("INSERT");
    Ok(())
}

#[test]
fn a_scoped_fn_with_the_crate_option_naming_the_re_export() {
    let log = Log::default();
    decorated(&log).expect("ok");
    assert_eq!(*log.borrow(), ["BEGIN", "INSERT", "COMMIT"]);
}
