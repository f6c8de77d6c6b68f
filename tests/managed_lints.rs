//! What `#[managed]` generates compiles cleanly in a strict user crate:
//! rustc's warnings and `unused_qualifications` are errors here, and clippy
//! (all + pedantic, run by CI with `-D warnings`) sees this file too.
#![deny(warnings, unused_qualifications, unused_results, clippy::all, clippy::pedantic)]

use managed::{managed, scope, with, yield_, Error, Guard, Outcome};
use std::io::{self, BufWriter, Write};

/// An impl block with both markers.
pub struct Conn {
    open: bool,
}

#[managed]
impl Conn {
    #[enter]
    fn open(&mut self) -> Result<(), io::Error> {
        if self.open {
            return Err(io::Error::other("already open"));
        }
        self.open = true;
        Ok(())
    }

    #[exit]
    fn close(self, outcome: &Outcome) -> Result<(), io::Error> {
        if self.open && outcome.is_ok() {
            Ok(())
        } else {
            Err(io::Error::other("closed after a failure"))
        }
    }
}

/// An exit-only impl block, generic.
pub struct Named<T>(T);

#[managed]
impl<T: Clone> Named<T> {
    #[exit]
    fn done(self) {
        drop(self.0.clone());
    }
}

/// A struct with hooks, a generic field and plain data.
#[managed(enter = Pair::hello, exit = Pair::bye)]
pub struct Pair<'a, W: Write> {
    #[managed]
    conn: Conn,
    #[managed]
    out: BufWriter<W>,
    greeting: &'a str,
}

impl<W: Write> Pair<'_, W> {
    fn hello(&mut self) -> io::Result<()> {
        writeln!(self.out, "{}", self.greeting)
    }

    fn bye(&mut self, _outcome: &Outcome) {
        self.greeting = "bye";
    }
}

/// A `yield_!` fn with arguments, a kept local and a `?` in both parts.
#[managed]
fn lines(prefix: &str, limit: usize) -> Result<Vec<String>, Error> {
    let started: u8 = "1".parse()?;
    let outcome = yield_!(Vec::new());
    if outcome.is_ok() && started == 1 && prefix.len() > limit {
        return Err(Error::msg("prefix too long"));
    }
}

/// `on_cancel`'s fallback: no awaiting on cancellation.
fn forget(rows: &mut Vec<String>) {
    rows.clear();
}

/// An async `yield_!` fn: `?` before the yield, a borrow across it, the lent
/// value used by name after it, an explicit `return`, a fallback.
#[managed(on_cancel = forget)]
async fn rows(prefix: &str) -> Result<Vec<String>, Error> {
    let started: u8 = "1".parse()?;
    let label = prefix.to_owned();
    let borrowed = &label;
    let mut rows = Vec::new();
    let outcome = yield_!(rows);
    if outcome.is_ok() && started == 1 && rows.len() > borrowed.len() {
        return Err(Error::msg("too many rows"));
    }
}

#[test]
fn strict_lints_accept_the_async_expansion() {
    let n = futures::executor::block_on(scope!(async {
        let r = with!(rows("> "))?;
        r.push("a".to_owned());
        Ok::<_, Error>(r.len())
    }));
    assert_eq!(n.ok(), Some(1));
}

#[test]
fn strict_lints_accept_the_expansion() {
    let mut sink = Vec::new();
    let n = scope! {
        let conn = with!(Conn { open: false })?;
        let pair = with!(Pair { conn: Conn { open: false }.into(), out: BufWriter::new(&mut sink).into(), greeting: "hi" })?;
        let l = with!(lines("> ", 8))?;
        l.push(pair.greeting.to_owned());
        Ok::<_, Error>(usize::from(conn.open) + l.len())
    };
    assert_eq!(n.ok(), Some(2));
    assert_eq!(sink, b"hi\n");
    let mut guard = Guard::new(Named("x"));
    assert!(guard.enter().is_ok());
    assert!(guard.exit(&Outcome::Ok).is_ok());
}
