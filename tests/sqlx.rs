//! `managed::sqlx::{Pooled, Transaction}` against real databases: SQLite
//! (a file, bundled) and PostgreSQL (`DATABASE_URL`; `.ci/run` starts one).
//! The same tests run on both: every way a scope ends (Ok, `?`, `return`,
//! panic on a spawned task, cancellation at every await point), savepoints
//! when nested, a transaction begun with plain SQL that only the pooled
//! manager's cancelled path ends, and a concurrent load with
//! cancellations, errors and panics.
//!
//! Outside CI, without `DATABASE_URL`, the PostgreSQL tests print why they
//! skip. In CI (`CI` set), a missing `DATABASE_URL` fails them.
#![cfg(feature = "testing")]

mod common;
mod load;

use load::{Fate, Rng};
use managed::sqlx::{Pooled, Transaction};
use managed::testing::cancel_after;
use managed::{scope, with, Error};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The tests, the same for each database. The module using it defines
/// `pool(name, size) -> Option<Pool<DB>>`, `begin(conn) -> Transaction`,
/// and `in_transaction(conn) -> bool` (the database's own view).
macro_rules! tests {
    () => {
        use super::*;

        async fn exec(conn: &mut Conn, sql: &str) -> Result<(), sqlx::Error> {
            sqlx::Executor::execute(conn, sql).await.map(drop)
        }

        async fn insert(conn: &mut Conn, table: &str, id: i64) -> Result<(), sqlx::Error> {
            exec(conn, &format!("INSERT INTO {table} (id) VALUES ({id})")).await
        }

        async fn fresh_table(pool: &sqlx::Pool<Db>, table: &str) {
            let mut conn = pool.acquire().await.expect("a connection");
            exec(&mut conn, &format!("DROP TABLE IF EXISTS {table}")).await.expect("drop");
            exec(&mut conn, &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY)")).await.expect("create");
        }

        async fn ids(pool: &sqlx::Pool<Db>, table: &str) -> Vec<i64> {
            sqlx::query_scalar(&format!("SELECT id FROM {table} ORDER BY id")).fetch_all(pool).await.expect("select")
        }

        /// Every connection of the pool at once (this waits for the
        /// cancelled scopes' cleanups), each outside any transaction.
        async fn assert_every_connection_clean(pool: &sqlx::Pool<Db>, size: u32) {
            let mut conns = Vec::new();
            for _ in 0..size {
                conns.push(pool.acquire().await.expect("a connection"));
            }
            for conn in &mut conns {
                assert!(!conn.is_in_transaction(), "sqlx counts an open transaction");
                assert!(!in_transaction(conn).await, "a pooled connection is inside a transaction");
            }
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn ok_commits_err_and_return_roll_back() {
            let Some(pool) = pool("outcomes", 1).await else { return };
            let table = "managed_sqlx_outcomes";
            fresh_table(&pool, table).await;
            scope!(async {
                let conn = with!(Pooled::new(&pool))?;
                let tx = with!(begin(conn))?;
                insert(tx, table, 1).await?;
                insert(tx, table, 2).await?;
                Ok::<_, Error>(())
            })
            .await
            .expect("committed");

            let failed: Result<(), Error> = scope!(async {
                let conn = with!(Pooled::new(&pool))?;
                let tx = with!(begin(conn))?;
                insert(tx, table, 3).await?;
                insert(tx, table, 1).await?; // duplicate key
                Ok(())
            })
            .await;
            let e = failed.expect_err("duplicate key");
            assert!(matches!(e.downcast_ref::<sqlx::Error>(), Some(sqlx::Error::Database(_))), "{e:#}");
            assert!(e.suppressed().is_empty(), "ROLLBACK succeeded: {e:#}");

            let returned: Result<(), Error> = scope!(async {
                let conn = with!(Pooled::new(&pool))?;
                let tx = with!(begin(conn))?;
                insert(tx, table, 4).await?;
                return Err(Error::msg("returned"));
            })
            .await;
            assert!(returned.is_err());
            assert_eq!(ids(&pool, table).await, [1, 2]);
            assert_every_connection_clean(&pool, 1).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_panic_on_a_spawned_task_rolls_back_and_resumes() {
            common::quiet_panics();
            let Some(pool) = pool("panic", 1).await else { return };
            let table = "managed_sqlx_panic";
            fresh_table(&pool, table).await;
            let task_pool = pool.clone();
            let joined = tokio::spawn(async move {
                scope!(async {
                    let conn = with!(Pooled::new(&task_pool))?;
                    let tx = with!(begin(conn))?;
                    insert(tx, table, 1).await?;
                    assert!(table.is_empty(), "test: panicked mid-transaction");
                    Ok::<_, Error>(())
                })
                .await
            })
            .await;
            let payload = joined.expect_err("the task panicked").into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"test: panicked mid-transaction"));
            assert_eq!(ids(&pool, table).await, [] as [i64; 0]);
            assert_every_connection_clean(&pool, 1).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn nested_transactions_are_savepoints() {
            let Some(pool) = pool("nested", 1).await else { return };
            let table = "managed_sqlx_nested";
            fresh_table(&pool, table).await;
            scope!(async {
                let conn = with!(Pooled::new(&pool))?;
                let tx = with!(begin(conn))?;
                insert(tx, table, 1).await?;
                let undone: Result<(), Error> = scope!(async {
                    let sp = with!(Transaction::on(&mut *tx))?;
                    insert(sp, table, 2).await?;
                    insert(sp, table, 1).await?; // duplicate: undone to the savepoint
                    Ok(())
                })
                .await;
                assert!(undone.expect_err("duplicate").suppressed().is_empty());
                let kept: Result<(), Error> = scope!(async {
                    let sp = with!(Transaction::on(&mut *tx))?;
                    Ok(insert(sp, table, 3).await?)
                })
                .await;
                kept.expect("released");
                insert(tx, table, 4).await?;
                Ok::<_, Error>(())
            })
            .await
            .expect("committed");
            assert_eq!(ids(&pool, table).await, [1, 3, 4]);
            assert_every_connection_clean(&pool, 1).await;
        }

        /// Cancelled after its first N polls, for N = 0, 1, 2, .. until it
        /// commits: all or nothing each time, and the one connection clean.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn cancelled_at_every_await_point_it_is_all_or_nothing_and_the_connection_clean() {
            let Some(pool) = pool("each", 1).await else { return };
            let table = "managed_sqlx_each";
            fresh_table(&pool, table).await;
            let mut committed_at = None;
            for polls in 0..10_000 {
                let scope = scope!(async {
                    let conn = with!(Pooled::new(&pool))?;
                    let tx = with!(begin(conn))?;
                    insert(tx, table, 1).await?;
                    insert(tx, table, 2).await?;
                    Ok::<_, Error>(())
                });
                let finished = cancel_after(scope, polls).await;
                assert_every_connection_clean(&pool, 1).await;
                let rows = ids(&pool, table).await;
                if let Some(r) = finished {
                    r.expect("commits");
                    assert_eq!(rows, [1, 2]);
                    committed_at = Some(polls);
                    break;
                }
                assert!(rows.is_empty() || rows == [1, 2], "after {polls} polls: {rows:?}");
                let mut conn = pool.acquire().await.expect("a connection");
                exec(&mut conn, &format!("DELETE FROM {table}")).await.expect("reset");
            }
            assert!(committed_at.is_some_and(|n| n > 3), "{committed_at:?}");
        }

        /// A transaction begun with plain SQL is invisible to sqlx: when its
        /// scope is cancelled, sqlx would give the connection back inside it.
        /// The pooled manager's cancelled path checks with the database and
        /// rolls it back first.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_transaction_begun_with_plain_sql_is_rolled_back_when_cancelled() {
            let Some(pool) = pool("plain", 1).await else { return };
            let table = "managed_sqlx_plain";
            fresh_table(&pool, table).await;
            let cancelled = tokio::time::timeout(
                Duration::from_millis(100),
                scope!(async {
                    let conn = with!(Pooled::new(&pool))?;
                    exec(conn, "BEGIN").await?;
                    insert(conn, table, 1).await?;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok::<_, Error>(())
                }),
            )
            .await;
            assert!(cancelled.is_err());
            assert_every_connection_clean(&pool, 1).await;
            // The next user's statements are its own, not part of the
            // cancelled transaction.
            let mut conn = pool.acquire().await.expect("the connection");
            insert(&mut conn, table, 2).await.expect("autocommit insert");
            drop(conn);
            assert_eq!(ids(&pool, table).await, [2]);
        }

        /// Hundreds of tasks on a small pool, a share cancelled at random,
        /// some returning `Err`, some panicking: the rows are those of the
        /// transactions that returned `Ok` (one cancelled while its COMMIT
        /// was in flight: all or nothing), every connection clean.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn under_concurrent_load_rows_match_the_committed_transactions_and_every_connection_is_clean() {
            common::quiet_panics();
            let Some(pool) = pool("load", LOAD_POOL).await else { return };
            let table = "managed_sqlx_load";
            fresh_table(&pool, table).await;
            let mut rng = Rng::seeded();
            let tasks: Vec<load::Task> = (0..LOAD_TASKS)
                .map(|i| {
                    let fate = Fate::draw(&mut rng);
                    let body_done = Arc::new(AtomicBool::new(false));
                    let (pool, done) = (pool.clone(), body_done.clone());
                    let task = tokio::spawn(async move {
                        let work = scope!(async {
                            let conn = with!(Pooled::new(&pool))?;
                            let tx = with!(begin(conn))?;
                            insert(tx, table, 2 * i).await?;
                            tokio::task::yield_now().await;
                            insert(tx, table, 2 * i + 1).await?;
                            match fate {
                                Fate::FailThroughQuestionMark => insert(tx, table, 2 * i).await?,
                                Fate::ReturnErr => return Err(Error::msg("returned")),
                                Fate::Panic => panic!("test: panicked under load"),
                                Fate::Commit | Fate::CancelAfterMicros(_) | Fate::CancelAfterPolls(_) => {}
                            }
                            done.store(true, Ordering::SeqCst);
                            Ok::<_, Error>(())
                        });
                        match fate {
                            Fate::CancelAfterMicros(us) => {
                                tokio::time::timeout(Duration::from_micros(us), work).await.ok()
                            }
                            Fate::CancelAfterPolls(polls) => cancel_after(work, polls).await,
                            _ => Some(work.await),
                        }
                    });
                    (i, fate, body_done, task)
                })
                .collect();

            let tally = load::join(tasks).await;
            assert_every_connection_clean(&pool, LOAD_POOL).await;
            tally.check_rows(ids(&pool, table).await);
        }
    };
}

#[cfg(feature = "sqlx-sqlite")]
mod sqlite {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use sqlx::{Connection, SqliteConnection};

    type Db = sqlx::Sqlite;
    type Conn = SqliteConnection;
    const LOAD_POOL: u32 = 4;
    const LOAD_TASKS: i64 = 200;

    /// A pool over a fresh database file (WAL, so readers do not wait for
    /// the writer; writers wait for each other up to the busy timeout).
    async fn pool(name: &str, size: u32) -> Option<sqlx::Pool<Db>> {
        let path = std::env::temp_dir().join(format!("managed-sqlx-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        Some(SqlitePoolOptions::new().max_connections(size).connect_with(options).await.expect("the database file"))
    }

    /// Writers take the lock at BEGIN, so that concurrent transactions wait
    /// for each other instead of failing to upgrade a read lock.
    fn begin(conn: &mut Conn) -> Transaction<'_, Conn> {
        Transaction::begin_with(conn, "BEGIN IMMEDIATE")
    }

    /// SQLite refuses a BEGIN inside a transaction.
    async fn in_transaction(conn: &mut Conn) -> bool {
        if sqlx::Executor::execute(&mut *conn, "BEGIN").await.is_err() {
            return true;
        }
        sqlx::Executor::execute(&mut *conn, "ROLLBACK").await.expect("end the probe");
        false
    }

    tests!();
}

#[cfg(feature = "sqlx-postgres")]
mod postgres {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::{Connection, PgConnection};
    use std::str::FromStr;

    type Db = sqlx::Postgres;
    type Conn = PgConnection;
    const LOAD_POOL: u32 = 8;
    const LOAD_TASKS: i64 = 400;

    async fn pool(name: &str, size: u32) -> Option<sqlx::Pool<Db>> {
        let url = match std::env::var("DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "DATABASE_URL is not set in CI: `.ci/run` must start PostgreSQL with `eval \"$(.ci/postgres.sh start)\"`"
                );
                eprintln!("skipping: DATABASE_URL is not set; start a server with `eval \"$(.ci/postgres.sh start)\"`");
                return None;
            }
        };
        let options = PgConnectOptions::from_str(&url)
            .expect("a valid DATABASE_URL")
            .application_name(&format!("managed_sqlx_{name}"));
        Some(PgPoolOptions::new().max_connections(size).connect_with(options).await.expect("the server"))
    }

    fn begin(conn: &mut Conn) -> Transaction<'_, Conn> {
        Transaction::on(conn)
    }

    /// The first statement of a transaction has `transaction_timestamp() =
    /// statement_timestamp()` (sent without arguments: one simple-protocol
    /// message); in an aborted transaction the query fails.
    async fn in_transaction(conn: &mut Conn) -> bool {
        let answer =
            sqlx::Executor::fetch_one(&mut *conn, "SELECT transaction_timestamp() <> statement_timestamp()").await;
        answer.and_then(|row| sqlx::Row::try_get::<bool, _>(&row, 0)).unwrap_or(true)
    }

    tests!();
}
