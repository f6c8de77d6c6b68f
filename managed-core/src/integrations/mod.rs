//! Managers for the crates users already use, one module per integration,
//! each behind its own cargo feature. The facade re-exports each module at
//! its root (`managed::rusqlite`, ...).

// Databases: rusqlite, tokio-postgres + deadpool-postgres, sqlx.
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "rusqlite")]
pub mod rusqlite;
#[cfg(any(feature = "sqlx-postgres", feature = "sqlx-sqlite"))]
pub mod sqlx;
