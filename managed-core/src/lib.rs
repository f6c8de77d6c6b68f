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
pub mod contextlib;
#[cfg(feature = "alloc")]
pub mod error;
#[cfg(feature = "alloc")]
pub mod exit_stack;
pub mod hook;
#[cfg(feature = "std")]
pub mod integrations;
pub mod manage;
#[doc(hidden)]
pub mod managed_attr;
pub mod outcome;
#[doc(hidden)]
pub mod scope;
#[cfg(all(feature = "alloc", feature = "async"))]
pub use exit_stack::async_core as exit_stack_async;
#[cfg(all(feature = "std", feature = "async"))]
pub use exit_stack::send as exit_stack_send;
#[doc(hidden)]
#[cfg(all(feature = "alloc", feature = "async"))]
pub use managed_attr::coroutine;
#[doc(hidden)]
pub use managed_attr::fields as compose;
#[doc(hidden)]
#[cfg(feature = "async")]
pub use managed_attr::fields_async as compose_async;
#[doc(hidden)]
#[cfg(feature = "async")]
pub use scope::asynchronous as async_support;
#[doc(hidden)]
pub use scope::convert;
#[doc(hidden)]
pub use scope::rules as scope_support;
#[cfg(feature = "alloc")]
pub mod stream;

#[cfg(feature = "async")]
pub use async_manage::{AsyncManage, SendAsyncManage};
#[cfg(feature = "std")]
pub use contextlib::timed;
pub use contextlib::{closing, nullcontext, suppress, Close};
#[cfg(feature = "alloc")]
pub use error::Error;
#[cfg(all(feature = "alloc", feature = "async"))]
pub use exit_stack::async_core::AsyncExitStack;
#[cfg(all(feature = "std", feature = "async"))]
pub use exit_stack::send::SendAsyncExitStack;
#[cfg(feature = "alloc")]
pub use exit_stack::ExitStack;
#[cfg(feature = "std")]
pub use hook::{default_error_hook, set_error_hook};
pub use hook::{report, ErrorHook, Report, ReportKind};
pub use manage::{Guard, Manage};
pub use managed_attr::fields::Slot;
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
