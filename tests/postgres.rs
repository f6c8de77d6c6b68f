//! Async managers against a real PostgreSQL server (`DATABASE_URL`; `.ci/run`
//! starts one with `.ci/postgres.sh`): committed rows are there; the rows of
//! a failed, panicked or cancelled transaction are not; after a cancelled
//! transaction the pooled connection is clean and works.
//!
//! Outside CI, without `DATABASE_URL`, each test says on the terminal that it
//! skips, and why. In CI (`CI` set), a missing `DATABASE_URL` fails the tests.

mod common;
#[path = "../examples/support/postgres.rs"]
mod pg;

use deadpool_postgres::{Config, ManagerConfig, Pool, PoolConfig, RecyclingMethod, Runtime};
use managed::prelude::*;
use managed::Error;
use pg::{Pooled, Transaction};
use std::future::Future;
use std::time::Duration;
use tokio_postgres::NoTls;

fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            common::skip_outside_ci(
                "DATABASE_URL is not set; start a throw-away server with \
                 `eval \"$(.ci/postgres.sh start)\"` (stop it with `.ci/postgres.sh stop`)",
            );
            None
        }
    }
}

/// A pool of `size` connections whose sessions carry `app` as their
/// `application_name`, so that a test sees only its own sessions in
/// `pg_stat_activity`.
fn pool(url: &str, app: &str, size: usize) -> Pool {
    let mut cfg = Config::new();
    cfg.url = Some(url.to_string());
    cfg.application_name = Some(app.to_string());
    cfg.manager = Some(ManagerConfig { recycling_method: RecyclingMethod::Fast });
    cfg.pool = Some(PoolConfig::new(size));
    cfg.create_pool(Some(Runtime::Tokio1), NoTls).expect("a valid pool configuration")
}

async fn fresh_table(pool: &Pool, table: &str) {
    let conn = pool.get().await.expect("a connection");
    conn.batch_execute(&format!("DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int PRIMARY KEY, note text)"))
        .await
        .expect("table created");
}

async fn row_count(pool: &Pool, table: &str) -> i64 {
    let conn = pool.get().await.expect("a connection");
    conn.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.expect("count").get(0)
}

/// Sessions of this test's pool that sit inside a transaction.
async fn idle_in_transaction(pool: &Pool, app: &str) -> i64 {
    let conn = pool.get().await.expect("a connection");
    conn.query_one(
        "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND application_name = $1",
        &[&app],
    )
    .await
    .expect("pg_stat_activity")
    .get(0)
}

async fn insert(client: &tokio_postgres::Client, table: &str, id: i32) -> Result<(), Error> {
    client.execute(&format!("INSERT INTO {table} (id, note) VALUES ($1, 'x')"), &[&id]).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_rows_are_there() {
    let Some(url) = database_url() else { return };
    let (app, table) = ("managed_commit", "managed_commit");
    let pool = pool(&url, app, 2);
    fresh_table(&pool, table).await;
    let inserted: Result<u64, Error> = scope!(async {
        let conn = with!(Pooled::new(&pool))?;
        let tx = with!(Transaction::on(conn))?;
        insert(tx, table, 1).await?;
        insert(tx, table, 2).await?;
        Ok(2)
    })
    .await;
    assert_eq!(inserted.expect("committed"), 2);
    assert_eq!(row_count(&pool, table).await, 2);
    assert_eq!(idle_in_transaction(&pool, app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_transaction_is_rolled_back_and_its_error_returned() {
    let Some(url) = database_url() else { return };
    let (app, table) = ("managed_failed", "managed_failed");
    let pool = pool(&url, app, 1);
    fresh_table(&pool, table).await;
    let r: Result<(), Error> = scope!(async {
        let conn = with!(Pooled::new(&pool))?;
        let tx = with!(Transaction::on(conn))?;
        insert(tx, table, 1).await?;
        insert(tx, table, 1).await?; // duplicate key: the server refuses
        Ok(())
    })
    .await;
    let e = r.expect_err("duplicate key");
    let db = e.downcast_ref::<tokio_postgres::Error>().and_then(tokio_postgres::Error::as_db_error);
    assert_eq!(db.map(|d| d.code().code()), Some("23505"), "{e:?}");
    assert!(e.suppressed().is_empty(), "ROLLBACK succeeded: {e:#}");
    assert_eq!(row_count(&pool, table).await, 0);
    assert_eq!(idle_in_transaction(&pool, app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicked_transaction_is_rolled_back_and_the_panic_resumes() {
    let Some(url) = database_url() else { return };
    let (app, table) = ("managed_panicked", "managed_panicked");
    let pool = pool(&url, app, 1);
    fresh_table(&pool, table).await;
    let task_pool = pool.clone();
    // Spawned on the multi-thread runtime: the scope is a `Send` future.
    let joined = tokio::spawn(async move {
        scope!(async {
            let conn = with!(Pooled::new(&task_pool))?;
            let tx = with!(Transaction::on(conn))?;
            insert(tx, table, 1).await?;
            assert!(table.is_empty(), "test: the block panicked mid-transaction");
            Ok::<_, Error>(())
        })
        .await
    })
    .await;
    let payload = joined.expect_err("the task panicked").into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"test: the block panicked mid-transaction"));
    assert_eq!(row_count(&pool, table).await, 0);
    assert_eq!(idle_in_transaction(&pool, app).await, 0);
}

/// One pooled connection; a transaction inserts a row and is cancelled by
/// `tokio::time::timeout` while `stall` runs; then the same connection must
/// be clean and work.
async fn cancel_mid_transaction(app: &str, table: &str, stall: &str) {
    let Some(url) = database_url() else { return };
    let pool = pool(&url, app, 1);
    fresh_table(&pool, table).await;
    let pid_before: i32 =
        pool.get().await.expect("conn").query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);

    let cancelled = tokio::time::timeout(
        Duration::from_millis(200),
        scope!(async {
            let conn = with!(Pooled::new(&pool))?;
            let tx = with!(Transaction::on(conn))?;
            insert(tx, table, 1).await?;
            if stall == "client" {
                tokio::time::sleep(Duration::from_secs(60)).await;
            } else {
                tx.batch_execute(stall).await?;
            }
            Ok::<_, Error>(())
        }),
    )
    .await;
    assert!(cancelled.is_err(), "the timeout cancelled the scope");

    // The pool has one connection: this waits until the cancelled scope's
    // cleanup gave it back, and it is the same server session.
    let conn = pool.get().await.expect("the connection comes back");
    let pid_after: i32 = conn.query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);
    assert_eq!(pid_before, pid_after, "the same pooled connection");
    let dirty: i64 = conn
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND application_name = $1",
            &[&app],
        )
        .await
        .expect("pg_stat_activity")
        .get(0);
    assert_eq!(dirty, 0);
    let in_tx: Option<String> =
        conn.query_one("SELECT txid_current_if_assigned()::text", &[]).await.expect("txid").get(0);
    assert_eq!(in_tx, None, "no transaction left open on the session");
    drop(conn);
    assert_eq!(row_count(&pool, table).await, 0, "the cancelled transaction's row is gone");

    // The next transaction on the same connection works and commits.
    let next: Result<(), Error> = scope!(async {
        let conn = with!(Pooled::new(&pool))?;
        let tx = with!(Transaction::on(conn))?;
        insert(tx, table, 2).await?;
        Ok(())
    })
    .await;
    next.expect("the next transaction commits");
    assert_eq!(row_count(&pool, table).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_cancelled_while_the_client_waits_leaves_no_row_and_a_clean_connection() {
    cancel_mid_transaction("managed_cancel_client", "managed_cancel_client", "client").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_cancelled_mid_query_leaves_no_row_and_a_clean_connection() {
    cancel_mid_transaction("managed_cancel_query", "managed_cancel_query", "SELECT pg_sleep(0.6)").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transaction_alone_rolls_back_on_cancellation_before_the_next_statement() {
    let Some(url) = database_url() else { return };
    let table = "managed_cancel_bare";
    let pool = pool(&url, "managed_cancel_bare", 1);
    fresh_table(&pool, table).await;
    // A bare client, no pool: only the transaction's `exit_cancelled` runs.
    let (mut client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
    let driver = tokio::spawn(connection);
    let cancelled = tokio::time::timeout(
        Duration::from_millis(100),
        scope!(async {
            let tx = with!(Transaction::on(&mut client))?;
            insert(tx, table, 1).await?;
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, Error>(())
        }),
    )
    .await;
    assert!(cancelled.is_err());
    // Autocommit statement on the same session: visible to another session
    // only if the cancelled transaction was really ended by the ROLLBACK.
    insert(&client, table, 2).await.expect("insert after the rollback");
    let conn = pool.get().await.expect("another session");
    let ids: Vec<i32> = conn
        .query(&format!("SELECT id FROM {table} ORDER BY id"), &[])
        .await
        .expect("select")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [2]);
    drop(client);
    driver.await.expect("driver task").expect("connection closed cleanly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_at_every_await_point_of_a_transaction_it_is_all_or_nothing_and_the_connection_clean() {
    let Some(url) = database_url() else { return };
    let (app, table) = ("managed_cancel_each", "managed_cancel_each");
    let pool = pool(&url, app, 1);
    fresh_table(&pool, table).await;
    // Cancel the scope after its first N polls, for N = 0, 1, 2, .. until it
    // commits. Each poll after the first is a real wake-up (the scope is
    // polled with the task's waker), so every N stops it at a different
    // `.await` of the enters, the inserts or the exits.
    let mut committed_at = None;
    for polls in 0..10_000 {
        let mut scope = Box::pin(scope!(async {
            let conn = with!(Pooled::new(&pool))?;
            let tx = with!(Transaction::on(conn))?;
            insert(tx, table, 1).await?;
            insert(tx, table, 2).await?;
            Ok::<_, Error>(())
        }));
        let mut polled = 0;
        let finished = std::future::poll_fn(|cx| {
            if polled == polls {
                return std::task::Poll::Ready(None);
            }
            polled += 1;
            scope.as_mut().poll(cx).map(Some)
        })
        .await;
        drop(scope);
        let conn = pool.get().await.expect("the connection comes back");
        let rows: i64 = conn.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.expect("count").get(0);
        let in_tx: Option<String> =
            conn.query_one("SELECT txid_current_if_assigned()::text", &[]).await.expect("txid").get(0);
        assert_eq!(in_tx, None, "after {polls} polls: the session is still in a transaction");
        if let Some(r) = finished {
            r.expect("commits");
            assert_eq!(rows, 2);
            committed_at = Some(polls);
            println!("committed after {polls} polls; cancelled at each of the {polls} before");
            break;
        }
        // All or nothing: cancelled before its COMMIT was sent, nothing is
        // there; cancelled while the COMMIT was in flight (the exit had
        // started, with `Outcome::Ok`), the server may have committed.
        assert!(rows == 0 || rows == 2, "after {polls} polls: {rows} rows");
        conn.batch_execute(&format!("DELETE FROM {table}")).await.expect("reset");
    }
    assert!(committed_at.is_some_and(|n| n > 3), "{committed_at:?}");
    assert_eq!(idle_in_transaction(&pool, app).await, 0);
}
