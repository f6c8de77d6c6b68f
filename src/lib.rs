//! Deterministic, outcome-aware resource management (crate docs: see README; filled in below).
#![warn(missing_docs)]
#![no_std]

extern crate self as managed;
#[cfg(feature = "std")]
extern crate std;

pub use managed_core::outcome;
#[cfg(feature = "alloc")]
pub use managed_core::Error;
#[cfg(feature = "std")]
pub use managed_core::{default_error_hook, set_error_hook};
pub use managed_core::{report, ErrorHook, Guard, Manage, Outcome, Report, ReportKind};

pub use managed_macros::{defer, scope, with};
#[cfg(feature = "async")]
pub use managed_core::{AsyncManage, SendAsyncManage};
#[cfg(feature = "tokio")]
pub use managed_core::tokio;

/// The names most code needs: `use managed::prelude::*;`.
pub mod prelude {
    pub use crate::{defer, scope, with, Manage, Outcome};
    #[cfg(feature = "async")]
    pub use crate::AsyncManage;
}

/// Support for the code the macros generate. Not public API: no stability
/// promise, may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use core::convert::From;
    pub use core::result::Result::{self, Err, Ok};
    pub use managed_core::scope_support::*;
    #[cfg(feature = "async")]
    pub use managed_core::async_support::*;
    pub use managed_core::{Manage, Outcome};
}
