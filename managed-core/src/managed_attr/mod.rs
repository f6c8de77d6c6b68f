//! The runtime of `#[managed]`: struct fields (sync and async), the
//! managers a `yield_!` fn returns (sync, and async as a coroutine), and what
//! the user's methods and hooks may return.

#[cfg(all(feature = "alloc", feature = "async"))]
pub(crate) mod coroutine;
pub(crate) mod fields;
#[cfg(feature = "async")]
pub(crate) mod fields_async;
pub(crate) mod returns;
pub(crate) mod yield_fn;
