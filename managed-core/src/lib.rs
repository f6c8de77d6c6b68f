//! Runtime of the [`managed`](https://docs.rs/managed) crate. Depend on
//! `managed` instead: it re-exports everything here, and the code its macros
//! generate names only `::managed::__private`.
#![warn(missing_docs)]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "async")]
pub mod async_manage;
#[cfg(feature = "async")]
#[doc(hidden)]
pub mod async_support;
#[doc(hidden)]
pub mod compose;
#[cfg(feature = "async")]
#[doc(hidden)]
pub mod compose_async;
pub mod contextlib;
#[doc(hidden)]
pub mod convert;
#[cfg(all(feature = "alloc", feature = "async"))]
#[doc(hidden)]
pub mod coroutine;
#[cfg(feature = "alloc")]
pub mod error;
#[cfg(feature = "alloc")]
pub mod exit_stack;
#[cfg(all(feature = "alloc", feature = "async"))]
pub mod exit_stack_async;
#[cfg(all(feature = "std", feature = "async"))]
pub mod exit_stack_send;
pub mod hook;
#[cfg(feature = "std")]
pub mod integrations;
pub mod manage;
pub mod outcome;
#[doc(hidden)]
pub mod scope_support;
#[cfg(feature = "alloc")]
pub mod stream;

#[cfg(feature = "async")]
pub use async_manage::{AsyncManage, SendAsyncManage};
pub use compose::Slot;
#[cfg(feature = "std")]
pub use contextlib::timed;
pub use contextlib::{closing, nullcontext, suppress, Close};
#[cfg(feature = "alloc")]
pub use error::Error;
#[cfg(feature = "alloc")]
pub use exit_stack::ExitStack;
#[cfg(all(feature = "alloc", feature = "async"))]
pub use exit_stack_async::AsyncExitStack;
#[cfg(all(feature = "std", feature = "async"))]
pub use exit_stack_send::SendAsyncExitStack;
#[cfg(feature = "std")]
pub use hook::{default_error_hook, set_error_hook};
pub use hook::{report, ErrorHook, Report, ReportKind};
pub use manage::{Guard, Manage};
pub use outcome::Outcome;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(not(feature = "alloc"))]
mod error {
    pub(crate) fn look_inside<T: 'static>(_: &dyn core::any::Any) -> Option<&T> {
        None
    }
}

#[cfg(feature = "std")]
mod std_impls;
#[cfg(all(test, feature = "std"))]
mod test_support;

/// What the span macros of `managed::tracing` expand to names `tracing` through this path.
#[cfg(feature = "tracing")]
#[doc(hidden)]
pub use tracing as __tracing;
#[cfg(feature = "testing")]
pub mod testing;
