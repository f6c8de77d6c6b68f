//! The cancelled-connection check for PostgreSQL.

use ::sqlx::postgres::PgConnection;
use ::sqlx::{Connection, Executor, Postgres, Row};

use super::{sealed, unclean, Driver};

/// At most this many statements' errors are drained from a connection whose
/// scope was cancelled before it is given up on.
const DRAIN_LIMIT: usize = 64;

impl sealed::Sealed for Postgres {}

impl Driver for Postgres {
    async fn make_clean(conn: &mut PgConnection) -> Result<(), ::sqlx::Error> {
        // Wait for what the block left in flight and for the rollback sqlx
        // queued. A statement cut short may answer with its own error: it
        // belongs to the cancelled block, so drain on.
        let mut drained = false;
        for _ in 0..DRAIN_LIMIT {
            match conn.ping().await {
                Ok(()) => {
                    drained = true;
                    break;
                }
                Err(::sqlx::Error::Database(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if !drained {
            return Err(unclean("the connection kept answering with errors"));
        }
        if conn.is_in_transaction() {
            return Err(unclean("sqlx still counts an open transaction on it"));
        }
        // The server's view: a transaction begun with plain SQL is unknown
        // to sqlx, and its queued rollback may have failed.
        if in_transaction(conn).await? {
            Executor::execute(&mut *conn, "ROLLBACK").await?;
            if in_transaction(conn).await? {
                return Err(unclean("it is still inside a transaction after ROLLBACK"));
            }
        }
        Ok(())
    }
}

/// Whether the session is inside a transaction block: the first statement
/// of a transaction has `transaction_timestamp() = statement_timestamp()`,
/// a later one does not, and in an aborted transaction the query fails with
/// `25P02`. (Without arguments sqlx sends it as one simple-protocol message: one
/// statement timestamp.)
async fn in_transaction(conn: &mut PgConnection) -> Result<bool, ::sqlx::Error> {
    match Executor::fetch_one(&mut *conn, "SELECT transaction_timestamp() <> statement_timestamp()").await {
        Ok(row) => row.try_get::<bool, _>(0),
        Err(::sqlx::Error::Database(e)) if e.code().as_deref() == Some("25P02") => Ok(true),
        Err(e) => Err(e),
    }
}
