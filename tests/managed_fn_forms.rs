//! The forms of `#[managed] fn` users write, each as a sync fn and an
//! `async fn`: associated fns of a generic impl, methods with a receiver,
//! `impl Trait` arguments and targets, lifetimes of the enclosing impl, a
//! name the exit part binds again, a bare `return;` after `yield_!`, the
//! facade under another name.
#![deny(warnings, clippy::all, clippy::pedantic)]

mod common;

use std::cell::RefCell;
use std::io::{self, Read};

use common::block_on;
use managed::{managed, scope, with, yield_, Error};

/// A generic pool whose leases are `#[managed]` associated fns.
struct Pool<'p, T> {
    item: T,
    name: &'p str,
    log: RefCell<Vec<String>>,
}

impl<'p, T: Clone + std::fmt::Debug> Pool<'p, T> {
    /// An associated fn of a generic impl: captures the impl's `T` and `'p`.
    #[managed]
    fn lease(pool: &Pool<'p, T>, tag: &str) -> T {
        let outcome = yield_!(pool.item.clone());
        pool.log.borrow_mut().push(format!("{} {tag} ok={}", pool.name, outcome.is_ok()));
    }

    /// Returns `Self` as the target.
    #[managed]
    fn build(name: &'p str, item: T) -> Self {
        yield_!(Pool { item, name, log: RefCell::new(Vec::new()) });
    }

    #[managed]
    async fn lease_async(pool: &Pool<'p, T>) -> Result<T, Error> {
        let outcome = yield_!(pool.item.clone());
        pool.log.borrow_mut().push(format!("{} async ok={}", pool.name, outcome.is_ok()));
    }
}

#[test]
fn associated_fns_of_a_generic_impl() {
    let name = String::from("pool");
    let pool = Pool { item: 3u8, name: &name, log: RefCell::new(Vec::new()) };
    let built = scope! {
        let item = with!(Pool::lease(&pool, "a"))?;
        *item += 1;
        let other = with!(Pool::build("built", 'x'))?;
        Ok::<_, Error>((*item, other.item))
    }
    .unwrap();
    assert_eq!(built, (4, 'x'));
    block_on(scope!(async {
        let item = with!(Pool::lease_async(&pool))?;
        *item += 1;
        Ok::<_, Error>(())
    }))
    .unwrap();
    assert_eq!(*pool.log.borrow(), ["pool a ok=true", "pool async ok=true"]);
}

/// `impl Trait` arguments, one of them with an elided lifetime.
#[managed]
fn read_all(mut source: impl Read, extra: impl Iterator<Item = &u8>) -> Result<Vec<u8>, io::Error> {
    let mut bytes = Vec::new();
    source.read_to_end(&mut bytes)?;
    bytes.extend(extra);
    let outcome = yield_!(bytes);
    if outcome.is_ok() && bytes.is_empty() {
        return Err(io::Error::other("nothing read"));
    }
}

#[managed]
async fn count_async(mut source: impl Read, count: impl for<'a> Fn(&'a [u8]) -> usize) -> Result<usize, io::Error> {
    let mut bytes = Vec::new();
    source.read_to_end(&mut bytes)?;
    let mut n = count(&bytes);
    let _ = yield_!(n);
    assert_eq!(n, 4);
}

#[test]
fn impl_trait_arguments() {
    let more = [9u8];
    let read = scope! {
        let bytes = with!(read_all(&b"ab"[..], more.iter()))?;
        bytes.push(0);
        Ok::<_, Error>(bytes.clone())
    }
    .unwrap();
    assert_eq!(read, [b'a', b'b', 9, 0]);
    let empty = scope! {
        let bytes = with!(read_all(io::empty(), [].iter()))?;
        Ok::<_, Error>(bytes.len())
    };
    assert_eq!(empty.unwrap_err().to_string(), "nothing read");
    let n = block_on(scope!(async {
        let n = with!(count_async(&b"abc"[..], <[u8]>::len))?;
        *n += 1;
        Ok::<_, Error>(*n)
    }))
    .unwrap();
    assert_eq!(n, 4);
}

/// Both parts build a `msg` and move it: the exit part's `let msg` is a new
/// local, so the enter part's (moved) one must not be kept for the exit.
#[managed]
fn logged(log: &RefCell<Vec<String>>) -> u8 {
    let msg = String::from("enter");
    log.borrow_mut().push(msg);
    let outcome = yield_!(1);
    let msg = format!("exit ok={}", outcome.is_ok());
    log.borrow_mut().push(msg);
}

/// The outcome's pattern rebinds a name of the enter part the same way.
#[managed]
fn rebound_by_the_outcome(log: &RefCell<Vec<String>>) -> u8 {
    let outcome = String::from("enter");
    log.borrow_mut().push(outcome);
    let outcome = yield_!(2);
    log.borrow_mut().push(format!("exit ok={}", outcome.is_ok()));
}

#[test]
fn a_name_rebound_in_the_exit_part_is_a_new_local() {
    let log = RefCell::new(Vec::new());
    let sum = scope! {
        let a = with!(logged(&log))?;
        let b = with!(rebound_by_the_outcome(&log))?;
        Ok::<_, Error>(*a + *b)
    }
    .unwrap();
    assert_eq!(sum, 3);
    assert_eq!(*log.borrow(), ["enter", "enter", "exit ok=true", "exit ok=true"]);
}

/// An `impl Trait` target: the signature says what the block may use.
#[managed]
fn sink(written: &RefCell<usize>) -> Result<impl io::Write, io::Error> {
    let outcome = yield_!(Vec::<u8>::new());
    if outcome.is_ok() {
        *written.borrow_mut() += 1;
    }
}

#[managed]
async fn sink_async(written: &RefCell<usize>) -> Result<Box<impl io::Write>, io::Error> {
    let mut out = Box::new(Vec::<u8>::new());
    let _ = yield_!(out);
    *written.borrow_mut() += out.len();
}

#[test]
fn impl_trait_targets() {
    use std::io::Write;
    let written = RefCell::new(0);
    scope! {
        let out = with!(sink(&written))?;
        out.write_all(b"x")?;
        Ok::<_, Error>(())
    }
    .unwrap();
    block_on(scope!(async {
        let out = with!(sink_async(&written))?;
        out.write_all(b"abc")?;
        Ok::<_, Error>(())
    }))
    .unwrap();
    assert_eq!(*written.borrow(), 4);
}

/// A database whose transactions are `#[managed]` methods.
struct Db {
    log: RefCell<Vec<String>>,
    name: String,
}

mod naming {
    pub fn suffix() -> &'static str {
        "!"
    }
}

struct Tx {
    rows: u32,
}

impl Db {
    fn execute(&self, sql: &str) -> Result<(), io::Error> {
        if sql.is_empty() {
            return Err(io::Error::other("empty statement"));
        }
        self.log.borrow_mut().push(sql.to_owned());
        Ok(())
    }

    /// `&self`: used before and after `yield_!`, in a closure, in a macro,
    /// beside a `self::` path.
    #[managed]
    fn transaction(&self) -> Result<Tx, io::Error> {
        self.execute("BEGIN")?;
        let outcome = yield_!(Tx { rows: 0 });
        self.execute(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        let described = || format!("{}{}", self.name, self::naming::suffix());
        self.log.borrow_mut().push(described());
    }

    /// The target borrows from `self` (elided: the receiver's lifetime).
    #[managed]
    fn name(&self) -> &str {
        yield_!(self.name.as_str());
    }

    /// `&mut self`, used only after `yield_!`.
    #[managed]
    fn rename(&mut self, to: &str) -> u32 {
        let outcome = yield_!(0);
        if outcome.is_ok() {
            to.clone_into(&mut self.name);
        }
    }

    /// `mut self` by value, lent whole.
    #[managed]
    fn into_log(mut self) -> Vec<String> {
        self.name.push('+');
        let log = self.log.take();
        let _ = yield_!(log);
        assert_eq!(self.name, "db+");
    }

    #[managed]
    async fn transaction_async(&self) -> Result<Tx, io::Error> {
        self.execute("BEGIN")?;
        let outcome = yield_!(Tx { rows: 0 });
        self.execute(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    }
}

#[test]
fn methods_with_a_receiver() {
    let mut db = Db { log: RefCell::new(Vec::new()), name: "db".into() };
    let failed = scope! {
        let tx = with!(db.transaction())?;
        tx.rows += 1;
        let name = with!(db.name())?;
        assert_eq!(*name, "db");
        Err::<(), _>(Error::msg("insert failed"))
    };
    assert!(failed.is_err());
    block_on(scope!(async {
        let tx = with!(db.transaction_async())?;
        tx.rows += 1;
        Ok::<_, Error>(())
    }))
    .unwrap();
    assert_eq!(*db.log.borrow(), ["BEGIN", "ROLLBACK", "db!", "BEGIN", "COMMIT"]);
    scope! {
        let n = with!(db.rename("renamed"))?;
        *n += 1;
        Ok::<_, Error>(())
    }
    .unwrap();
    assert_eq!(db.name, "renamed");
    db.name = "db".into();
    let entries = scope! {
        let log = with!(db.into_log())?;
        Ok::<_, Error>(log.len())
    }
    .unwrap();
    assert_eq!(entries, 5);
}

/// A bare `return;` in the exit part ends it, as in a fn returning `()`.
#[managed]
fn early_exit(log: &RefCell<Vec<String>>) -> u8 {
    let outcome = yield_!(1);
    if outcome.is_ok() {
        return;
    }
    log.borrow_mut().push("failed".into());
}

#[managed]
async fn early_exit_async(log: &RefCell<Vec<String>>) -> Result<u8, io::Error> {
    let outcome = yield_!(2);
    if outcome.is_ok() {
        return;
    }
    log.borrow_mut().push("failed async".into());
}

#[test]
fn bare_return_in_the_exit_part() {
    let log = RefCell::new(Vec::new());
    let ok = scope! {
        let a = with!(early_exit(&log))?;
        Ok::<_, Error>(*a)
    };
    assert_eq!(ok.unwrap(), 1);
    let failed = scope! {
        let _a = with!(early_exit(&log))?;
        Err::<(), _>(Error::msg("block failed"))
    };
    assert!(failed.is_err());
    let ok = block_on(scope!(async {
        let b = with!(early_exit_async(&log))?;
        Ok::<_, Error>(*b)
    }));
    assert_eq!(ok.unwrap(), 2);
    let failed = block_on(scope!(async {
        let _b = with!(early_exit_async(&log))?;
        Err::<(), _>(Error::msg("block failed"))
    }));
    assert!(failed.is_err());
    assert_eq!(*log.borrow(), ["failed", "failed async"]);
}

/// The facade under another name: `#[managed(crate = "..")]` with
/// `yield_!` called through that name.
mod renamed {
    use managed as mg;

    #[mg::managed(crate = "mg")]
    pub fn counted(seen: &std::cell::Cell<bool>) -> u32 {
        let outcome = mg::yield_!(40);
        seen.set(outcome.is_ok());
    }

    #[mg::managed(crate = "mg")]
    pub async fn counted_async(seen: &std::cell::Cell<bool>) -> u32 {
        let outcome = mg::yield_!(41);
        seen.set(outcome.is_ok());
    }
}

#[test]
fn yield_through_a_renamed_facade() {
    let seen = std::cell::Cell::new(false);
    let n = scope! {
        let n = with!(renamed::counted(&seen))?;
        *n += 2;
        Ok::<_, Error>(*n)
    }
    .unwrap();
    assert_eq!(n, 42);
    assert!(seen.replace(false));
    let n = block_on(scope!(async {
        let n = with!(renamed::counted_async(&seen))?;
        *n += 1;
        Ok::<_, Error>(*n)
    }))
    .unwrap();
    assert_eq!(n, 42);
    assert!(seen.get());
}
