//! Deterministic, outcome-aware resource management (crate docs: see README; filled in below).
#![warn(missing_docs)]
#![no_std]

extern crate self as managed;
#[cfg(feature = "std")]
extern crate std;

pub use managed_core::contextlib;
#[cfg(feature = "alloc")]
pub use managed_core::exit_stack;
pub use managed_core::outcome;
#[cfg(feature = "std")]
pub use managed_core::timed;
#[cfg(feature = "alloc")]
pub use managed_core::Error;
#[cfg(feature = "alloc")]
pub use managed_core::ExitStack;
pub use managed_core::{closing, nullcontext, suppress, Close};
#[cfg(feature = "std")]
pub use managed_core::{default_error_hook, set_error_hook};
pub use managed_core::{report, ErrorHook, Guard, Manage, Outcome, Report, ReportKind};

pub use managed_macros::{defer, scope, with};

/// The names most code needs: `use managed::prelude::*;`.
pub mod prelude {
    pub use crate::{defer, scope, with, Manage, Outcome};

    #[cfg(feature = "alloc")]
    pub use crate::ExitStack;
}

/// Support for the code the macros generate. Not public API: no stability
/// promise, may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use core::convert::From;
    pub use core::result::Result::{self, Err, Ok};
    pub use managed_core::scope_support::*;
    pub use managed_core::{Manage, Outcome};
}
