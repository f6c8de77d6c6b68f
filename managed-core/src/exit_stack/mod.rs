//! The exit stacks: [`ExitStack`](crate::ExitStack) (sync),
//! [`AsyncExitStack`](crate::AsyncExitStack) (async, local) and
//! `SendAsyncExitStack` (async, `Send`), and [`Entered`], the target a stack
//! lends when it is itself entered as a manager.

#[cfg(feature = "async")]
pub(crate) mod async_core;
pub(crate) mod close;
pub(crate) mod entries;
#[cfg(feature = "async")]
pub(crate) mod local;
#[cfg(all(feature = "std", feature = "async"))]
pub(crate) mod send;
pub(crate) mod sync;

pub use entries::Entered;
