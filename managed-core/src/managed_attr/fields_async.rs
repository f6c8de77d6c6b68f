//! Runtime of the async `#[managed]` struct (one with `#[managed(async)]`
//! fields): the async counterparts of [`crate::managed_attr::fields`]'s enter and exit
//! steps, and what a cancelled enter or exit does to the fields already
//! entered.
//!
//! The generated code writes the steps out in place (an `async fn` body)
//! rather than passing closures, because a closure whose future borrows its
//! argument cannot be named on stable Rust.
//!
//! A struct's `enter` / `exit` hook may be an `async fn`
//! (`#[managed(enter = async path)]`): [`async_hook`] awaits it, and
//! [`cancel_hook_async`] is what a cancelled struct does with it (one poll
//! in place, as the default [`AsyncManage::exit_cancelled`]).

use core::fmt;
use core::future::Future;

use crate::managed_attr::fields::{Exits, Slot, ViaField};
use crate::scope::asynchronous::catch_async;
use crate::scope::convert::{Convert, ErrorOf};
use crate::scope::rules::{catch, run_exit_reporting, settle, Panicked};
use crate::{AsyncManage, Manage, Outcome, ReportKind};

/// A `#[managed(async)]` field's manager when its type is a type parameter
/// of the struct: an async manager whose error converts into the struct's
/// error type `E` (see `fields::ManagedField`; a field of any other type
/// is checked with [`AsyncFieldManager`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[managed(async)]` field of a struct whose error type is `{E}`",
    label = "a `#[managed(async)]` field is entered and exited (awaited) with its struct",
    note = "a `#[managed(async)]` field must be an async manager: implement `managed::AsyncManage`, e.g. with \
            `#[managed]` on its `impl` block and `async fn` `#[enter]`/`#[exit]` methods; a sync manager is \
            marked `#[managed]` (without `async`)",
    note = "and its error type must convert into `{E}` (`From`); choose the struct's error type with \
            `#[managed(error = Type)]`"
)]
pub trait AsyncManagedField<E>: AsyncManage {
    /// Converts the field's error into the struct's.
    fn convert(error: Self::Error) -> E;
}

impl<M: AsyncManage, E: From<M::Error>> AsyncManagedField<E> for M {
    #[inline]
    fn convert(error: M::Error) -> E {
        E::from(error)
    }
}

/// The kind of an async field's [`ViaField`]: its conversion is
/// `M::convert` by the field's [`AsyncManagedField`] bound.
pub enum AsyncField {}

impl<M: AsyncManagedField<E>, E> Convert<<M as AsyncManage>::Error, E> for ViaField<M, AsyncField> {
    #[inline]
    fn convert(self, error: <M as AsyncManage>::Error) -> E {
        M::convert(error)
    }
}

/// A `#[managed(async)]` field whose type is not a type parameter: an async
/// manager (its error's conversion is checked where it is entered and
/// exited).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[managed(async)]` field of a struct whose error type is `{E}`",
    label = "a `#[managed(async)]` field is entered and exited (awaited) with its struct",
    note = "a `#[managed(async)]` field must be an async manager: implement `managed::AsyncManage`, e.g. with \
            `#[managed]` on its `impl` block and `async fn` `#[enter]`/`#[exit]` methods; a sync manager is \
            marked `#[managed]` (without `async`)"
)]
pub trait AsyncFieldManager<E>: AsyncManage {}

impl<M: AsyncManage, E> AsyncFieldManager<E> for M {}

/// Compile-time check that `M` can be a `#[managed(async)]` field (the error
/// points at the field's type).
#[inline]
pub fn async_managed_field<E, M: AsyncFieldManager<E>>() {}

/// The error type of a `#[managed(async)]` field's manager `M`, to choose
/// its conversion (see `crate::scope::convert`).
#[inline]
pub fn async_field_error<E, M: AsyncFieldManager<E>>() -> ErrorOf<M::Error> {
    ErrorOf::new()
}

/// Enters the async manager of `slot` (unless it was exited already) and
/// records that it entered.
///
/// # Errors
/// The manager's enter error, converted with `conversion`.
#[inline]
pub async fn enter_slot_async<E, M, C>(slot: &mut Slot<M>, conversion: C) -> Result<(), E>
where
    M: AsyncFieldManager<E>,
    C: Convert<M::Error, E>,
{
    let Some(m) = &mut slot.manager else { return Ok(()) };
    m.enter().await.map_err(|e| conversion.convert(e))?;
    slot.entered = true;
    Ok(())
}

impl<E: fmt::Debug + Sync + 'static> Exits<'_, E> {
    /// Exits (awaits) the async manager of `slot` if it was entered, seeing
    /// the outcome [`Exits::step`] describes.
    pub async fn exit_slot_async<M, C>(&mut self, slot: &mut Slot<M>, conversion: C)
    where
        M: AsyncFieldManager<E>,
        C: Convert<M::Error, E>,
    {
        if !core::mem::replace(&mut slot.entered, false) {
            return;
        }
        let Some(m) = slot.manager.take() else { return };
        let unwinding = self.outer.is_panic();
        let ran = {
            let outcome = self.step_outcome();
            catch_async(m.exit(&outcome)).await.map(|r| r.map_err(|e| conversion.convert(e)))
        };
        self.record(ran, unwinding);
    }
}

/// Cancels an entered async field: its `exit_cancelled` runs (a panic is
/// reported, the older fields must still get theirs).
#[inline]
pub fn cancel_slot_async<M: AsyncManage>(slot: &mut Slot<M>) {
    if !core::mem::replace(&mut slot.entered, false) {
        return;
    }
    if let Some(m) = slot.manager.take() {
        if let Err(panic) = catch(move || m.exit_cancelled()) {
            crate::report(ReportKind::Cancelled, &panic);
        }
    }
}

/// Cancels an entered sync field: its exit runs with
/// [`Outcome::Cancelled`], a failure is reported.
#[inline]
pub fn cancel_slot<M: Manage>(slot: &mut Slot<M>) {
    if !core::mem::replace(&mut slot.entered, false) {
        return;
    }
    if let Some(m) = slot.manager.take() {
        run_exit_reporting(m, &Outcome::Cancelled, ReportKind::Cancelled);
    }
}

/// Runs a struct's exit hook on cancellation: with
/// [`Outcome::Cancelled`], its failure or panic reported.
#[inline]
pub fn cancel_hook<E: fmt::Debug>(hook: impl FnOnce(&Outcome<'_>) -> Result<(), E>) {
    match catch(|| hook(&Outcome::Cancelled)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => crate::report(ReportKind::Cancelled, &e),
        Err(panic) => crate::report(ReportKind::Cancelled, &panic),
    }
}

/// Holds a struct while its async enter or exit runs: dropped before
/// [`CancelOnDrop::defuse`] (the future was dropped mid-way, or a step
/// panicked), it cancels the fields still entered, newest first.
pub struct CancelOnDrop<'a, S: ?Sized, C: FnMut(&mut S)> {
    this: &'a mut S,
    cancel: Option<C>,
}

impl<'a, S: ?Sized, C: FnMut(&mut S)> CancelOnDrop<'a, S, C> {
    /// Guards `this`; `cancel` cancels its entered fields.
    #[inline]
    pub fn new(this: &'a mut S, cancel: C) -> Self {
        CancelOnDrop { this, cancel: Some(cancel) }
    }

    /// The struct finished entering: its fields stay entered.
    #[inline]
    pub fn defuse(mut self) {
        self.cancel = None;
    }
}

impl<S: ?Sized, C: FnMut(&mut S)> core::ops::Deref for CancelOnDrop<'_, S, C> {
    type Target = S;

    #[inline]
    fn deref(&self) -> &S {
        self.this
    }
}

impl<S: ?Sized, C: FnMut(&mut S)> core::ops::DerefMut for CancelOnDrop<'_, S, C> {
    #[inline]
    fn deref_mut(&mut self) -> &mut S {
        self.this
    }
}

impl<S: ?Sized, C: FnMut(&mut S)> Drop for CancelOnDrop<'_, S, C> {
    fn drop(&mut self) {
        if let Some(mut cancel) = self.cancel.take() {
            cancel(self.this);
        }
    }
}

impl<S: ?Sized, C: FnMut(&mut S)> fmt::Debug for CancelOnDrop<'_, S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelOnDrop").field("armed", &self.cancel.is_some()).finish_non_exhaustive()
    }
}

/// What calling an `async` hook of a struct gives: a future whose output is
/// `()` or `Result<(), E2>` with the struct's error type `E: From<E2>`.
#[diagnostic::on_unimplemented(
    message = "a hook marked `async` must be an `async fn` returning `()` or `Result<(), E>` with `{E}: From<E>`; \
               calling it gave `{Self}`",
    label = "marked `async`: calling it must give a future",
    note = "`enter = async path` names an `async fn(&mut Self)`, `exit = async path` an \
            `async fn(&mut Self, &Outcome<'_>)`; each returns `()` or `Result<(), E>`",
    note = "for a sync `fn`, drop `async`: write `enter = path` / `exit = path`"
)]
pub trait AsyncHook<E>: Future + Sized {
    /// The hook's output as a `Result` of the struct's error type.
    ///
    /// # Errors
    /// The hook's error, converted.
    fn into_result(output: Self::Output) -> Result<(), E>;
}

impl<E, F: Future> AsyncHook<E> for F
where
    F::Output: AsyncHookOutput<E>,
{
    #[inline]
    fn into_result(output: F::Output) -> Result<(), E> {
        output.into_result()
    }
}

/// What an `async` hook of a struct may return: `()` or `Result<(), E2>`
/// with the struct's error type `E: From<E2>` (the async twin of
/// [`Fallible`](crate::managed_attr::returns::Fallible), with its own message).
#[diagnostic::on_unimplemented(
    message = "an `async` hook must return `()` or `Result<(), E>` with `{E}: From<E>`, not `{Self}`",
    label = "the struct's error type is `{E}`"
)]
pub trait AsyncHookOutput<E> {
    /// As a `Result` of the struct's error type.
    ///
    /// # Errors
    /// The hook's error, converted.
    fn into_result(self) -> Result<(), E>;
}

impl<E> AsyncHookOutput<E> for () {
    #[inline]
    fn into_result(self) -> Result<(), E> {
        Ok(())
    }
}

impl<E, E2> AsyncHookOutput<E> for Result<(), E2>
where
    E: From<E2>,
{
    #[inline]
    fn into_result(self) -> Result<(), E> {
        self.map_err(E::from)
    }
}

/// Awaits the future of an async hook and converts what it returns.
///
/// # Errors
/// The hook's error, converted.
#[inline]
pub async fn async_hook<E, F: AsyncHook<E>>(hook: F) -> Result<(), E> {
    F::into_result(hook.await)
}

/// Runs a struct's async exit hook on cancellation, as the default
/// [`AsyncManage::exit_cancelled`] runs an exit: `hook` is the future of
/// the hook called with [`Outcome::Cancelled`]; it is polled once, in place,
/// with a no-op waker and inside `catch_unwind`. An error, a panic, or a
/// hook that did not finish in that poll (the rest of it is dropped) is
/// reported with [`ReportKind::Cancelled`]; `S` is the struct, named in
/// the report.
pub fn cancel_hook_async<S: ?Sized, E: fmt::Debug, F: AsyncHook<E>>(hook: F) {
    // The unfinished future is dropped inside the catch too: its drop glue
    // is user code that may panic.
    let polled = catch(move || {
        let hook = core::pin::pin!(async_hook::<E, F>(hook));
        hook.poll(&mut core::task::Context::from_waker(core::task::Waker::noop()))
    });
    match polled {
        Ok(core::task::Poll::Ready(Ok(()))) => {}
        Ok(core::task::Poll::Ready(Err(e))) => crate::report(ReportKind::Cancelled, &e),
        Ok(core::task::Poll::Pending) => {
            crate::report(ReportKind::Cancelled, &crate::hook::UnfinishedExitHook(core::any::type_name::<S>()));
        }
        Err(panic) => crate::report(ReportKind::Cancelled, &panic),
    }
}

/// The exits of an async struct's `exit`, or of the rollback of its
/// `enter`: [`Exits`] (reached through `Deref`), which reports, when it is
/// dropped unfinished (the struct's future was dropped mid-way), the
/// failure it carried: the error or panic of an exit step or of the enter,
/// which the struct alone knew. (The outcome the struct exits with is its
/// caller's to report.)
pub struct AsyncExits<'o, E: fmt::Debug> {
    exits: Exits<'o, E>,
}

impl<'o, E: fmt::Debug + Sync + 'static> AsyncExits<'o, E> {
    /// Exits run for a block that ended with `outer`.
    #[inline]
    pub fn new(outer: Outcome<'o>) -> Self {
        AsyncExits { exits: Exits::new(outer) }
    }

    /// After a struct's enter: `None` when it entered, else the exits that
    /// roll it back, with its failure already primary.
    #[inline]
    pub fn after_enter(entered: Result<Result<(), E>, Panicked>) -> Option<Self> {
        if matches!(entered, Ok(Ok(()))) {
            None
        } else {
            Some(AsyncExits { exits: Exits { outer: Outcome::Ok, so_far: entered } })
        }
    }

    /// Whether the block is unwinding: pass it to
    /// [`record_hook`](AsyncExits::record_hook) with what the hook did.
    #[inline]
    pub fn unwinding(&self) -> bool {
        self.exits.outer.is_panic()
    }

    /// The outcome an async exit hook sees (as [`Exits::step`]'s).
    #[inline]
    pub fn hook_outcome(&self) -> Outcome<'_> {
        self.exits.step_outcome()
    }

    /// Folds what the async exit hook did into the result so far (as
    /// [`Exits::step`] does).
    #[inline]
    pub fn record_hook(&mut self, ran: Result<Result<(), E>, Panicked>, unwinding: bool) {
        self.exits.record(ran, unwinding);
    }

    /// The merged result of every step; resumes a panic of a step.
    ///
    /// # Errors
    /// The first step's error, later ones attached.
    #[inline]
    pub fn finish(mut self) -> Result<(), E> {
        settle(core::mem::replace(&mut self.exits.so_far, Ok(Ok(()))), Ok(Ok(())))
    }
}

impl<'o, E: fmt::Debug> core::ops::Deref for AsyncExits<'o, E> {
    type Target = Exits<'o, E>;

    #[inline]
    fn deref(&self) -> &Exits<'o, E> {
        &self.exits
    }
}

impl<'o, E: fmt::Debug> core::ops::DerefMut for AsyncExits<'o, E> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Exits<'o, E> {
        &mut self.exits
    }
}

impl<E: fmt::Debug> fmt::Debug for AsyncExits<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncExits").field("failed", &!matches!(self.exits.so_far, Ok(Ok(())))).finish()
    }
}
