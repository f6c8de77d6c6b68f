//! The runtime of `scope!` and `defer!`: the rules every construct shares
//! (panic capture, the primary/suppressed merge), the sync and async scopes,
//! and how a manager's error becomes the scope's.

#[cfg(feature = "async")]
pub(crate) mod asynchronous;
pub(crate) mod convert;
pub(crate) mod defer;
pub(crate) mod rules;
pub(crate) mod sync;
