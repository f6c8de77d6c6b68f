//! The cancelled-connection check for SQLite.

use ::sqlx::sqlite::SqliteConnection;
use ::sqlx::{Connection, Executor, Sqlite};

use super::{sealed, unclean, Driver};

impl sealed::Sealed for Sqlite {}

impl Driver for Sqlite {
    async fn make_clean(conn: &mut SqliteConnection) -> Result<(), ::sqlx::Error> {
        // sqlx's worker runs a connection's commands in order: once the ping
        // is answered, what the block left in flight and the rollback sqlx
        // queued have run. That rollback reports to no one; sqlx's count of
        // open transactions drops only when it succeeded.
        conn.ping().await?;
        if conn.is_in_transaction() {
            return Err(unclean("the rollback sqlx queued failed"));
        }
        // SQLite's view: a transaction begun with plain SQL is unknown to sqlx.
        if in_transaction(conn).await? {
            Executor::execute(&mut *conn, "ROLLBACK").await?;
            if in_transaction(conn).await? {
                return Err(unclean("it is still inside a transaction after ROLLBACK"));
            }
        }
        Ok(())
    }
}

/// Whether SQLite's connection is inside a transaction (not in autocommit
/// mode), asked with the connection locked away from sqlx's worker.
async fn in_transaction(conn: &mut SqliteConnection) -> Result<bool, ::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: `raw` is the open database handle of `conn`; the lock keeps
    // sqlx's worker thread off it (and the connection open) until `handle`
    // is dropped, after this call. `sqlite3_get_autocommit` only reads the
    // handle's autocommit flag.
    let autocommit = unsafe { libsqlite3_sys::sqlite3_get_autocommit(raw.as_ptr()) };
    Ok(autocommit == 0)
}
