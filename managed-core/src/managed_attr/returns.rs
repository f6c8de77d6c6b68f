//! What the user's code that `#[managed]` wraps may return: an impl's
//! `#[enter]` / `#[exit]` methods, a struct's hooks, a `yield_!` fn's exit
//! part.

use core::convert::Infallible;

/// What an `#[enter]` / `#[exit]` method of a `#[managed]` impl may return:
/// `()` or `Result<(), E>` with the manager's error type `E`.
#[diagnostic::on_unimplemented(
    message = "an `#[enter]`/`#[exit]` method must return `()` or `Result<(), {E}>`, not `{Self}`",
    label = "the manager's error type is `{E}`",
    note = "`#[managed]` takes the error type from the `#[enter]`/`#[exit]` signatures: when both return \
            `Result<(), E>`, both must use the same `E` (convert inside the method, e.g. `.map_err(..)?`)"
)]
pub trait Returns<E> {
    /// As a `Result`.
    ///
    /// # Errors
    /// The method's error.
    fn into_result(self) -> Result<(), E>;
}

impl<E> Returns<E> for () {
    #[inline]
    fn into_result(self) -> Result<(), E> {
        Ok(())
    }
}

impl<E> Returns<E> for Result<(), E> {
    #[inline]
    fn into_result(self) -> Result<(), E> {
        self
    }
}

/// The error type of what an `#[enter]` / `#[exit]` method returns (for a
/// return type written through an alias, like `io::Result<()>`).
pub trait ReturnError {
    /// `Infallible` for `()`.
    type Error;
}

impl ReturnError for () {
    type Error = Infallible;
}

impl<E> ReturnError for Result<(), E> {
    type Error = E;
}

/// What a struct's `enter` / `exit` hook may return: `()` or
/// `Result<(), E2>` with the struct's error type `From<E2>`.
#[diagnostic::on_unimplemented(
    message = "a `#[managed(enter = ..)]`/`#[managed(exit = ..)]` hook must return `()` or `Result<(), E>` with \
               `{E}: From<E>`, not `{Self}`",
    label = "the struct's error type is `{E}`",
    note = "if the hook is an `async fn`, say so: `enter = async path` / `exit = async path` (the struct then \
            becomes an async manager)"
)]
pub trait Fallible<E> {
    /// As a `Result` of the struct's error type.
    ///
    /// # Errors
    /// The hook's error, converted.
    fn into_result(self) -> Result<(), E>;
}

impl<E> Fallible<E> for () {
    #[inline]
    fn into_result(self) -> Result<(), E> {
        Ok(())
    }
}

impl<E, E2> Fallible<E> for Result<(), E2>
where
    E: From<E2>,
{
    #[inline]
    fn into_result(self) -> Result<(), E> {
        self.map_err(E::from)
    }
}
