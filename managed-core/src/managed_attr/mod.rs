//! The runtime of `#[managed]`: struct fields (sync and async) and the
//! managers a `yield_!` fn returns.

#[cfg(all(feature = "alloc", feature = "async"))]
pub mod coroutine;
pub mod fields;
#[cfg(feature = "async")]
pub mod fields_async;
