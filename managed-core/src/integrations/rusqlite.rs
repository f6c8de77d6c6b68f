//! rusqlite (feature `rusqlite`): [`Transaction`], a manager that begins a
//! transaction when entered, commits it when the block succeeds and rolls it
//! back on an error, a panic or a cancellation, and becomes a savepoint when
//! the connection is already inside a transaction.
//!
//! ```
//! use managed::rusqlite::Transaction;
//! use managed::{scope, with, Error};
//! use rusqlite::Connection;
//!
//! let conn = Connection::open_in_memory()?;
//! conn.execute_batch("CREATE TABLE t (x INTEGER)")?;
//!
//! let failed: Result<(), Error> = scope! {
//!     let tx = with!(Transaction::new(&conn))?;        // BEGIN DEFERRED
//!     tx.execute("INSERT INTO t VALUES (1)", [])?;
//!     Err(Error::msg("changed my mind"))               // ROLLBACK
//! };
//! assert!(failed.is_err());
//!
//! scope! {
//!     let tx = with!(Transaction::immediate(&conn))?;  // BEGIN IMMEDIATE
//!     tx.execute("INSERT INTO t VALUES (2)", [])?;
//!     Ok::<_, Error>(())                               // COMMIT, its error returned
//! }?;
//!
//! let rows: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
//! assert_eq!(rows, 1);
//! # Ok::<(), Error>(())
//! ```
//!
//! The manager works in sync scopes and, as a sync manager, in async ones:
//! there a cancelled scope runs its exit in place with
//! [`Outcome::Cancelled`], which rolls back.

use core::ops::Deref;
use core::sync::atomic::{AtomicU64, Ordering};
use std::format;
use std::string::String;

use ::rusqlite::{Connection, Error};

use crate::{Manage, Outcome, ReportKind};

/// How an outermost [`Transaction`] begins: SQLite's `BEGIN DEFERRED`,
/// `BEGIN IMMEDIATE` or `BEGIN EXCLUSIVE`. A nested transaction is a
/// savepoint, which has no such choice: the behavior is then not used.
///
/// ```
/// use managed::rusqlite::{Behavior, Transaction};
///
/// let conn = rusqlite::Connection::open_in_memory()?;
/// let tx = Transaction::with_behavior(&conn, Behavior::Exclusive);
/// assert_eq!(tx.behavior(), Behavior::Exclusive);
/// assert_eq!(Behavior::default(), Behavior::Deferred);
/// # Ok::<(), rusqlite::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Behavior {
    /// `BEGIN DEFERRED` (SQLite's default): no lock until the database is
    /// first read or written.
    #[default]
    Deferred,
    /// `BEGIN IMMEDIATE`: takes the write lock now, so a later write cannot
    /// fail with `SQLITE_BUSY` halfway through the block.
    Immediate,
    /// `BEGIN EXCLUSIVE`: takes the write lock now and, outside WAL mode,
    /// keeps other connections from reading.
    Exclusive,
}

impl Behavior {
    fn begin(self) -> &'static str {
        match self {
            Behavior::Deferred => "BEGIN DEFERRED",
            Behavior::Immediate => "BEGIN IMMEDIATE",
            Behavior::Exclusive => "BEGIN EXCLUSIVE",
        }
    }
}

/// A transaction on a rusqlite connection, as a [`Manage`]r.
///
/// - **enter**: `BEGIN` ([`Behavior`]) when the connection is in autocommit
///   mode; when it is already inside a transaction (an outer `Transaction`,
///   or one begun by hand), a `SAVEPOINT` with a name of its own instead.
/// - **exit**, when the block succeeded: `COMMIT` (or `RELEASE` the
///   savepoint), and its error is returned. A `COMMIT` that fails and leaves
///   the transaction open (`SQLITE_BUSY`) is rolled back, so the connection
///   is never left inside a transaction.
/// - **exit**, on an error, a panic or a cancellation: `ROLLBACK` (or
///   `ROLLBACK TO` and `RELEASE` the savepoint). When SQLite already rolled
///   the whole transaction back by itself (after `SQLITE_FULL`, an I/O
///   error, a `RAISE(ROLLBACK)` trigger), there is nothing left to undo and
///   the exit succeeds.
///
/// The target is the connection handle `C` the manager was given: anything
/// that derefs to a [`Connection`] (`&Connection`, `&mut Connection`, a
/// `MutexGuard<Connection>`, a pooled connection). `&mut Connection` keeps
/// the rest of the code off the connection while the transaction is open
/// and makes the manager `Send`, so an async scope over it can be spawned;
/// `&Connection` lets other managers share it (an audit row written next to
/// the transaction).
///
/// A second error on a failing exit (the `ROLLBACK` after a failed `COMMIT`
/// also fails) cannot be returned next to the first: it goes to the
/// [error hook](crate::set_error_hook) as
/// [`ReportKind::SuppressedNotAttached`].
///
/// ```
/// use managed::rusqlite::Transaction;
/// use managed::{scope, with, Error};
///
/// let mut conn = rusqlite::Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE t (x INTEGER)")?;
/// scope! {
///     let tx = with!(Transaction::new(&mut conn))?;    // the target is `&mut Connection`
///     tx.execute("INSERT INTO t VALUES (1)", [])?;
///     let inner: Result<(), Error> = scope! {
///         let sp = with!(Transaction::new(&mut **tx))?;  // nested: a savepoint
///         sp.execute("INSERT INTO t VALUES (2)", [])?;
///         Err(Error::msg("undo the inner part only"))    // ROLLBACK TO the savepoint
///     };
///     assert!(inner.is_err());
///     Ok::<_, Error>(())
/// }?;                                                     // COMMIT: only 1 is kept
/// let kept: Vec<i64> = conn.prepare("SELECT x FROM t")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
/// assert_eq!(kept, [1]);
/// # Ok::<(), Error>(())
/// ```
#[must_use = "a transaction does nothing until entered with `with!` (or `Guard::new`)"]
pub struct Transaction<C> {
    conn: C,
    behavior: Behavior,
    /// The savepoint's name when the transaction was entered nested.
    savepoint: Option<String>,
}

impl<C: Deref<Target = Connection>> Transaction<C> {
    /// A transaction begun with `BEGIN DEFERRED` (SQLite's default).
    ///
    /// ```
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// let tx = managed::rusqlite::Transaction::new(&conn);
    /// assert_eq!(tx.behavior(), managed::rusqlite::Behavior::Deferred);
    /// # Ok::<(), rusqlite::Error>(())
    /// ```
    pub fn new(conn: C) -> Self {
        Self::with_behavior(conn, Behavior::Deferred)
    }

    /// A transaction begun with `BEGIN IMMEDIATE`: the write lock is taken
    /// when entered, so a write in the block cannot fail with
    /// `SQLITE_BUSY` halfway through.
    ///
    /// ```
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// let tx = managed::rusqlite::Transaction::immediate(&conn);
    /// assert_eq!(tx.behavior(), managed::rusqlite::Behavior::Immediate);
    /// # Ok::<(), rusqlite::Error>(())
    /// ```
    pub fn immediate(conn: C) -> Self {
        Self::with_behavior(conn, Behavior::Immediate)
    }

    /// A transaction begun with `BEGIN EXCLUSIVE`.
    ///
    /// ```
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// let tx = managed::rusqlite::Transaction::exclusive(&conn);
    /// assert_eq!(tx.behavior(), managed::rusqlite::Behavior::Exclusive);
    /// # Ok::<(), rusqlite::Error>(())
    /// ```
    pub fn exclusive(conn: C) -> Self {
        Self::with_behavior(conn, Behavior::Exclusive)
    }

    /// A transaction begun with the given [`Behavior`] (used only when it
    /// is the outermost one; nested, it is a savepoint).
    ///
    /// ```
    /// use managed::rusqlite::{Behavior, Transaction};
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// let tx = Transaction::with_behavior(&conn, Behavior::Immediate);
    /// assert_eq!(tx.behavior(), Behavior::Immediate);
    /// # Ok::<(), rusqlite::Error>(())
    /// ```
    pub fn with_behavior(conn: C, behavior: Behavior) -> Self {
        Transaction { conn, behavior, savepoint: None }
    }

    /// How the transaction begins when it is the outermost one.
    pub fn behavior(&self) -> Behavior {
        self.behavior
    }

    /// The connection the transaction runs on (also reachable through the
    /// target, the handle, once entered).
    ///
    /// ```
    /// let conn = rusqlite::Connection::open_in_memory()?;
    /// let tx = managed::rusqlite::Transaction::new(&conn);
    /// assert!(tx.connection().is_autocommit()); // not entered yet
    /// # Ok::<(), rusqlite::Error>(())
    /// ```
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl<C: Deref<Target = Connection>> Manage for Transaction<C> {
    type Target = C;
    type Error = Error;

    fn enter(&mut self) -> Result<&mut C, Error> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch(self.behavior.begin())?;
        } else {
            let name = savepoint_name();
            self.conn.execute_batch(&format!("SAVEPOINT {name}"))?;
            self.savepoint = Some(name);
        }
        Ok(&mut self.conn)
    }

    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        let conn: &Connection = &self.conn;
        match (&self.savepoint, outcome.is_ok()) {
            (None, true) => commit(conn),
            (None, false) => rollback(conn),
            (Some(name), true) => release(conn, name),
            (Some(name), false) => rollback_to(conn, name),
        }
    }
}

/// A name no other savepoint of this process has, so that a nested
/// transaction never releases a savepoint the user made with the same name.
fn savepoint_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("managed_savepoint_{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn commit(conn: &Connection) -> Result<(), Error> {
    conn.execute_batch("COMMIT").inspect_err(|_| {
        // `SQLITE_BUSY` on COMMIT leaves the transaction open: end it, so
        // the connection is not left inside a transaction nobody will end.
        if !conn.is_autocommit() {
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                crate::report(ReportKind::SuppressedNotAttached, &e);
            }
        }
    })
}

fn rollback(conn: &Connection) -> Result<(), Error> {
    if conn.is_autocommit() {
        // SQLite rolled the transaction back by itself.
        return Ok(());
    }
    conn.execute_batch("ROLLBACK")
}

fn release(conn: &Connection, name: &str) -> Result<(), Error> {
    conn.execute_batch(&format!("RELEASE {name}")).inspect_err(|_| {
        if let Err(e) = rollback_to(conn, name) {
            crate::report(ReportKind::SuppressedNotAttached, &e);
        }
    })
}

fn rollback_to(conn: &Connection, name: &str) -> Result<(), Error> {
    if conn.is_autocommit() {
        // The whole transaction is gone (SQLite rolled it back): the outer
        // transaction's exit sees it.
        return Ok(());
    }
    conn.execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))
}
