//! Two async managers for PostgreSQL (`tokio-postgres` + `deadpool-postgres`),
//! written as user code: how to write a manager whose cleanup survives
//! errors, panics and cancellation. Used by `examples/async_pool.rs` and
//! proved against a real server by `tests/postgres.rs`.
//!
//! - [`Pooled`]: checks a connection out of the pool (enter, awaited) and
//!   gives it back (exit). On cancellation it must not hand a connection
//!   that may be inside a transaction back to the pool: it spawns a task
//!   that awaits a `ROLLBACK` first, and outside a runtime it detaches the
//!   connection from the pool and closes it (the server then aborts the
//!   transaction).
//! - [`Transaction`]: `BEGIN` at enter; at exit `COMMIT` when the block
//!   succeeded and `ROLLBACK` on an error or panic. On cancellation it
//!   queues the `ROLLBACK` without waiting (tokio-postgres puts a request on
//!   the connection's queue when first polled, ahead of anything sent on the
//!   connection later), and the [`Pooled`] underneath it awaits one more
//!   before the connection can be reused.
#![allow(dead_code, reason = "the example and the tests use different parts")]

use deadpool_postgres::{Object, Pool};
use managed::{Outcome, SendAsyncManage};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};
use tokio_postgres::Client;

/// A connection checked out of a pool for the duration of a scope: the
/// block gets the pooled client (`&mut Object`, which derefs to
/// `tokio_postgres::Client`). Holds a handle of the pool (an `Arc`), so
/// that its cancellation cleanup can be spawned.
pub struct Pooled {
    pool: Pool,
    conn: Option<Object>,
}

impl Pooled {
    /// A manager that checks a connection out of `pool` when entered.
    pub fn new(pool: &Pool) -> Self {
        Pooled { pool: pool.clone(), conn: None }
    }
}

impl SendAsyncManage for Pooled {
    type Target = Object;
    type Error = managed::Error;

    async fn enter(&mut self) -> Result<&mut Object, managed::Error> {
        let conn = self.pool.get().await?;
        Ok(self.conn.insert(conn))
    }

    /// Gives the connection back. On the paths where the scope finished,
    /// the block's own cleanup (the transaction's `COMMIT`/`ROLLBACK`) was
    /// awaited already. After a cancellation (the spawned exit below), the
    /// block may have left a transaction open: roll it back first, and
    /// close a connection that cannot be rolled back instead of reusing it.
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), managed::Error> {
        let Some(conn) = self.conn else { return Ok(()) };
        if outcome.is_cancelled() {
            if let Err(e) = conn.batch_execute("ROLLBACK").await {
                drop(Object::take(conn));
                return Err(e.into());
            }
        }
        drop(conn);
        Ok(())
    }

    /// Cancelled: the `ROLLBACK` must be awaited before the connection is
    /// reused, so the exit is spawned (with the `tokio` feature,
    /// `managed::tokio::spawn_cancelled_exit(self)` does this and also
    /// reports a panic of the exit; written out here so that the example
    /// needs no feature). Without a runtime to spawn on, the connection is
    /// closed instead of returned: the server aborts its transaction when
    /// the connection ends.
    fn exit_cancelled(self) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = SendAsyncManage::exit(self, &Outcome::Cancelled).await {
                        managed::report(managed::ReportKind::Cancelled, &e);
                    }
                });
            }
            Err(_) => {
                if let Some(conn) = self.conn {
                    drop(Object::take(conn));
                }
            }
        }
    }
}

/// A transaction on a borrowed client: `BEGIN` at enter, `COMMIT` when the
/// block succeeds, `ROLLBACK` otherwise. The block gets the client.
pub struct Transaction<'c> {
    client: &'c mut Client,
}

impl<'c> Transaction<'c> {
    /// A transaction on `client`, begun when entered.
    pub fn on(client: &'c mut Client) -> Self {
        Transaction { client }
    }
}

impl SendAsyncManage for Transaction<'_> {
    type Target = Client;
    type Error = managed::Error;

    async fn enter(&mut self) -> Result<&mut Client, managed::Error> {
        // Cancelled while `BEGIN` is in flight, this manager is not entered
        // and gets no exit, but the server may open the transaction anyway:
        // the guard queues a `ROLLBACK` behind it.
        let in_flight = QueueRollbackOnDrop(Some(&*self.client));
        let begun = self.client.batch_execute("BEGIN").await;
        in_flight.disarm();
        begun?;
        Ok(self.client)
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), managed::Error> {
        let end = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.client.batch_execute(end).await?;
        Ok(())
    }

    /// Queues the `ROLLBACK` on the connection without waiting for the
    /// answer: the first poll of a tokio-postgres query hands it to the
    /// connection task, which sends it before anything queued later. Only
    /// an immediate failure (the connection is closed: the server aborted
    /// the transaction already) is seen here, and it needs no report.
    fn exit_cancelled(self) {
        queue_rollback(self.client);
    }
}

/// Hands a `ROLLBACK` to the connection task without waiting for the
/// answer (one poll: tokio-postgres sends a request when first polled).
fn queue_rollback(client: &Client) {
    let rollback = pin!(client.batch_execute("ROLLBACK"));
    let _ = rollback.poll(&mut Context::from_waker(Waker::noop()));
}

/// Queues a `ROLLBACK` when dropped, unless disarmed.
struct QueueRollbackOnDrop<'c>(Option<&'c Client>);

impl QueueRollbackOnDrop<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for QueueRollbackOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.0 {
            queue_rollback(client);
        }
    }
}
