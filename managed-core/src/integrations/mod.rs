//! Managers for the crates users already use, one module per integration,
//! each behind its own cargo feature. The facade re-exports every public
//! module here at its root (`managed::rusqlite`, `managed::postgres`,
//! `managed::sqlx`, `managed::tempfile`, `managed::process`,
//! `managed::tracing`) whenever managed-core has the feature, so the
//! examples, which turn the features on through a dev-dependency on
//! managed-core, run with a plain `cargo run --example NAME`;
//! `managed::tokio::TaskGroup` is reached through `managed::tokio`.

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
pub mod tracing;
// Re-exported by `crate::tokio`, the module users reach it through.
#[cfg(feature = "tokio")]
pub(crate) mod task_group;
#[cfg(feature = "tempfile")]
pub mod tempfile;
