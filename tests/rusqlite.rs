//! `managed::rusqlite::Transaction` against real SQLite (bundled): every way
//! a scope ends (Ok, `?`, `return`, panic, cancellation at every await
//! point), the three BEGIN behaviors seen from a second connection,
//! savepoints when nested, a failed BEGIN and a failed COMMIT, and a
//! transaction SQLite rolled back by itself.
#![cfg(all(feature = "rusqlite", feature = "testing"))]

mod common;

use common::{quiet_panics, Pending};
use managed::rusqlite::{Behavior, Transaction};
use managed::testing::cancel_after;
use managed::{scope, with, Error, Guard, Outcome};
use rusqlite::{Connection, ErrorCode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

fn memory_with_table() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory database");
    conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)").expect("table");
    conn
}

fn rows(conn: &Connection) -> Vec<i64> {
    let mut stmt = conn.prepare("SELECT x FROM t ORDER BY x").expect("select");
    stmt.query_map([], |r| r.get(0)).expect("rows").collect::<Result<_, _>>().expect("values")
}

fn insert(conn: &Connection, x: i64) -> Result<(), rusqlite::Error> {
    conn.execute("INSERT INTO t VALUES (?1)", [x]).map(drop)
}

/// A database file of its own, deleted when dropped (for the tests that
/// need a second connection).
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "managed-rusqlite-{name}-{}-{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let db = TempDb(path);
        db.open().execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)").expect("table");
        db
    }

    /// A connection that fails at once with `SQLITE_BUSY` instead of waiting.
    fn open(&self) -> Connection {
        let conn = Connection::open(&self.0).expect("open the file");
        conn.busy_timeout(std::time::Duration::ZERO).expect("busy timeout");
        conn
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn code(e: &rusqlite::Error) -> Option<ErrorCode> {
    e.sqlite_error_code()
}

#[test]
fn ok_commits() {
    let conn = memory_with_table();
    let n = scope! {
        let tx = with!(Transaction::new(&conn))?;
        assert!(!tx.is_autocommit(), "BEGIN ran at enter");
        insert(tx, 1)?;
        insert(tx, 2)?;
        Ok::<_, Error>(2)
    }
    .expect("committed");
    assert_eq!(n, 2);
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [1, 2]);
}

#[test]
fn an_error_through_question_mark_rolls_back_and_is_returned() {
    let conn = memory_with_table();
    let r: Result<(), Error> = scope! {
        let tx = with!(Transaction::new(&conn))?;
        insert(tx, 1)?;
        insert(tx, 1)?; // the primary key refuses it
        Ok(())
    };
    let e = r.expect_err("duplicate key");
    let db = e.downcast_ref::<rusqlite::Error>().expect("the body's rusqlite error");
    assert_eq!(code(db), Some(ErrorCode::ConstraintViolation));
    assert!(e.suppressed().is_empty(), "ROLLBACK succeeded: {e:#}");
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [] as [i64; 0]);
}

#[test]
fn an_explicit_return_of_an_error_rolls_back() {
    let conn = memory_with_table();
    let r: Result<(), Error> = scope! {
        let tx = with!(Transaction::new(&conn))?;
        insert(tx, 1)?;
        if rows(tx).len() == 1 {
            return Err(Error::msg("returned early"));
        }
        Ok(())
    };
    assert_eq!(r.expect_err("returned").to_string(), "returned early");
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [] as [i64; 0]);
}

#[test]
fn a_panic_rolls_back_and_the_panic_resumes() {
    quiet_panics();
    let conn = memory_with_table();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let tx = with!(Transaction::new(&conn))?;
            insert(tx, 1)?;
            panic!("test: panicked mid-transaction");
        };
    }));
    let payload = caught.expect_err("the panic resumed");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"test: panicked mid-transaction"));
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [] as [i64; 0]);
}

#[test]
fn the_target_is_the_handle_given_a_mut_borrow_keeps_the_connection_exclusive() {
    let mut conn = memory_with_table();
    scope! {
        let tx = with!(Transaction::new(&mut conn))?;
        insert(tx, 1)?;
        Ok::<_, Error>(())
    }
    .expect("committed");
    assert_eq!(rows(&conn), [1]);

    // A guard over the connection works as a handle too.
    let shared = std::sync::Mutex::new(conn);
    scope! {
        let tx = with!(Transaction::new(shared.lock().expect("lock")))?;
        insert(tx, 2)?;
        Ok::<_, Error>(())
    }
    .expect("committed");
    assert_eq!(rows(&shared.lock().expect("lock")), [1, 2]);
}

#[test]
fn deferred_takes_no_lock_until_the_first_write() {
    let db = TempDb::new("deferred");
    let (conn, other) = (db.open(), db.open());
    scope! {
        let tx = with!(Transaction::new(&conn))?;
        // Deferred: nothing locked yet, the other connection can write.
        other.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (9); COMMIT")?;
        insert(tx, 1)?;
        // Now this transaction holds the write lock.
        let busy = other.execute_batch("BEGIN IMMEDIATE").expect_err("locked");
        assert_eq!(code(&busy), Some(ErrorCode::DatabaseBusy));
        Ok::<_, Error>(())
    }
    .expect("committed");
    assert_eq!(rows(&other), [1, 9]);
}

#[test]
fn immediate_takes_the_write_lock_at_enter() {
    let db = TempDb::new("immediate");
    let (conn, other) = (db.open(), db.open());
    scope! {
        let tx = with!(Transaction::immediate(&conn))?;
        let busy = other.execute_batch("BEGIN IMMEDIATE").expect_err("locked");
        assert_eq!(code(&busy), Some(ErrorCode::DatabaseBusy));
        // Readers still read (rollback journal: a RESERVED lock).
        assert_eq!(rows(&other), [] as [i64; 0]);
        insert(tx, 1)?;
        Ok::<_, Error>(())
    }
    .expect("committed");
    assert_eq!(rows(&other), [1]);
}

#[test]
fn exclusive_keeps_readers_out() {
    let db = TempDb::new("exclusive");
    let (conn, other) = (db.open(), db.open());
    scope! {
        let _tx = with!(Transaction::exclusive(&conn))?;
        let busy = other.prepare("SELECT x FROM t").and_then(|mut s| s.query([]).map(|_| ())).expect_err("locked");
        assert_eq!(code(&busy), Some(ErrorCode::DatabaseBusy));
        Ok::<_, Error>(())
    }
    .expect("committed");
    assert_eq!(rows(&other), [] as [i64; 0], "readable again");
    assert_eq!(Transaction::with_behavior(&conn, Behavior::Exclusive).behavior(), Behavior::Exclusive);
}

#[test]
fn a_begin_that_fails_is_returned_and_nothing_is_exited() {
    let db = TempDb::new("begin-fails");
    let (conn, other) = (db.open(), db.open());
    other.execute_batch("BEGIN IMMEDIATE").expect("the other connection takes the write lock");
    let mut body_ran = false;
    let r: Result<(), Error> = scope! {
        let _tx = with!(Transaction::immediate(&conn))?;
        body_ran = true;
        Ok(())
    };
    let e = r.expect_err("BEGIN IMMEDIATE is refused");
    assert_eq!(e.downcast_ref::<rusqlite::Error>().and_then(code), Some(ErrorCode::DatabaseBusy));
    assert!(!body_ran);
    assert!(conn.is_autocommit());
    other.execute_batch("ROLLBACK").expect("release the lock");
}

#[test]
fn a_commit_refused_with_busy_is_returned_and_the_transaction_rolled_back() {
    let db = TempDb::new("commit-busy");
    let (conn, reader) = (db.open(), db.open());
    let r: Result<(), Error> = scope! {
        let tx = with!(Transaction::new(&conn))?;
        insert(tx, 1)?;
        // A reader in the middle of a statement holds a SHARED lock: the
        // COMMIT cannot take the EXCLUSIVE one it needs.
        reader.execute_batch("BEGIN; SELECT count(*) FROM t")?;
        Ok(())
    };
    let e = r.expect_err("COMMIT refused");
    assert_eq!(e.downcast_ref::<rusqlite::Error>().and_then(code), Some(ErrorCode::DatabaseBusy), "{e:#}");
    assert!(conn.is_autocommit(), "the refused transaction was rolled back, not left open");
    reader.execute_batch("COMMIT").expect("the reader ends");
    assert_eq!(rows(&reader), [] as [i64; 0]);
}

#[test]
fn a_transaction_sqlite_rolled_back_by_itself_exits_without_a_second_error() {
    let conn = memory_with_table();
    insert(&conn, 1).expect("seed");
    let r: Result<(), Error> = scope! {
        let tx = with!(Transaction::new(&conn))?;
        insert(tx, 2)?;
        // OR ROLLBACK: the conflict ends the whole transaction in SQLite.
        tx.execute("INSERT OR ROLLBACK INTO t VALUES (1)", [])?;
        Ok(())
    };
    let e = r.expect_err("constraint");
    assert!(e.suppressed().is_empty(), "no 'no transaction is active' from the exit: {e:#}");
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [1]);
}

#[test]
fn nested_transactions_are_savepoints() {
    let conn = memory_with_table();
    scope! {
        let outer = with!(Transaction::new(&conn))?;
        insert(outer, 1)?;
        let kept: Result<(), Error> = scope! {
            let inner = with!(Transaction::new(&conn))?;
            insert(inner, 2)?;
            Ok(())
        };
        kept?;
        let undone: Result<(), Error> = scope! {
            let inner = with!(Transaction::immediate(&conn))?; // the behavior is not used: a savepoint
            insert(inner, 3)?;
            let innermost: Result<(), Error> = scope! {
                let sp = with!(Transaction::new(&conn))?;
                insert(sp, 4)?;
                Ok(())
            };
            innermost?;
            Err(Error::msg("undo 3 and 4"))
        };
        assert!(undone.is_err());
        assert!(!conn.is_autocommit(), "the outer transaction is still open");
        assert_eq!(rows(&conn), [1, 2]);
        Ok::<_, Error>(())
    }
    .expect("committed");
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [1, 2]);
}

#[test]
fn an_outer_rollback_undoes_a_released_savepoint() {
    let conn = memory_with_table();
    let r: Result<(), Error> = scope! {
        let _outer = with!(Transaction::new(&conn))?;
        let inner = with!(Transaction::new(&conn))?;
        insert(inner, 1)?;
        Err(Error::msg("the outer fails after the inner was released"))
    };
    assert!(r.is_err());
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [] as [i64; 0]);
}

#[test]
fn inside_a_transaction_begun_by_hand_it_is_a_savepoint_and_leaves_that_transaction_open() {
    let conn = memory_with_table();
    conn.execute_batch("BEGIN; INSERT INTO t VALUES (1)").expect("by hand");
    let mut tx = Guard::new(Transaction::new(&conn));
    insert(tx.enter().expect("savepoint"), 2).expect("insert");
    tx.exit(&Outcome::err(&"undo")).expect("rolled back to the savepoint");
    assert!(!conn.is_autocommit(), "the hand-begun transaction is the caller's");
    assert_eq!(rows(&conn), [1]);
    conn.execute_batch("COMMIT").expect("commit by hand");
    assert_eq!(rows(&conn), [1]);
}

#[test]
fn a_savepoint_name_of_the_users_own_is_not_touched() {
    let conn = memory_with_table();
    conn.execute_batch("SAVEPOINT managed_savepoint_0; INSERT INTO t VALUES (1)").expect("by hand");
    for _ in 0..3 {
        let r: Result<(), Error> = scope! {
            let sp = with!(Transaction::new(&conn))?;
            insert(sp, 2)?;
            Err(Error::msg("undo"))
        };
        assert!(r.is_err());
    }
    conn.execute_batch("RELEASE managed_savepoint_0").expect("the user's savepoint is still there");
    assert!(conn.is_autocommit());
    assert_eq!(rows(&conn), [1]);
}

/// The same transaction in an async scope, cancelled after each number of
/// polls until it commits: each cancellation rolls back (the sync manager's
/// exit runs in place with `Outcome::Cancelled`).
#[test]
fn in_an_async_scope_a_cancellation_at_every_await_point_rolls_back() {
    let conn = memory_with_table();
    let mut committed_at = None;
    for polls in 0..100 {
        let scope = scope!(async {
            let tx = with!(Transaction::new(&conn))?;
            insert(tx, 1)?;
            Pending(1).await;
            insert(tx, 2)?;
            Pending(1).await;
            Ok::<_, Error>(())
        });
        let finished = common::block_on(cancel_after(scope, polls));
        assert!(conn.is_autocommit(), "after {polls} polls: still inside a transaction");
        match finished {
            Some(r) => {
                r.expect("commits");
                assert_eq!(rows(&conn), [1, 2]);
                committed_at = Some(polls);
                break;
            }
            None => assert_eq!(rows(&conn), [] as [i64; 0], "after {polls} polls"),
        }
    }
    assert_eq!(committed_at, Some(3), "cancelled before the first poll and at each of the two awaits");
}

/// Owning the connection in the task and lending `&mut Connection` keeps
/// the scope `Send`: it can be spawned on tokio; aborting the task rolls
/// back.
#[test]
fn an_async_scope_over_a_mut_borrow_is_send_and_spawnable() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let db = TempDb::new("spawned");
        let mut conn = db.open();
        let committed = tokio::spawn(async move {
            scope!(async {
                let tx = with!(Transaction::new(&mut conn))?;
                insert(tx, 1)?;
                tokio::task::yield_now().await;
                Ok::<_, Error>(())
            })
            .await
        });
        committed.await.expect("the task ran").expect("committed");

        let mut conn = db.open();
        let (entered_tx, entered) = tokio::sync::oneshot::channel();
        let aborted = tokio::spawn(async move {
            scope!(async {
                let tx = with!(Transaction::new(&mut conn))?;
                insert(tx, 2)?;
                let _ = entered_tx.send(());
                std::future::pending::<()>().await;
                Ok::<_, Error>(())
            })
            .await
        });
        entered.await.expect("the row is inserted");
        aborted.abort();
        assert!(aborted.await.expect_err("aborted").is_cancelled());
        // The aborted task dropped its connection after the rollback: the
        // write lock is free, and only the committed row is there.
        let other = db.open();
        other.execute_batch("BEGIN IMMEDIATE; COMMIT").expect("no lock left behind");
        assert_eq!(rows(&other), [1]);
    });
}
