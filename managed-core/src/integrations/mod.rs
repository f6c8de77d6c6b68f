//! Managers for the crates users already use, one module per integration,
//! each behind its own cargo feature. The facade re-exports each as a
//! module of its own (`managed::rusqlite`, `managed::postgres`,
//! `managed::sqlx`, `managed::tempfile`, `managed::process`,
//! `managed::tokio::TaskGroup`, `managed::tracing`).

// Databases: rusqlite, tokio-postgres + deadpool-postgres, sqlx.
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "rusqlite")]
pub mod rusqlite;
#[cfg(any(feature = "sqlx-postgres", feature = "sqlx-sqlite"))]
pub mod sqlx;

// tempfile, processes, tokio's TaskGroup, tracing spans.
#[cfg(feature = "process")]
pub mod process;
#[cfg(feature = "tracing")]
pub mod span;
#[cfg(feature = "tokio")]
pub mod task_group;
#[cfg(feature = "tempfile")]
pub mod tempfile;
