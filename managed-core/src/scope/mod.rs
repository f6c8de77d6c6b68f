//! The runtime of `scope!` and `defer!`: the rules every construct shares
//! (panic capture, the primary/suppressed merge), the sync and async scopes,
//! and how a manager's error becomes the scope's.

#[cfg(feature = "async")]
pub mod asynchronous;
pub mod convert;
pub mod rules;
