//! A framework crate built on `managed`: it re-exports the crate for its
//! users (`pub use managed;`), who then reach it only through this crate,
//! and has a macro that writes scopes with `$crate::managed::..` paths.

pub use managed;

use managed::{Error, Manage, Outcome};
use std::cell::RefCell;

/// A transaction that records whether it committed.
#[derive(Debug)]
pub struct Transaction<'a> {
    /// Where `BEGIN`, `COMMIT` and `ROLLBACK` are written.
    pub log: &'a RefCell<Vec<&'static str>>,
}

impl Manage for Transaction<'_> {
    type Target = Self;
    type Error = Error;
    fn enter(&mut self) -> Result<&mut Self, Error> {
        self.log.borrow_mut().push("BEGIN");
        Ok(self)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.log.borrow_mut().push(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" });
        Ok(())
    }
}

/// Runs `$body` (a block evaluating to `Result<T, managed::Error>`) in a
/// transaction written to `$log`, with `$tx` bound to it: a `scope!`
/// written by another crate's macro, reaching `managed` through `$crate`.
#[macro_export]
macro_rules! transaction {
    ($log:expr, |$tx:ident| $body:block) => {
        $crate::managed::scope! {
            let log: &::std::cell::RefCell<::std::vec::Vec<&'static str>> = $log;
            let $tx = $crate::managed::with!($crate::Transaction { log })?;
            $crate::managed::defer!(err => log.borrow_mut().push("failure recorded"));
            $body
        }
    };
}
