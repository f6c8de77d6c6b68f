//! Runtime of a sync `#[managed] fn` with `yield_!`: the manager it returns
//! ([`FnManager`]), what a `return` before `yield_!` becomes, and the
//! `Captures` bound of its return type.

use core::convert::Infallible;
use core::fmt;

use crate::{Manage, Outcome};

/// `return fn_enter_failed(value)`: what a `return value` before the
/// `yield_!` of a `#[managed] fn` becomes. Only an `Err` may leave the code
/// before `yield_!` (it is the enter failure): there is nothing to lend
/// otherwise.
///
/// # Errors
/// Always: the enter's failure.
#[inline]
pub fn fn_enter_failed<R: EnterFailure, T>(value: R) -> Result<T, R::Error> {
    match value.into_error() {
        Ok(never) => match never {},
        Err(e) => Err(e),
    }
}

/// What a `return` before `yield_!` may give, in a sync or an async
/// `#[managed] fn`: `Err(e)`.
#[diagnostic::on_unimplemented(
    message = "a `#[managed] fn` may only `return Err(..)` before `yield_!`, not `{Self}`",
    label = "the code before `yield_!` is the enter: leaving it early is an enter failure",
    note = "to lend a value, give it to `yield_!(value)`; to fail, `return Err(e)` or use `?`"
)]
pub trait EnterFailure: sealed::Sealed {
    /// The fn's error type.
    type Error;
    /// As a `Result` that cannot be `Ok`.
    ///
    /// # Errors
    /// Always: it is the enter's failure.
    fn into_error(self) -> Result<Infallible, Self::Error>;
}

mod sealed {
    /// Only `Result<Infallible, E>` is an enter failure: an impl that
    /// returned `Ok` would pass the macro's check and fail at run time.
    pub trait Sealed {}
    impl<E> Sealed for Result<core::convert::Infallible, E> {}
}

impl<E> EnterFailure for Result<Infallible, E> {
    type Error = E;
    #[inline]
    fn into_error(self) -> Result<Infallible, E> {
        self
    }
}

/// Implemented by every type: `impl Manage<..> + Captures<(&'a (), ..)>`,
/// the return type of a `#[managed] fn`, captures the lifetimes of its
/// arguments this way. (`use<..>` would have to list every type parameter
/// in scope, and the attribute cannot see an enclosing impl's, nor name
/// an `impl Trait` argument's; without `use<..>` the type parameters in
/// scope are captured anyway, and a lifetime named in a bound is too.)
pub trait Captures<T: ?Sized> {}

impl<T: ?Sized, U: ?Sized> Captures<T> for U {}

/// The manager a `#[managed] fn` returns: `enter` runs the code before
/// `yield_!` and keeps what it lends and the locals the rest needs; `exit`
/// runs the code after it.
pub struct FnManager<T, S, F, X> {
    state: FnState<T, S, F>,
    exit: Option<X>,
}

enum FnState<T, S, F> {
    Fresh(F),
    Entered(T, S),
    Done,
}

impl<T, S, F, X> FnManager<T, S, F, X> {
    /// A manager running `enter` then `exit`. The bounds are here so that
    /// the closures' types are inferred from them.
    #[inline]
    pub fn new<E>(enter: F, exit: X) -> Self
    where
        F: FnOnce() -> Result<(T, S), E>,
        X: FnOnce(T, S, &Outcome<'_>) -> Result<(), E>,
    {
        FnManager { state: FnState::Fresh(enter), exit: Some(exit) }
    }
}

impl<T, S, E, F, X> Manage for FnManager<T, S, F, X>
where
    F: FnOnce() -> Result<(T, S), E>,
    X: FnOnce(T, S, &Outcome<'_>) -> Result<(), E>,
    E: fmt::Debug,
{
    type Target = T;
    type Error = E;

    /// # Panics
    /// When entered again after a failed enter: the code before `yield_!`
    /// ran once and is gone. Entering again after a successful enter lends
    /// the same value again.
    fn enter(&mut self) -> Result<&mut T, E> {
        if let FnState::Fresh(_) = self.state {
            let FnState::Fresh(enter) = core::mem::replace(&mut self.state, FnState::Done) else {
                unreachable!("checked just above")
            };
            let (target, state) = enter()?;
            self.state = FnState::Entered(target, state);
        }
        match &mut self.state {
            FnState::Entered(target, _) => Ok(target),
            _ => panic!("a `#[managed] fn` manager whose enter failed cannot be entered again: call the fn again"),
        }
    }

    fn exit(mut self, outcome: &Outcome<'_>) -> Result<(), E> {
        match (core::mem::replace(&mut self.state, FnState::Done), self.exit.take()) {
            (FnState::Entered(target, state), Some(exit)) => exit(target, state, outcome),
            _ => Ok(()),
        }
    }
}

impl<T, S, F, X> fmt::Debug for FnManager<T, S, F, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            FnState::Fresh(_) => "not entered",
            FnState::Entered(..) => "entered",
            FnState::Done => "done",
        };
        f.debug_struct("FnManager").field("state", &state).finish_non_exhaustive()
    }
}
