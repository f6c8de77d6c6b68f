//! `managed::postgres::{Pooled, Transaction}` against a real PostgreSQL
//! server (`DATABASE_URL`; `.ci/run` starts one with `.ci/postgres.sh`):
//! committed rows are there; the rows of a failed, panicked or cancelled
//! transaction are not; after a cancelled transaction the pooled connection
//! is clean and works (or was closed, never reused dirty); savepoints; a
//! concurrent load with cancellations, errors and panics.
//!
//! Outside CI, without `DATABASE_URL`, each test prints why it skips. In CI
//! (`CI` set), a missing `DATABASE_URL` fails the tests.
#![cfg(all(feature = "postgres", feature = "testing"))]

mod common;
mod load;

use deadpool_postgres::{Config, ManagerConfig, Pool, PoolConfig, RecyclingMethod, Runtime};
use load::{Fate, Rng};
use managed::postgres::{Pooled, Transaction};
use managed::prelude::*;
use managed::Error;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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

/// Whether the session is inside a transaction block: the first statement
/// of a transaction has `transaction_timestamp() = statement_timestamp()`,
/// a later one does not (and one in an aborted transaction fails).
/// (Simple protocol: one message, one statement timestamp.)
async fn in_transaction(client: &tokio_postgres::Client) -> bool {
    let answer = client.simple_query("SELECT transaction_timestamp() <> statement_timestamp()").await;
    let first_row = answer.iter().flatten().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0) == Some("t")),
        _ => None,
    });
    first_row != Some(false)
}

async fn ids(pool: &Pool, table: &str) -> Vec<i32> {
    let conn = pool.get().await.expect("a connection");
    conn.query(&format!("SELECT id FROM {table} ORDER BY id"), &[])
        .await
        .expect("select")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_savepoint_is_undone_alone_and_the_transaction_commits() {
    let Some(url) = database_url() else { return };
    let (app, table) = ("managed_savepoint", "managed_savepoint");
    let pool = pool(&url, app, 1);
    fresh_table(&pool, table).await;
    scope!(async {
        let conn = with!(Pooled::new(&pool))?;
        let tx = with!(Transaction::begin_with(conn, "BEGIN ISOLATION LEVEL SERIALIZABLE"))?;
        insert(tx, table, 1).await?;
        let undone: Result<(), Error> = scope!(async {
            let sp = with!(Transaction::savepoint(tx))?;
            insert(sp, table, 2).await?;
            insert(sp, table, 1).await?; // duplicate key: the transaction is aborted until ROLLBACK TO
            Ok(())
        })
        .await;
        assert!(undone.expect_err("duplicate").suppressed().is_empty());
        let kept: Result<(), Error> = scope!(async {
            let sp = with!(Transaction::savepoint(tx))?;
            insert(sp, table, 3).await
        })
        .await;
        kept.expect("released");
        // A savepoint cancelled while the transaction goes on: its undo is
        // sent before the next statement.
        let cancelled = tokio::time::timeout(
            Duration::from_millis(100),
            scope!(async {
                let sp = with!(Transaction::savepoint(tx))?;
                insert(sp, table, 4).await?;
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, Error>(())
            }),
        )
        .await;
        assert!(cancelled.is_err());
        insert(tx, table, 5).await?;
        let level: String = tx.query_one("SHOW transaction_isolation", &[]).await?.get(0);
        assert_eq!(level, "serializable");
        Ok::<_, Error>(())
    })
    .await
    .expect("committed");
    assert_eq!(ids(&pool, table).await, [1, 3, 5]);
    assert_eq!(idle_in_transaction(&pool, app).await, 0);
}

/// A scope cancelled where no runtime is: the pooled connection cannot be
/// rolled back and awaited, so it is closed instead of given back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_outside_a_runtime_the_connection_is_closed_not_reused() {
    let Some(url) = database_url() else { return };
    let (app, table) = ("managed_cancel_no_runtime", "managed_cancel_no_runtime");
    let pool = pool(&url, app, 1);
    fresh_table(&pool, table).await;
    let pid_before: i32 =
        pool.get().await.expect("conn").query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);

    let entered = Arc::new(AtomicBool::new(false));
    let (task_pool, flag) = (pool.clone(), entered.clone());
    let mut scope = Box::pin(scope!(async move {
        let conn = with!(Pooled::new(&task_pool))?;
        let tx = with!(Transaction::on(conn))?;
        insert(tx, table, 1).await?;
        flag.store(true, Ordering::SeqCst);
        std::future::pending::<()>().await;
        Ok::<_, Error>(())
    }));
    std::future::poll_fn(|cx| {
        let _ = scope.as_mut().poll(cx);
        if entered.load(Ordering::SeqCst) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    // Dropped on a thread that is not a runtime's: nothing can be spawned.
    std::thread::spawn(move || drop(scope)).join().expect("dropped");

    let conn = pool.get().await.expect("a new connection");
    let pid_after: i32 = conn.query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);
    assert_ne!(pid_before, pid_after, "the cancelled connection was closed, not given back");
    assert!(!in_transaction(&conn).await);
    drop(conn);
    assert_eq!(row_count(&pool, table).await, 0);
}

static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record(report: &managed::Report<'_>) {
    REPORTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(format!("{:?}", report.error()));
}

/// The cancelled path is checked: when the awaited ROLLBACK fails (here the
/// server ended the session meanwhile), the failure is reported and the
/// connection is not given back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_rollback_that_fails_is_reported_and_the_connection_closed() {
    let Some(url) = database_url() else { return };
    let (app, table) = ("managed_cancel_fails", "managed_cancel_fails");
    let pool = pool(&url, app, 1);
    fresh_table(&pool, table).await;
    let pid: i32 = pool.get().await.expect("conn").query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);
    let _previous = managed::set_error_hook(record);

    let cancelled = tokio::time::timeout(
        Duration::from_millis(200),
        scope!(async {
            let conn = with!(Pooled::new(&pool))?;
            let tx = with!(Transaction::on(conn))?;
            insert(tx, table, 1).await?;
            tx.batch_execute("SELECT pg_sleep(2)").await?; // cancelled here; the server goes on sleeping
            Ok::<_, Error>(())
        }),
    )
    .await;
    assert!(cancelled.is_err());
    // Another session ends the cancelled one while its ROLLBACK waits.
    let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
    let driver = tokio::spawn(connection);
    let ended: bool = admin.query_one("SELECT pg_terminate_backend($1)", &[&pid]).await.expect("terminate").get(0);
    assert!(ended);

    let conn = pool.get().await.expect("a new connection");
    let pid_after: i32 = conn.query_one("SELECT pg_backend_pid()", &[]).await.expect("pid").get(0);
    assert_ne!(pid, pid_after, "the broken connection was not given back");
    drop(conn);
    // The task reports once its exit returned, just after it let go of the
    // connection: wait for it.
    let about_the_rollback = |r: &String| r.contains("terminat") || r.contains("closed") || r.contains("Closed");
    let mut reports = Vec::new();
    for _ in 0..500 {
        reports = REPORTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if reports.iter().any(about_the_rollback) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(reports.iter().any(about_the_rollback), "the failed ROLLBACK was reported: {reports:?}");
    assert_eq!(row_count(&pool, table).await, 0);
    drop(admin);
    driver.await.expect("driver").expect("closed cleanly");
}

const LOAD_POOL: usize = 8;
const LOAD_TASKS: i64 = 400;
const LOAD_TABLE: &str = "managed_load";

/// One transaction of the load test, inserting rows `2i` and `2i + 1`, on
/// its own task; the flag is set once its body finished.
fn spawn_load_task(pool: &Pool, table: &'static str, i: i64, fate: Fate) -> load::Task {
    let body_done = Arc::new(AtomicBool::new(false));
    let (pool, done) = (pool.clone(), body_done.clone());
    let task = tokio::spawn(async move {
        let work = scope!(async {
            let conn = with!(Pooled::new(&pool))?;
            let tx = with!(Transaction::on(conn))?;
            insert(tx, table, id(2 * i)).await?;
            tokio::task::yield_now().await;
            insert(tx, table, id(2 * i + 1)).await?;
            match fate {
                Fate::FailThroughQuestionMark => insert(tx, table, id(2 * i)).await?,
                Fate::ReturnErr => return Err(Error::msg("returned")),
                Fate::Panic => panic!("test: panicked under load"),
                Fate::Commit | Fate::CancelAfterMicros(_) | Fate::CancelAfterPolls(_) => {}
            }
            done.store(true, Ordering::SeqCst);
            Ok::<_, Error>(())
        });
        match fate {
            Fate::CancelAfterMicros(us) => tokio::time::timeout(Duration::from_micros(us), work).await.ok(),
            Fate::CancelAfterPolls(polls) => managed::testing::cancel_after(work, polls).await,
            _ => Some(work.await),
        }
    });
    (i, fate, body_done, task)
}

/// The table's ids are `int`: the load's stay far below its range.
fn id(n: i64) -> i32 {
    i32::try_from(n).expect("a small id")
}

/// Hundreds of tasks on a small pool, a share of them cancelled at random
/// (waiting for a connection, at BEGIN, mid-INSERT, during COMMIT), some
/// returning `Err`, some panicking. Afterwards: the rows are exactly those
/// of the transactions that returned `Ok` (a transaction cancelled after
/// its body finished, while COMMIT was in flight, may have committed, but
/// all or nothing), no session is idle in a transaction, and every pooled
/// connection is clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_concurrent_load_rows_match_the_committed_transactions_and_every_connection_is_clean() {
    let Some(url) = database_url() else { return };
    common::quiet_panics();
    let (app, table) = ("managed_load", LOAD_TABLE);
    let pool = pool(&url, app, LOAD_POOL);
    fresh_table(&pool, table).await;
    let mut rng = Rng::seeded();

    let mut tasks = Vec::new();
    for i in 0..LOAD_TASKS {
        let fate = Fate::draw(&mut rng);
        tasks.push(spawn_load_task(&pool, LOAD_TABLE, i, fate));
    }

    let tally = load::join(tasks).await;

    // Every connection of the pool at once: this waits for the cancelled
    // scopes' spawned cleanups to give theirs back (or close them).
    let mut conns = Vec::new();
    for _ in 0..LOAD_POOL {
        conns.push(pool.get().await.expect("a connection"));
    }
    for conn in &conns {
        assert!(!in_transaction(conn).await, "a pooled connection is inside a transaction");
    }
    let dirty: i64 = conns[0]
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND application_name = $1",
            &[&app],
        )
        .await
        .expect("pg_stat_activity")
        .get(0);
    assert_eq!(dirty, 0, "sessions idle in a transaction");
    drop(conns);

    tally.check_rows(ids(&pool, table).await.into_iter().map(i64::from).collect());
}
