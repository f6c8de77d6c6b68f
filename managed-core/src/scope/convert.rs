//! How a manager's error becomes the error of the scope (or `#[managed]`
//! struct) it is entered in: with `From`, or, for a manager that cannot
//! fail (its `Error` is [`Infallible`]), with no conversion at all. So a
//! manager that cannot fail (`timed`, `nullcontext`, an infallible
//! `#[managed]` impl) is entered in a scope of any error type, also
//! `std::io::Error` or a user's error enum, neither of which has
//! `From<Infallible>`.
//!
//! The choice is made where the generated code has the manager (or its
//! error) in hand, by method lookup on [`ErrorOf<X>`] (autoref
//! specialization, as anyhow's `anyhow!` and this crate's
//! `asynchronous::AsyncKind`):
//!
//! ```text
//! #[allow(unused_imports)] use __private::{CannotFailKind as _, ViaFromKind as _};
//! let conversion = (&__private::manager_error(&manager)).__managed_error_kind();
//! ```
//!
//! lookup tries the receiver `&ErrorOf<X>` first, where [`CannotFailKind`]
//! applies when `X` is `Infallible`; otherwise it autorefs and finds
//! [`ViaFromKind`] on `&ErrorOf<X>`. The tag it returns ([`CannotFail`] or
//! [`ViaFrom`]) is handed to the runtime's generic functions, which are
//! bound on [`Convert<X, E>`] instead of `E: From<X>`.
//!
//! Keyed on the *manager's* error type, which is known where the scope
//! names the manager (DESIGN section 3 rules out such tricks keyed on the
//! scope's error type, which is often inferred later). In generic code
//! (`fn f<M: Manage>`) `M::Error` is not `Infallible`, so the `From` path
//! is taken and the caller's `E: From<M::Error>` bound is what it needs. A
//! manager whose own error type is still an inference variable at that
//! point would be taken for one that cannot fail; the type error that
//! follows names both types.

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;

use crate::scope::rules::Panicked;
use crate::Manage;

/// The error type `X` of a manager, as a value to look methods up on (see
/// the module docs).
pub struct ErrorOf<X>(PhantomData<fn() -> X>);

impl<X> ErrorOf<X> {
    pub(crate) const fn new() -> Self {
        ErrorOf(PhantomData)
    }
}

impl<X> fmt::Debug for ErrorOf<X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorOf<{}>", core::any::type_name::<X>())
    }
}

/// The error type of `manager`.
#[inline]
pub fn manager_error<M: Manage>(_manager: &M) -> ErrorOf<M::Error> {
    ErrorOf(PhantomData)
}

/// The type of `error`: an enter's error, in the `Err` arm of the `?` the
/// scope rewrote.
#[inline]
pub fn error_of<X>(_error: &X) -> ErrorOf<X> {
    ErrorOf(PhantomData)
}

/// The error type of an exit's result (the async scope's `exit_async`).
#[inline]
pub fn exit_error<X>(_exited: &Result<Result<(), X>, Panicked>) -> ErrorOf<X> {
    ErrorOf(PhantomData)
}

/// The conversion of a manager that cannot fail: there is no error to
/// convert, so it fits a scope of any error type.
#[derive(Clone, Copy, Debug)]
pub struct CannotFail;

/// The conversion of any other manager: `From`.
#[derive(Clone, Copy, Debug)]
pub struct ViaFrom;

/// Chooses [`CannotFail`] for a manager whose error is `Infallible` (found
/// first, on the receiver `&ErrorOf<Infallible>`).
pub trait CannotFailKind {
    /// The tag choosing no conversion.
    #[inline]
    fn __managed_error_kind(&self) -> CannotFail {
        CannotFail
    }
}

impl CannotFailKind for ErrorOf<Infallible> {}

/// The fallback of [`CannotFailKind`]: [`ViaFrom`] (found after autoref,
/// on `&&ErrorOf<X>`).
pub trait ViaFromKind {
    /// The tag choosing `From`.
    #[inline]
    fn __managed_error_kind(&self) -> ViaFrom {
        ViaFrom
    }
}

impl<X> ViaFromKind for &ErrorOf<X> {}

/// Converts a manager's error `X` into the error `E` of its scope or
/// struct; implemented by the tags [`CannotFail`] (`X = Infallible`, any
/// `E`) and [`ViaFrom`] (`E: From<X>`).
#[diagnostic::on_unimplemented(
    message = "the manager's error `{X}` does not convert into the error type `{E}`",
    label = "`{E}` has no `From<{X}>`",
    note = "a manager's enter and exit errors become the error of the `scope!` (or `#[managed]` struct) that \
            enters it, with `From`: implement `From<{X}>` for `{E}`, map the error at the `with!` \
            (`with!(m).map_err(..)?`, then the exit's error still needs `From`), or use `managed::Error`, which \
            converts from every error"
)]
pub trait Convert<X, E>: Copy {
    /// `error` as an `E`.
    fn convert(self, error: X) -> E;
}

impl<E> Convert<Infallible, E> for CannotFail {
    #[inline]
    fn convert(self, error: Infallible) -> E {
        match error {}
    }
}

#[diagnostic::do_not_recommend]
impl<X, E: From<X>> Convert<X, E> for ViaFrom {
    #[inline]
    fn convert(self, error: X) -> E {
        E::from(error)
    }
}
