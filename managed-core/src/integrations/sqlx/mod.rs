//! sqlx (features `sqlx-postgres` and `sqlx-sqlite`): [`Pooled`], a
//! connection checked out of a [`sqlx::Pool`], and [`Transaction`], a sqlx
//! transaction whose end is awaited on every finished path.
//!
//! sqlx's own [`sqlx::Transaction`] must be committed by hand; on every
//! other path (a `?`, a panic, a dropped future) its `Drop` queues a
//! rollback that runs when the connection is next used, and whose result no
//! one sees. The managers here give it the shape of a scope:
//!
//! | the block | [`Transaction`] | [`Pooled`] |
//! | --- | --- | --- |
//! | returned `Ok` | `COMMIT` (`RELEASE SAVEPOINT` when nested), awaited, its error returned | gives the connection back |
//! | returned `Err`, panicked | `ROLLBACK` (`ROLLBACK TO SAVEPOINT`), awaited, its error returned | gives the connection back |
//! | was cancelled | sqlx's queued rollback | a spawned task finishes what the block left in flight, checks that the connection is outside any transaction (rolling back one begun behind sqlx's back), and only then gives it back; otherwise it closes the connection and reports why |
//!
// The examples run on SQLite (in memory): without `sqlx-sqlite` they are
// shown as text, not compiled.
#![cfg_attr(feature = "sqlx-sqlite", doc = "```")]
#![cfg_attr(not(feature = "sqlx-sqlite"), doc = "```text")]
//! use managed::sqlx::{Pooled, Transaction};
//! use managed::{scope, with, Error};
//! use sqlx::sqlite::SqlitePoolOptions;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
//! sqlx::query("CREATE TABLE t (x INTEGER)").execute(&pool).await?;
//!
//! let failed: Result<(), Error> = scope!(async {
//!     let conn = with!(Pooled::new(&pool))?;          // acquired, awaited
//!     let tx = with!(Transaction::on(conn))?;          // BEGIN
//!     sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await?;
//!     Err(Error::msg("changed my mind"))               // ROLLBACK, awaited
//! })
//! .await;
//! assert!(failed.is_err());
//!
//! scope!(async {
//!     let conn = with!(Pooled::new(&pool))?;
//!     let tx = with!(Transaction::on(conn))?;
//!     sqlx::query("INSERT INTO t VALUES (2)").execute(&mut *tx).await?;
//!     Ok::<_, Error>(())                               // COMMIT, awaited, its error returned
//! })
//! .await?;
//!
//! let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&pool).await?;
//! assert_eq!(rows, 1);
//! # Ok::<(), Error>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The drivers are PostgreSQL (`sqlx-postgres`) and SQLite (`sqlx-sqlite`,
//! which builds SQLite from source, as sqlx's `sqlite` feature does, and
//! links the same `libsqlite3-sys` as rusqlite 0.32). Scopes over these
//! managers are `Send` futures: they can be spawned on tokio.

use core::future::Future;
use std::borrow::Cow;
use std::format;
use std::string::String;

use ::sqlx::pool::PoolConnection;
use ::sqlx::{Connection, Pool};

use crate::{Outcome, ReportKind, SendAsyncManage};

#[cfg(feature = "sqlx-postgres")]
mod postgres;
#[cfg(feature = "sqlx-sqlite")]
mod sqlite;

mod sealed {
    pub trait Sealed {}
}

/// A sqlx database whose connections [`Pooled`] knows how to make clean
/// after a cancelled scope: [`sqlx::Postgres`] (feature `sqlx-postgres`) and
/// [`sqlx::Sqlite`] (feature `sqlx-sqlite`). Sealed: the check is specific
/// to each database.
pub trait Driver: ::sqlx::Database + sealed::Sealed {
    /// Finishes what a cancelled scope left in flight on `conn` (and the
    /// rollback sqlx queued), then makes sure the connection is outside any
    /// transaction, rolling back one that sqlx does not know of. `Err` when
    /// it cannot: the connection must then not be reused.
    #[doc(hidden)]
    fn make_clean(conn: &mut Self::Connection) -> impl Future<Output = Result<(), ::sqlx::Error>> + Send + '_;
}

/// The error of a connection left in a state that cannot be made clean.
fn unclean(what: &str) -> ::sqlx::Error {
    ::sqlx::Error::Protocol(format!("after a cancelled scope, {what}: the connection is closed instead of reused"))
}

/// A connection checked out of a [`sqlx::Pool`] for the duration of a
/// scope. The target is the connection (`&mut PgConnection`,
/// `&mut SqliteConnection`): pass `&mut *conn` to sqlx's queries.
///
/// - **enter**: `pool.acquire()`, awaited (its error returned).
/// - **exit**, when the scope finished (`Ok`, `Err`, panic): gives the
///   connection back to the pool (sqlx tests it there).
/// - **cancelled**: on a tokio runtime, a task
///   ([`spawn_cancelled_exit`](crate::tokio::spawn_cancelled_exit)) waits
///   for what the block left in flight and for the rollback sqlx queued,
///   checks with the database that the connection is outside any
///   transaction (rolling back one begun with plain SQL, which sqlx does not
///   track), and gives it back only then. When that fails, or the task is
///   dropped unfinished, the connection is detached from the pool and
///   closed, and the failure goes to the [error hook](crate::set_error_hook).
///   Without a runtime the connection is closed at once.
///
#[cfg_attr(feature = "sqlx-sqlite", doc = "```")]
#[cfg_attr(not(feature = "sqlx-sqlite"), doc = "```text")]
/// use managed::sqlx::Pooled;
/// use managed::{scope, with, Error};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let one: i64 = scope!(async {
///     let conn = with!(Pooled::new(&pool))?;
///     Ok::<_, Error>(sqlx::query_scalar("SELECT 1").fetch_one(&mut *conn).await?)
/// })
/// .await?;
/// assert_eq!(one, 1);
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a pooled connection is acquired only when entered with `with!`"]
pub struct Pooled<DB: Driver> {
    pool: Pool<DB>,
    conn: Option<PoolConnection<DB>>,
}

impl<DB: Driver> Pooled<DB> {
    /// A manager that acquires a connection from `pool` when entered (it
    /// keeps a handle of the pool, an `Arc`).
    pub fn new(pool: &Pool<DB>) -> Self {
        Pooled { pool: pool.clone(), conn: None }
    }
}

impl<DB: Driver> SendAsyncManage for Pooled<DB> {
    type Target = DB::Connection;
    type Error = ::sqlx::Error;

    async fn enter(&mut self) -> Result<&mut DB::Connection, ::sqlx::Error> {
        let conn = self.pool.acquire().await?;
        Ok(&mut **self.conn.insert(conn))
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), ::sqlx::Error> {
        let Some(conn) = self.conn else { return Ok(()) };
        if !outcome.is_cancelled() {
            drop(conn);
            return Ok(());
        }
        // Closed, not given back, unless the check below passed: also when
        // this future is dropped half way (the runtime shutting down).
        let mut conn = CloseUnlessClean(Some(conn));
        if let Some(raw) = conn.0.as_mut() {
            DB::make_clean(raw).await?;
        }
        conn.give_back();
        Ok(())
    }

    fn exit_cancelled(self) {
        if ::tokio::runtime::Handle::try_current().is_ok() {
            crate::tokio::spawn_cancelled_exit(self);
        } else {
            // sqlx may spawn (to replace the connection) and panics where
            // there is no runtime: catch it, this runs in a destructor.
            let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(CloseUnlessClean(self.conn))));
            if let Err(panic) = closed {
                crate::report(ReportKind::Cancelled, &panic);
            }
        }
    }
}

/// Holds a pooled connection that goes back to the pool only through
/// [`give_back`](Self::give_back): dropped, it detaches the connection from
/// the pool and drops it, which closes it (the server ends its
/// transaction).
struct CloseUnlessClean<DB: ::sqlx::Database>(Option<PoolConnection<DB>>);

impl<DB: ::sqlx::Database> CloseUnlessClean<DB> {
    fn give_back(mut self) {
        drop(self.0.take());
    }
}

impl<DB: ::sqlx::Database> Drop for CloseUnlessClean<DB> {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

/// A sqlx transaction on a connection `C` (`PgConnection`,
/// `SqliteConnection`: the target of a [`Pooled`], or any connection of
/// yours). The target is the connection: pass `&mut *tx` to sqlx's
/// queries.
///
/// - **enter**: `BEGIN` (sqlx's [`Connection::begin`], or
///   [`begin_with`](Self::begin_with)'s statement); on a connection that is
///   already inside a transaction, sqlx makes it a `SAVEPOINT`, so a
///   `Transaction::on(&mut *tx)` inside another one nests.
/// - **exit**: `COMMIT` when the block succeeded, `ROLLBACK` on an error or
///   a panic (`RELEASE` / `ROLLBACK TO` the savepoint when nested), awaited,
///   the error returned.
/// - **cancelled**: the transaction is dropped, which queues sqlx's
///   rollback on the connection; a [`Pooled`] underneath awaits it and
///   checks the result before the connection can be reused. On a connection
///   that is not pooled, the queued rollback runs when the connection is
///   next used.
///
#[cfg_attr(feature = "sqlx-sqlite", doc = "```")]
#[cfg_attr(not(feature = "sqlx-sqlite"), doc = "```text")]
/// use managed::sqlx::{Pooled, Transaction};
/// use managed::{scope, with, Error};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// sqlx::query("CREATE TABLE t (x INTEGER)").execute(&pool).await?;
/// scope!(async {
///     let conn = with!(Pooled::new(&pool))?;
///     let tx = with!(Transaction::begin_with(conn, "BEGIN IMMEDIATE"))?;
///     sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await?;
///     let inner: Result<(), Error> = scope!(async {
///         let sp = with!(Transaction::on(&mut *tx))?;   // nested: a savepoint
///         sqlx::query("INSERT INTO t VALUES (2)").execute(&mut *sp).await?;
///         Err(Error::msg("undo the inner part only"))
///     })
///     .await;
///     assert!(inner.is_err());
///     Ok::<_, Error>(())
/// })
/// .await?;
/// let rows: Vec<i64> = sqlx::query_scalar("SELECT x FROM t").fetch_all(&pool).await?;
/// assert_eq!(rows, [1]);
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a transaction does nothing until entered with `with!`"]
pub struct Transaction<'c, C: Connection> {
    state: State<'c, C>,
}

enum State<'c, C: Connection> {
    Ready {
        conn: &'c mut C,
        begin: Option<Cow<'static, str>>,
    },
    Open(::sqlx::Transaction<'c, C::Database>),
    /// The `BEGIN` was started (and, if the manager is still here, failed).
    Used,
}

impl<'c, C: Connection> Transaction<'c, C> {
    /// A transaction on `conn`: `BEGIN`, or a savepoint when `conn` is
    /// already inside a transaction.
    pub fn on(conn: &'c mut C) -> Self {
        Transaction { state: State::Ready { conn, begin: None } }
    }

    /// A transaction begun with `statement`, e.g. `"BEGIN ISOLATION LEVEL
    /// SERIALIZABLE"` (PostgreSQL) or `"BEGIN IMMEDIATE"` (SQLite). sqlx
    /// refuses it (the enter fails) on a connection already inside a
    /// transaction.
    pub fn begin_with(conn: &'c mut C, statement: impl Into<Cow<'static, str>>) -> Self {
        Transaction { state: State::Ready { conn, begin: Some(statement.into()) } }
    }
}

impl<C: Connection> SendAsyncManage for Transaction<'_, C> {
    type Target = <C::Database as ::sqlx::Database>::Connection;
    type Error = ::sqlx::Error;

    async fn enter(&mut self) -> Result<&mut Self::Target, ::sqlx::Error> {
        let State::Ready { conn, begin } = core::mem::replace(&mut self.state, State::Used) else {
            return Err(::sqlx::Error::Protocol(String::from("the transaction was entered twice")));
        };
        let tx = match begin {
            None => conn.begin().await?,
            Some(statement) => conn.begin_with(statement).await?,
        };
        self.state = State::Open(tx);
        let State::Open(tx) = &mut self.state else {
            return Err(::sqlx::Error::Protocol(String::from("the transaction was not kept open")));
        };
        Ok(&mut **tx)
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), ::sqlx::Error> {
        match self.state {
            State::Open(tx) if outcome.is_ok() => tx.commit().await,
            State::Open(tx) => tx.rollback().await,
            State::Ready { .. } | State::Used => Ok(()),
        }
    }

    fn exit_cancelled(self) {
        // Dropping the open transaction queues sqlx's rollback.
        drop(self);
    }
}
