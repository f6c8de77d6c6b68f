//! tokio-postgres with deadpool-postgres (feature `postgres`): [`Pooled`], a
//! connection checked out of a pool, and [`Transaction`], a transaction on
//! a client, both async managers whose cancelled path makes the connection
//! safe before anyone can reuse it.
//!
//! ```no_run
//! use managed::postgres::{Pooled, Transaction};
//! use managed::{scope, with, Error};
//!
//! # async fn run(pool: deadpool_postgres::Pool) -> Result<(), Error> {
//! let inserted = scope!(async {
//!     let conn = with!(Pooled::new(&pool))?;         // checked out, awaited
//!     let tx = with!(Transaction::on(conn))?;         // BEGIN
//!     tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
//!     tx.execute("INSERT INTO t VALUES (2)", &[]).await?;
//!     Ok::<_, Error>(2)
//! })                                                  // COMMIT on Ok, ROLLBACK otherwise, awaited;
//! .await?;                                            // then the connection goes back to the pool
//! # Ok(()) }
//! ```
//!
//! What each ending of the scope does:
//!
//! | the block | [`Transaction`] | [`Pooled`] |
//! | --- | --- | --- |
//! | returned `Ok` | `COMMIT`, awaited, its error returned | gives the connection back |
//! | returned `Err`, panicked | `ROLLBACK`, awaited | gives the connection back |
//! | was cancelled (its future dropped) | hands a `ROLLBACK` to the connection without waiting | spawns a task that awaits a `ROLLBACK` (after whatever the block left in flight), then gives the connection back; closes it instead when that fails, when the task is dropped unfinished, or when there is no runtime to spawn on |
//!
//! A `ROLLBACK` handed to a tokio-postgres connection is sent before
//! anything sent on that connection later, so the transaction is over
//! before the connection can serve anyone else; the pooled manager's
//! awaited `ROLLBACK` is what makes sure of it (and reports through the
//! [error hook](crate::set_error_hook) when it fails). A transaction whose
//! `COMMIT` was in flight when the scope was cancelled may or may not have
//! been committed, as with any connection lost during a commit: all or
//! nothing, never half. Scopes over these managers are `Send` futures: they
//! can be spawned on tokio.
//!
//! `examples/async_pool.rs` runs them against a real server.

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::{Context, Waker};
use std::borrow::Cow;
use std::format;
use std::string::String;

use deadpool_postgres::{Object, Pool, PoolError};
use tokio_postgres::Client;

use crate::{Outcome, SendAsyncManage};

/// A connection checked out of a deadpool-postgres [`Pool`] for the
/// duration of a scope. The target is the pooled client ([`Object`], which
/// derefs to [`tokio_postgres::Client`]).
///
/// - **enter**: `pool.get()`, awaited (its [`PoolError`] returned).
/// - **exit**, when the scope finished (`Ok`, `Err`, panic): gives the
///   connection back to the pool. The block's own cleanup (a
///   [`Transaction`]'s `COMMIT` or `ROLLBACK`) was awaited already.
/// - **cancelled**: the block may have left a transaction open and
///   statements in flight. On a tokio runtime, a task
///   ([`spawn_cancelled_exit`](crate::tokio::spawn_cancelled_exit)) awaits a
///   `ROLLBACK` (sent after what is in flight) and gives the connection back
///   only when it succeeded; otherwise the connection is closed instead, and
///   the failure goes to the error hook. Without a runtime the connection is
///   closed at once (the server then aborts its transaction). Either way no
///   one can check out a connection that is still inside the cancelled
///   transaction.
///
/// ```no_run
/// use managed::postgres::Pooled;
/// use managed::{scope, with, Error};
///
/// # async fn run(pool: deadpool_postgres::Pool) -> Result<(), Error> {
/// let n: i64 = scope!(async {
///     let conn = with!(Pooled::new(&pool))?;
///     Ok::<_, Error>(conn.query_one("SELECT 1::bigint", &[]).await?.get(0))
/// })
/// .await?;
/// # Ok(()) }
/// ```
#[must_use = "a pooled connection is checked out only when entered with `with!`"]
pub struct Pooled {
    pool: Pool,
    conn: Option<Object>,
}

impl Pooled {
    /// A manager that checks a connection out of `pool` when entered (it
    /// keeps a handle of the pool, an `Arc`).
    pub fn new(pool: &Pool) -> Self {
        Pooled { pool: pool.clone(), conn: None }
    }
}

impl SendAsyncManage for Pooled {
    type Target = Object;
    type Error = PoolError;

    async fn enter(&mut self) -> Result<&mut Object, PoolError> {
        let conn = self.pool.get().await?;
        Ok(self.conn.insert(conn))
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), PoolError> {
        let Some(conn) = self.conn else { return Ok(()) };
        if !outcome.is_cancelled() {
            drop(conn);
            return Ok(());
        }
        // Closed, not returned, unless the ROLLBACK below finished: also
        // when this future is dropped half way (the runtime shutting down).
        let conn = CloseUnlessReturned(Some(conn));
        if let Some(client) = conn.0.as_ref() {
            client.batch_execute("ROLLBACK").await.map_err(PoolError::Backend)?;
        }
        conn.give_back();
        Ok(())
    }

    fn exit_cancelled(self) {
        if ::tokio::runtime::Handle::try_current().is_ok() {
            crate::tokio::spawn_cancelled_exit(self);
        } else {
            drop(CloseUnlessReturned(self.conn));
        }
    }
}

/// Holds a pooled connection that must not go back to the pool unless
/// [`give_back`](Self::give_back) is called: dropped, it detaches the
/// connection from the pool and closes it.
struct CloseUnlessReturned(Option<Object>);

impl CloseUnlessReturned {
    fn give_back(mut self) {
        drop(self.0.take());
    }
}

impl Drop for CloseUnlessReturned {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            // Dropping the detached client ends its connection task.
            drop(Object::take(conn));
        }
    }
}

/// A transaction on a tokio-postgres [`Client`] (a pooled [`Object`]
/// derefs to one). The target is the client.
///
/// - **enter**: `BEGIN` (or the statement given to
///   [`begin_with`](Self::begin_with)); [`savepoint`](Self::savepoint) makes
///   a nested one, a `SAVEPOINT`.
/// - **exit**: `COMMIT` (`RELEASE SAVEPOINT`) when the block succeeded,
///   `ROLLBACK` (`ROLLBACK TO SAVEPOINT` and `RELEASE SAVEPOINT`) on an error
///   or a panic, awaited, the error returned.
/// - **cancelled** (also while `BEGIN` is in flight, once it was sent):
///   hands the `ROLLBACK` to the connection without waiting for the answer
///   (tokio-postgres sends a request when it is first polled, before
///   anything sent later on the same connection). Under a [`Pooled`], the
///   pooled manager then awaits a `ROLLBACK` of its own before the
///   connection can be reused.
///
/// `PostgreSQL` treats a `BEGIN` inside a transaction as a warning, not an
/// error: nest with [`savepoint`](Self::savepoint), not with
/// [`on`](Self::on).
///
/// ```no_run
/// use managed::postgres::{Pooled, Transaction};
/// use managed::{scope, with, Error};
///
/// # async fn run(pool: deadpool_postgres::Pool) -> Result<(), Error> {
/// scope!(async {
///     let conn = with!(Pooled::new(&pool))?;
///     let tx = with!(Transaction::begin_with(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE"))?;
///     tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
///     let undone: Result<(), Error> = scope!(async {
///         let sp = with!(Transaction::savepoint(tx))?;  // nested: a savepoint
///         sp.execute("INSERT INTO t VALUES (2)", &[]).await?;
///         Err(Error::msg("undo the inner part only"))    // ROLLBACK TO SAVEPOINT
///     })
///     .await;
///     Ok::<_, Error>(())
/// })
/// .await?;                                               // COMMIT: only 1 is kept
/// # Ok(()) }
/// ```
#[must_use = "a transaction does nothing until entered with `with!`"]
pub struct Transaction<'c> {
    client: &'c mut Client,
    kind: Kind,
}

enum Kind {
    Top { begin: Cow<'static, str> },
    Savepoint { name: String },
}

impl Kind {
    fn begin(&self) -> Cow<'_, str> {
        match self {
            Kind::Top { begin } => Cow::Borrowed(begin),
            Kind::Savepoint { name } => Cow::Owned(format!("SAVEPOINT {name}")),
        }
    }

    fn end(&self, ok: bool) -> Cow<'_, str> {
        match (self, ok) {
            (Kind::Top { .. }, true) => Cow::Borrowed("COMMIT"),
            (Kind::Top { .. }, false) => Cow::Borrowed("ROLLBACK"),
            (Kind::Savepoint { name }, true) => Cow::Owned(format!("RELEASE SAVEPOINT {name}")),
            (Kind::Savepoint { name }, false) => {
                Cow::Owned(format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"))
            }
        }
    }
}

impl<'c> Transaction<'c> {
    /// A transaction on `client`, begun with `BEGIN` when entered.
    pub fn on(client: &'c mut Client) -> Self {
        Self::begin_with(client, "BEGIN")
    }

    /// A transaction begun with `statement`, e.g.
    /// `"BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"`.
    pub fn begin_with(client: &'c mut Client, statement: impl Into<Cow<'static, str>>) -> Self {
        Transaction { client, kind: Kind::Top { begin: statement.into() } }
    }

    /// A savepoint inside the transaction `client` is in (the target of an
    /// outer `Transaction`), with a name of its own: on an error, a panic or
    /// a cancellation only what was done since the savepoint is undone.
    pub fn savepoint(client: &'c mut Client) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("managed_savepoint_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        Transaction { client, kind: Kind::Savepoint { name } }
    }
}

impl SendAsyncManage for Transaction<'_> {
    type Target = Client;
    type Error = tokio_postgres::Error;

    async fn enter(&mut self) -> Result<&mut Client, tokio_postgres::Error> {
        {
            let client: &Client = self.client;
            let statement = self.kind.begin();
            // Cancelled once the BEGIN was sent, this manager is not entered
            // and gets no exit, but the server may open the transaction
            // anyway: the guard hands the undo to the connection behind it.
            let mut in_flight = UndoOnDrop { client, undo: None };
            let mut begun = pin!(client.batch_execute(&statement));
            poll_fn(|cx| {
                let polled = begun.as_mut().poll(cx);
                if polled.is_pending() && in_flight.undo.is_none() {
                    in_flight.undo = Some(self.kind.end(false));
                }
                polled
            })
            .await?;
            in_flight.undo = None;
        }
        Ok(self.client)
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), tokio_postgres::Error> {
        self.client.batch_execute(&self.kind.end(outcome.is_ok())).await
    }

    fn exit_cancelled(self) {
        send_without_waiting(self.client, &self.kind.end(false));
    }
}

/// Hands `statement` to the connection task without waiting for the
/// answer: one poll, since tokio-postgres sends a request when it is first
/// polled. Only an immediate failure is seen here: the connection is closed,
/// and the server aborted the transaction already.
fn send_without_waiting(client: &Client, statement: &str) {
    let request = pin!(client.batch_execute(statement));
    let _ = request.poll(&mut Context::from_waker(Waker::noop()));
}

/// Sends `undo` without waiting when dropped, unless it was taken.
struct UndoOnDrop<'a> {
    client: &'a Client,
    undo: Option<Cow<'a, str>>,
}

impl Drop for UndoOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(undo) = self.undo.take() {
            send_without_waiting(self.client, &undo);
        }
    }
}
