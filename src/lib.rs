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

pub use managed_core::Slot;
pub use managed_macros::{defer, scope, with};
pub use managed_macros::{managed, yield_};

/// The names most code needs: `use managed::prelude::*;`.
pub mod prelude {
    pub use crate::{defer, scope, with, Manage, Outcome};
    pub use crate::{managed, yield_};
}

/// Support for the code the macros generate. Not public API: no stability
/// promise, may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use core::convert::From;
    pub use core::convert::Infallible;
    pub use core::ops::FnOnce;
    pub use core::result::Result::{self, Err, Ok};
    pub use managed_core::compose::*;
    pub use managed_core::scope_support::*;
    #[cfg(feature = "alloc")]
    pub use managed_core::Error;
    pub use managed_core::{Manage, Outcome};
}
