//! The runtime of the [`managed`](https://docs.rs/managed) crate.
//!
//! **Depend on `managed`, not on this crate.** `managed` re-exports the API
//! defined here (its documentation is the reference), its macros generate
//! code that names only `managed::__private`, and this crate's layout may
//! change in any release. Built on its own, without the facade, this crate
//! fails to compile with a message that says so.
#![warn(missing_docs)]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Only the facade turns this feature on (with its dependency on this
// crate), so a direct dependency fails here, with the fix, rather than
// later at a path that is not there.
#[cfg(not(feature = "facade"))]
compile_error!(
    "`managed-core` is the runtime of the `managed` crate: depend on `managed` instead \
     (`cargo add managed`), and name its items through `managed::`"
);

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// The API, re-exported by the facade (see ARCHITECTURE.md, "What is public").
pub mod contextlib;
#[cfg(feature = "alloc")]
pub mod exit_stack;
#[cfg(feature = "std")]
pub mod integrations;
pub mod outcome;
#[cfg(feature = "alloc")]
pub mod stream;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "async")]
pub use async_manage::{AsyncManage, SendAsyncManage};
#[cfg(feature = "std")]
pub use contextlib::timed;
pub use contextlib::{closing, nullcontext, suppress, Close};
#[cfg(feature = "alloc")]
pub use error::Error;
#[cfg(all(feature = "alloc", feature = "async"))]
pub use exit_stack::local::AsyncExitStack;
#[cfg(all(feature = "std", feature = "async"))]
pub use exit_stack::send::SendAsyncExitStack;
#[cfg(feature = "alloc")]
pub use exit_stack::sync::ExitStack;
#[cfg(feature = "std")]
pub use hook::{default_error_hook, set_error_hook};
pub use hook::{report, ErrorHook, Report, ReportKind};
pub use manage::{Guard, Manage};
pub use managed_attr::fields::Slot;
pub use outcome::Outcome;

// Modules whose public items are re-exported above.
#[cfg(feature = "async")]
mod async_manage;
#[cfg(feature = "alloc")]
mod error;
mod hook;
mod manage;

// The runtime of the macros: not API. Its functions return what the
// generated code hands back to the user's scope or manager; the errors are
// documented on the macros.
#[allow(clippy::missing_errors_doc, reason = "not API: the macros document the errors")]
mod managed_attr;
#[allow(clippy::missing_errors_doc, reason = "not API: the macros document the errors")]
mod scope;

/// What the code the macros generate names, item by item, re-exported by the
/// facade's `__private`: the functions and types it calls, and the traits
/// and types in their signatures (so that the compiler's messages name them
/// `managed::__private::..`).
#[doc(hidden)]
pub mod __private {
    #[cfg(all(feature = "alloc", feature = "async"))]
    pub use crate::managed_attr::coroutine::{coroutine, enter_failed, AsyncFnManager};
    pub use crate::managed_attr::fields::{
        enter_all, enter_slot, field_error, managed_field, Exits, FieldManager, ManagedField, ViaField,
    };
    #[cfg(feature = "async")]
    pub use crate::managed_attr::fields_async::{
        async_field_error, async_hook, async_managed_field, cancel_hook, cancel_hook_async, cancel_slot,
        cancel_slot_async, enter_slot_async, AsyncExits, AsyncFieldManager, AsyncHook, AsyncHookOutput,
        AsyncManagedField, CancelOnDrop, ViaAsyncField,
    };
    pub use crate::managed_attr::returns::{Fallible, ReturnError, Returns};
    pub use crate::managed_attr::yield_fn::{fn_enter_failed, Captures, EnterFailure, FnManager};
    #[cfg(feature = "async")]
    pub use crate::scope::asynchronous::{
        catch_async, defer_async, defer_sync, enter_async, exit_async, finish, into_entered, merge_exit, AdaptSync,
        AsyncKind, AsyncSlot, SyncInAsync, SyncKind,
    };
    pub use crate::scope::convert::{
        error_of, exit_error, manager_error, CannotFail, CannotFailKind, Convert, ViaFrom, ViaFromKind,
    };
    pub use crate::scope::defer::Defer;
    #[cfg(feature = "std")]
    pub use crate::scope::defer::DeferOnPanic;
    pub use crate::scope::rules::{outcome_of, run_level, Panicked, ScopeError, When};
    pub use crate::scope::sync::{defer_level, enter_tracked, exit_level_if_entered};
}

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
