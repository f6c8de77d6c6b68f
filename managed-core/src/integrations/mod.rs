//! Managers for the crates users already use, each behind its own feature;
//! the facade re-exports each as a module of its own (`managed::tempfile`,
//! `managed::process`, `managed::tokio::TaskGroup`, `managed::tracing`).

// tempfile, processes, tokio's TaskGroup, tracing spans.
#[cfg(feature = "process")]
pub mod process;
#[cfg(feature = "tracing")]
pub mod span;
#[cfg(feature = "tokio")]
pub mod task_group;
#[cfg(feature = "tempfile")]
pub mod tempfile;
