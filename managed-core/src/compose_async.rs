//! Runtime of the async `#[managed]` struct (one with `#[managed(async)]`
//! fields): the async counterparts of [`crate::compose`]'s enter and exit
//! steps, and what a cancelled enter or exit does to the fields already
//! entered.
//!
//! The generated code writes the steps out in place (an `async fn` body)
//! rather than passing closures, because a closure whose future borrows its
//! argument cannot be named on stable Rust.

use core::fmt;

use crate::async_support::catch_async;
use crate::compose::{Exits, Slot};
use crate::scope_support::{catch, run_exit_reporting, Panicked};
use crate::{AsyncManage, Manage, Outcome, ReportKind};

/// A `#[managed(async)]` field's manager: an async manager whose error
/// converts into the struct's error type `E`.
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

/// Compile-time check that `M` can be a `#[managed(async)]` field (the error
/// points at the field's type).
#[inline]
pub fn async_managed_field<E, M: AsyncManagedField<E>>() {}

/// Enters the async manager of `slot` (unless it was exited already) and
/// records that it entered.
///
/// # Errors
/// The manager's enter error, converted.
#[inline]
pub async fn enter_slot_async<E, M>(slot: &mut Slot<M>) -> Result<(), E>
where
    M: AsyncManagedField<E>,
{
    let Some(m) = &mut slot.manager else { return Ok(()) };
    m.enter().await.map_err(M::convert)?;
    slot.entered = true;
    Ok(())
}

impl<E: fmt::Debug + Sync + 'static> Exits<'_, E> {
    /// After a struct's enter: `None` when it entered, else the exits that
    /// roll it back, with its failure already primary.
    #[inline]
    pub fn after_enter(entered: Result<Result<(), E>, Panicked>) -> Option<Self> {
        if matches!(entered, Ok(Ok(()))) {
            None
        } else {
            Some(Exits { outer: Outcome::Ok, so_far: entered })
        }
    }

    /// Exits (awaits) the async manager of `slot` if it was entered, seeing
    /// the outcome [`Exits::step`] describes.
    pub async fn exit_slot_async<M>(&mut self, slot: &mut Slot<M>)
    where
        M: AsyncManagedField<E>,
    {
        if !core::mem::replace(&mut slot.entered, false) {
            return;
        }
        let Some(m) = slot.manager.take() else { return };
        let unwinding = self.outer.is_panic();
        let ran = {
            let outcome = self.step_outcome();
            catch_async(m.exit(&outcome)).await.map(|r| r.map_err(M::convert))
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
