//! The exit stacks: `ExitStack` (sync), `AsyncExitStack` (async, local) and
//! `SendAsyncExitStack` (async, `Send`).

#[cfg(feature = "async")]
pub mod async_core;
#[cfg(all(feature = "std", feature = "async"))]
pub mod send;
pub mod sync;

pub use sync::*;
