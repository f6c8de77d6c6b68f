//! Async pool and transactions on PostgreSQL (`tokio-postgres` +
//! `deadpool-postgres`), with `scope!(async { .. })`:
//!
//! 1. a transaction that succeeds is committed;
//! 2. one that fails is rolled back, and its error comes back;
//! 3. one cancelled mid-transaction (by a timeout) leaves no row, and the
//!    pooled connection it used is clean and works for the next one.
//!
//! Run it against a server given by `DATABASE_URL`:
//!
//! ```text
//! eval "$(.ci/postgres.sh start)"      # a throw-away local server (Debian's PostgreSQL)
//! cargo run --example async_pool
//! .ci/postgres.sh stop
//! ```
//!
//! The managers are the library's, `managed::postgres::{Pooled, Transaction}`
//! (feature `postgres`): the pooled one awaits a `ROLLBACK` in a spawned
//! task before a cancelled scope's connection can be reused.

use deadpool_postgres::{Config, ManagerConfig, PoolConfig, RecyclingMethod, Runtime};
use managed::postgres::{Pooled, Transaction};
use managed::prelude::*;
use managed::Error;
use std::process::ExitCode;
use std::time::Duration;

const HOW_TO_START: &str = "\
This example needs a PostgreSQL server, given by DATABASE_URL
(e.g. postgres://postgres@127.0.0.1:5432/postgres).

Start a throw-away local one (installs Debian's `postgresql` package if needed):

    eval \"$(.ci/postgres.sh start)\"
    cargo run --example async_pool
    .ci/postgres.sh stop

or with Docker:

    docker run --rm -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo run --example async_pool";

fn main() -> ExitCode {
    let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("DATABASE_URL is not set.\n\n{HOW_TO_START}");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&url)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("async_pool failed: {e:#}\n\nIs the server at DATABASE_URL={url} running?\n\n{HOW_TO_START}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), Error> {
    let mut cfg = Config::new();
    cfg.url = Some(url.to_string());
    cfg.application_name = Some("managed_async_pool_example".into());
    cfg.manager = Some(ManagerConfig { recycling_method: RecyclingMethod::Fast });
    // One connection, so that every transaction below runs on the same one.
    cfg.pool = Some(PoolConfig::new(1));
    let pool = cfg.create_pool(Some(Runtime::Tokio1), tokio_postgres::NoTls)?;

    pool.get()
        .await?
        .batch_execute("DROP TABLE IF EXISTS managed_example; CREATE TABLE managed_example (id int PRIMARY KEY)")
        .await?;

    // 1. Committed.
    scope!(async {
        let conn = with!(Pooled::new(&pool))?;
        let tx = with!(Transaction::on(conn))?;
        tx.execute("INSERT INTO managed_example VALUES (1), (2)", &[]).await?;
        Ok::<_, Error>(())
    })
    .await?;
    println!("1. committed: {} rows", count(&pool).await?);

    // 2. Rolled back: the second insert violates the primary key.
    let failed = scope!(async {
        let conn = with!(Pooled::new(&pool))?;
        let tx = with!(Transaction::on(conn))?;
        tx.execute("INSERT INTO managed_example VALUES (3)", &[]).await?;
        tx.execute("INSERT INTO managed_example VALUES (1)", &[]).await?;
        Ok::<_, Error>(())
    })
    .await;
    let why = match &failed {
        Err(e) => e
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::as_db_error)
            .map_or_else(|| e.to_string(), |db| db.message().to_string()),
        Ok(()) => "it did not fail?".into(),
    };
    println!("2. failed ({why}); rolled back: {} rows", count(&pool).await?);

    // 3. Cancelled mid-transaction by a timeout: the row it inserted is
    //    rolled back, and the connection goes back to the pool clean.
    let timed_out = tokio::time::timeout(
        Duration::from_millis(200),
        scope!(async {
            let conn = with!(Pooled::new(&pool))?;
            let tx = with!(Transaction::on(conn))?;
            tx.execute("INSERT INTO managed_example VALUES (4)", &[]).await?;
            tokio::time::sleep(Duration::from_secs(60)).await; // never finishes: cancelled here
            Ok::<_, Error>(())
        }),
    )
    .await;
    let conn = pool.get().await?;
    let dirty: i64 = conn
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE state LIKE 'idle in transaction%' AND application_name = 'managed_async_pool_example'",
            &[],
        )
        .await?
        .get(0);
    drop(conn);
    println!(
        "3. cancelled: {}; {} rows; sessions left idle in a transaction: {dirty}",
        if timed_out.is_err() { "yes" } else { "no" },
        count(&pool).await?
    );

    // The same connection serves the next transaction.
    scope!(async {
        let conn = with!(Pooled::new(&pool))?;
        let tx = with!(Transaction::on(conn))?;
        tx.execute("INSERT INTO managed_example VALUES (5)", &[]).await?;
        Ok::<_, Error>(())
    })
    .await?;
    println!("4. the next transaction on that connection committed: {} rows", count(&pool).await?);
    Ok(())
}

async fn count(pool: &deadpool_postgres::Pool) -> Result<i64, Error> {
    Ok(pool.get().await?.query_one("SELECT count(*) FROM managed_example", &[]).await?.get(0))
}
