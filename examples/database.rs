//! A class-based database connection with `#[managed]`:
//! `cargo run --example database`. `SQLite` in a temporary file (bundled with
//! rusqlite), no setup.
//!
//! What it proves, each read back from the database:
//! 1. the connection manager opens on enter and closes on exit, returning the
//!    close error instead of dropping it;
//! 2. a transaction written as a `#[managed]` fn commits when the block
//!    succeeds and rolls back when it fails through `?`;
//! 3. a struct of managers enters its fields in order and exits them in
//!    reverse; when a later field fails to enter, the earlier one is exited
//!    (rolled back) and the error returned.

use managed::{managed, scope, with, yield_, Error, Outcome};
use rusqlite::Connection;

/// Python's `class DatabaseConnection` with `__enter__` / `__exit__`.
struct DatabaseConnection {
    path: std::path::PathBuf,
    conn: Option<Connection>,
}

impl DatabaseConnection {
    fn new(path: &std::path::Path) -> Self {
        DatabaseConnection { path: path.to_owned(), conn: None }
    }

    fn conn(&self) -> Result<&Connection, Error> {
        self.conn.as_ref().ok_or_else(|| Error::msg("not connected"))
    }
}

#[managed]
impl DatabaseConnection {
    #[enter]
    fn connect(&mut self) -> Result<(), Error> {
        let conn = Connection::open(&self.path)?;
        println!("  [db] connected to {}", self.path.display());
        self.conn = Some(conn);
        Ok(())
    }

    #[exit]
    fn close(self, outcome: &Outcome) -> Result<(), Error> {
        println!("  [db] closing (block ok: {})", outcome.is_ok());
        match self.conn {
            // rusqlite's `Drop` would ignore a failed close; here it is returned.
            Some(conn) => conn.close().map_err(|(_, e)| Error::new(e)),
            None => Ok(()),
        }
    }
}

/// A transaction as a `@contextmanager`-style function: BEGIN, lend the
/// connection, then COMMIT or ROLLBACK depending on how the block ended.
#[managed]
fn transaction(conn: &Connection) -> Result<&Connection, Error> {
    conn.execute_batch("BEGIN")?;
    println!("  [tx] BEGIN");
    let outcome = yield_!(conn);
    let verb = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
    println!("  [tx] {verb}");
    conn.execute_batch(verb)?;
}

/// A struct of managers: the primary and the audit database, entered in
/// order, exited in reverse.
#[managed]
struct Replicated {
    #[managed]
    primary: DatabaseConnection,
    #[managed]
    audit: DatabaseConnection,
}

fn count(db: &DatabaseConnection) -> Result<i64, Error> {
    Ok(db.conn()?.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?)
}

fn main() -> Result<(), Error> {
    let dir = std::env::temp_dir().join(format!("managed-database-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("app.db");
    let result = run(&dir, &path);
    std::fs::remove_dir_all(&dir)?;
    result
}

fn run(dir: &std::path::Path, path: &std::path::Path) -> Result<(), Error> {
    println!("1. connection: enter opens, exit closes");
    scope! {
        let db = with!(DatabaseConnection::new(path))?;
        db.conn()?.execute_batch("CREATE TABLE users (name TEXT NOT NULL UNIQUE)")?;
        Ok::<_, Error>(())
    }?;

    println!("\n2. transaction: commit on success, rollback on `?`");
    scope! {
        let db = with!(DatabaseConnection::new(path))?;
        let conn = db.conn()?;
        scope! {
            let tx = with!(transaction(conn))?;
            tx.execute("INSERT INTO users VALUES ('ada')", [])?;
            Ok::<_, Error>(())
        }?;
        let failed = scope! {
            let tx = with!(transaction(conn))?;
            tx.execute("INSERT INTO users VALUES ('grace')", [])?;
            tx.execute("INSERT INTO users VALUES ('ada')", [])?; // UNIQUE violation: `?` leaves the block
            Ok::<_, Error>(())
        };
        println!("  second transaction failed: {}", failed.as_ref().err().map_or("no".into(), ToString::to_string));
        assert!(failed.is_err());
        let n = count(db)?;
        println!("  rows after commit + rollback: {n} (ada committed, grace rolled back)");
        assert_eq!(n, 1);
        Ok::<_, Error>(())
    }?;

    println!("\n3. struct of managers: rollback when a later field fails to enter");
    let missing = dir.join("no-such-dir").join("audit.db");
    let entered = scope! {
        let _both = with!(Replicated {
            primary: DatabaseConnection::new(path).into(),
            audit: DatabaseConnection::new(&missing).into(),
        })?;
        println!("  (not reached)");
        Ok::<_, Error>(())
    };
    let e = entered.expect_err("the audit database cannot be opened");
    println!("  enter failed: {e}; the primary connection was closed first (see [db] closing above)");

    let audit = dir.join("audit.db");
    scope! {
        let both = with!(Replicated {
            primary: DatabaseConnection::new(path).into(),
            audit: DatabaseConnection::new(&audit).into(),
        })?;
        both.audit.conn()?.execute_batch("CREATE TABLE users (name TEXT)")?;
        let (p, a) = (count(&both.primary)?, count(&both.audit)?);
        println!("  primary has {p} row(s), audit {a}");
        assert_eq!((p, a), (1, 0));
        Ok::<_, Error>(())
    }?;
    println!("\nall checks passed");
    Ok(())
}
