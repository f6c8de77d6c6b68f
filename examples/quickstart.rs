//! The tour: `cargo run --example quickstart`. Runs on an in-memory `SQLite`
//! database (bundled with rusqlite), no setup.
//!
//! Every step prints what it proves, read back from the database.
//!
//! The transactions are `managed::rusqlite::Transaction` (feature
//! `rusqlite`): BEGIN at enter; COMMIT when the block succeeded, ROLLBACK on
//! an error or a panic (the commit's error is returned); a savepoint when
//! nested.

use managed::rusqlite::Transaction;
use managed::{defer, managed, scope, with, yield_, Error, Manage, Outcome};
use rusqlite::Connection;
use std::io::{BufWriter, Write};

/// A connection manager: enter opens the database, exit closes it and
/// returns the close error (rusqlite's `Drop` would ignore it).
struct Database {
    path: &'static str,
    conn: Option<Connection>,
}

impl Database {
    fn in_memory() -> Self {
        Database { path: ":memory:", conn: None }
    }
}

impl Manage for Database {
    type Target = Connection;
    type Error = rusqlite::Error;

    fn enter(&mut self) -> Result<&mut Connection, rusqlite::Error> {
        println!("  [db] open {}", self.path);
        Ok(self.conn.insert(Connection::open(self.path)?))
    }

    fn exit(self, outcome: &Outcome<'_>) -> Result<(), rusqlite::Error> {
        println!("  [db] close (scope ended: {})", describe(outcome));
        match self.conn {
            Some(conn) => conn.close().map_err(|(_, e)| e),
            None => Ok(()),
        }
    }
}

/// `#[managed]` on an impl block: the `#[exit]` method (and an optional
/// `#[enter]`) become the `Manage` impl. Records how a piece of work ended.
struct AuditRow<'c> {
    conn: &'c Connection,
    action: &'static str,
}

#[managed]
impl AuditRow<'_> {
    #[exit]
    fn record(self, outcome: &Outcome<'_>) -> Result<(), rusqlite::Error> {
        self.conn.execute("INSERT INTO audit VALUES (?1, ?2)", (self.action, describe(outcome)))?;
        Ok(())
    }
}

/// `#[managed]` on a struct: its `#[managed]` fields are entered in order
/// and exited in reverse (the transaction ends before the audit row is
/// written, so the row survives a rollback).
#[managed]
struct Audited<'c> {
    #[managed]
    audit: AuditRow<'c>,
    #[managed]
    tx: Transaction<&'c Connection>,
}

/// `#[managed]` on a fn (Python's `@contextmanager`): before `yield_!` is
/// the enter, after it the exit, which sees the outcome. Reports how many
/// rows the block wrote and how it ended.
#[managed]
fn counting_writes<'c>(conn: &'c Connection, label: &'static str) -> &'c Connection {
    let before = conn.total_changes();
    let outcome = yield_!(conn);
    println!("  [{label}] {} row(s) written, block ended: {}", conn.total_changes() - before, describe(outcome));
}

fn describe(outcome: &Outcome<'_>) -> String {
    match outcome {
        Outcome::Ok => "ok".into(),
        Outcome::Err(e) => format!("error {e:?}"),
        Outcome::Panic(_) => format!("panic {:?}", outcome.panic_message().unwrap_or("?")),
        Outcome::Cancelled => "cancelled".into(),
    }
}

fn balances(conn: &Connection) -> Result<Vec<(String, i64)>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT name, balance FROM accounts ORDER BY name")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Moves `amount` from `from` to `to` inside a transaction; fails (after the
/// first UPDATE ran) when the balance would go negative.
fn transfer(conn: &Connection, from: &str, to: &str, amount: i64, audit: &mut Vec<String>) -> Result<(), Error> {
    scope! {
        let tx = with!(Transaction::new(conn))?;
        defer!(err => audit.push(format!("transfer {from}->{to} of {amount} undone")));
        tx.execute("UPDATE accounts SET balance = balance - ?1 WHERE name = ?2", (amount, from))?;
        let left: i64 = tx.query_row("SELECT balance FROM accounts WHERE name = ?1", [from], |r| r.get(0))?;
        if left < 0 {
            return Err(Error::msg(format!("{from} would be overdrawn ({left})")));
        }
        tx.execute("UPDATE accounts SET balance = balance + ?1 WHERE name = ?2", (amount, to))?;
        Ok(())
    }
}

/// A sink that accepts writes and fails to flush, as a full disk does.
struct FullDisk;
impl Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::other("no space left on device"))
    }
}

fn main() -> Result<(), Error> {
    // Keep the demo's deliberate panic quiet; everything else prints.
    std::panic::set_hook(Box::new(|_| {}));

    println!("1. A connection and transactions: COMMIT on Ok, ROLLBACK on Err");
    let mut audit = Vec::new();
    scope! {
        let conn = with!(Database::in_memory())?;
        conn.execute_batch(
            "CREATE TABLE accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL);
             INSERT INTO accounts VALUES ('alice', 100), ('bob', 20);",
        )?;
        transfer(conn, "alice", "bob", 30, &mut audit)?;
        println!("   after transferring 30: {:?}", balances(conn)?);

        let failed = transfer(conn, "bob", "alice", 500, &mut audit);
        println!("   transferring 500 from bob failed: {}", failed.as_ref().map_or_else(ToString::to_string, |()| "no".into()));
        let after = balances(conn)?;
        println!("   read back after the failure: {after:?}  (bob's debit was rolled back)");
        assert_eq!(after, [("alice".into(), 70), ("bob".into(), 50)]);
        println!("   errdefer ran: {audit:?}");
        assert_eq!(audit.len(), 1);

        println!("\n2. A panic inside a transaction: the exit sees it, ROLLBACK, the panic goes on");
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _: Result<(), Error> = scope! {
                let tx = with!(Transaction::new(&*conn))?;
                tx.execute("DELETE FROM accounts", [])?;
                panic!("bug in the middle of a transaction");
            };
        }));
        let after = balances(conn)?;
        println!("   panic caught by the caller: {}; rows still there: {after:?}", caught.is_err());
        assert_eq!(after.len(), 2);
        Ok::<_, Error>(())
    }?;

    println!("\n3. A flush error is returned, not swallowed by Drop");
    let result: Result<(), Error> = scope! {
        let out = with!(BufWriter::new(FullDisk))?;
        writeln!(out, "important data")?;
        Ok(())
    };
    match &result {
        Err(e) => println!("   scope returned the flush error: {e}"),
        Ok(()) => println!("   scope returned Ok (unexpected)"),
    }
    assert!(result.is_err());

    println!("\n4. Nothing lost: the first failure is returned, later ones are attached");
    let result: Result<(), Error> = scope! {
        let _a = with!(BufWriter::new(FullDisk))?;
        let _b = with!(BufWriter::new(FullDisk))?;
        Err(Error::msg("the body failed first"))
    };
    if let Err(e) = &result {
        for line in format!("{e:#}").lines() {
            println!("   {line}");
        }
        assert_eq!(e.suppressed().len(), 2);
    }

    println!("\n5. Outside a scope, defer! is a drop guard");
    {
        defer!(println!("   deferred: runs last"));
        println!("   body: runs first");
    }

    println!("\n6. #[managed]: an impl block, a struct of managers, a yield_! fn");
    scope! {
        let conn = with!(Database::in_memory())?;
        let conn: &Connection = conn; // shared: the audit rows and the transactions all use it
        conn.execute_batch("CREATE TABLE audit (action TEXT, outcome TEXT); CREATE TABLE t (x INTEGER);")?;
        let kept: Result<(), Error> = scope! {
            let work = with!(Audited { audit: AuditRow { conn, action: "keep" }.into(), tx: Transaction::new(conn).into() })?;
            work.tx.connection().execute("INSERT INTO t VALUES (1)", [])?;
            // A transaction inside a transaction is a savepoint: this part
            // fails and is undone alone.
            let undone_inner: Result<(), Error> = scope! {
                let inner = with!(Transaction::new(conn))?;
                inner.execute("INSERT INTO t VALUES (99)", [])?;
                Err(Error::msg("undo the inner part"))
            };
            println!("   nested transaction (a savepoint) failed and was undone alone: {}", undone_inner.is_err());
            let counted = with!(counting_writes(conn, "writes"))?;
            counted.execute("INSERT INTO t VALUES (2)", [])?;
            Ok(())
        };
        kept?;
        let undone: Result<(), Error> = scope! {
            let _work = with!(Audited { audit: AuditRow { conn, action: "undo" }.into(), tx: Transaction::new(conn).into() })?;
            conn.execute("INSERT INTO t VALUES (3)", [])?;
            Err(Error::msg("changed my mind"))
        };
        println!("   second piece of work failed: {}", undone.is_err());
        let rows: Vec<i64> = conn.prepare("SELECT x FROM t ORDER BY x")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let audit: Vec<(String, String)> =
            conn.prepare("SELECT action, outcome FROM audit")?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        println!("   rows kept: {rows:?}; audit: {audit:?}");
        assert_eq!(rows, [1, 2]);
        assert_eq!(audit.len(), 2);
        Ok::<_, Error>(())
    }?;

    println!("\nTour done.");
    Ok(())
}
