//! Runtime support for the code `scope!` and `defer!` generate: catching a
//! panic, merging an exit's result into the block's, and drop guards.
//!
//! Generated code never calls a method on the scope's result (its error type
//! may not be inferred yet at that point): everything here is a free generic
//! function, so inference flows from the block's own `return`s and tail.

#[cfg(feature = "alloc")]
use core::any::Any;
use core::fmt;

#[cfg(feature = "std")]
use crate::outcome::PanicView;
use crate::{Manage, Outcome, ReportKind};

/// A caught panic, carried to the point where it resumes. Uninhabited
/// without `std` (no unwinding to catch).
pub struct Panicked(
    #[cfg(feature = "std")] std::boxed::Box<dyn core::any::Any + Send>,
    #[cfg(not(feature = "std"))] Never,
);

#[cfg(not(feature = "std"))]
#[doc(hidden)]
pub enum Never {}

impl Panicked {
    fn outcome(&self) -> Outcome<'_> {
        #[cfg(feature = "std")]
        {
            Outcome::Panic(PanicView::new(Some(&*self.0)))
        }
        #[cfg(not(feature = "std"))]
        match self.0 {}
    }

    fn resume(self) -> ! {
        #[cfg(feature = "std")]
        {
            std::panic::resume_unwind(self.0)
        }
        #[cfg(not(feature = "std"))]
        match self.0 {}
    }
}

impl fmt::Debug for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome() {
            Outcome::Panic(view) => write!(f, "panic: {view:?}"),
            _ => f.write_str("panic"),
        }
    }
}

/// Runs `f`, catching a panic (with `std`).
#[inline]
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panicked> {
    #[cfg(feature = "std")]
    {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(Panicked)
    }
    #[cfg(not(feature = "std"))]
    {
        Ok(f())
    }
}

/// The outcome of a level's body, as its exits see it.
#[inline]
pub fn outcome_of<T, E: fmt::Debug + Sync + 'static>(body: &Result<Result<T, E>, Panicked>) -> Outcome<'_> {
    match body {
        Ok(Ok(_)) => Outcome::Ok,
        Ok(Err(e)) => Outcome::err(e),
        Err(p) => p.outcome(),
    }
}

/// Merges what a cleanup (exit or defer) did into the body's result, by the
/// primary/suppressed rule: the first failure wins, later ones are attached
/// (or reported), a panic resumes after the cleanup ran.
#[inline]
pub fn settle<T, E: fmt::Debug + 'static>(
    body: Result<Result<T, E>, Panicked>,
    cleanup: Result<Result<(), E>, Panicked>,
) -> Result<T, E> {
    match (body, cleanup) {
        (Ok(result), Ok(Ok(()))) => result,
        (Ok(Ok(_value)), Ok(Err(later))) => Err(later),
        (Ok(Err(mut primary)), Ok(Err(later))) => {
            attach_or_report(&mut primary, later);
            Err(primary)
        }
        (Err(panic), Ok(Ok(()))) => panic.resume(),
        (Err(panic), Ok(Err(later))) => {
            crate::report(ReportKind::FailedWhileUnwinding, &later);
            panic.resume()
        }
        (Err(panic), Err(later_panic)) => {
            crate::report(ReportKind::FailedWhileUnwinding, &later_panic);
            panic.resume()
        }
        (Ok(result), Err(later_panic)) => {
            if let Err(primary) = result {
                crate::report(ReportKind::ReplacedByPanic, &primary);
            }
            later_panic.resume()
        }
    }
}

/// Attaches `later` to `primary` as suppressed when the error type can hold
/// it (`managed::Error`), else sends it to the error hook. A `TypeId` check
/// that the optimiser resolves per `E`: choosing by trait would need
/// specialization.
pub fn attach_or_report<E: fmt::Debug + 'static>(primary: &mut E, later: E) {
    #[cfg(feature = "alloc")]
    {
        if let Some(p) = (primary as &mut dyn Any).downcast_mut::<crate::Error>() {
            let mut later = Some(later);
            if let Some(l) = (&mut later as &mut dyn Any).downcast_mut::<Option<crate::Error>>().and_then(Option::take)
            {
                p.push_suppressed(l);
            }
            return;
        }
    }
    #[cfg(not(feature = "alloc"))]
    let _ = primary;
    crate::report(ReportKind::SuppressedNotAttached, &later);
}

/// Exits `manager` after its level's body ended and merges the result.
#[inline]
pub fn exit_level<M, T, E>(manager: M, body: Result<Result<T, E>, Panicked>) -> Result<T, E>
where
    M: Manage,
    E: From<M::Error> + fmt::Debug + Sync + 'static,
{
    let exited = {
        let outcome = outcome_of(&body);
        catch(|| manager.exit(&outcome).map_err(E::from))
    };
    settle(body, exited)
}

/// Like [`exit_level`] for a `with!` whose enter may have failed without
/// leaving the scope (no `?` after it): only an entered manager is exited.
#[inline]
pub fn exit_level_if_entered<M, T, E>(entered: bool, manager: M, body: Result<Result<T, E>, Panicked>) -> Result<T, E>
where
    M: Manage,
    E: From<M::Error> + fmt::Debug + Sync + 'static,
{
    if entered {
        exit_level(manager, body)
    } else {
        drop(manager);
        settle(body, Ok(Ok(())))
    }
}

/// Enters `manager`, recording whether it succeeded (for `with!` without `?`).
#[inline]
pub fn enter_tracked<'m, M: Manage>(manager: &'m mut M, entered: &mut bool) -> Result<&'m mut M::Target, M::Error> {
    let target = manager.enter();
    *entered = target.is_ok();
    target
}

/// Which outcomes a `defer!` runs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// `defer! { .. }` and `defer!(|outcome| ..)`.
    Always,
    /// `defer!(ok => ..)`.
    Ok,
    /// `defer!(err => ..)`: an error or a panic.
    Err,
    /// `defer!(panic => ..)`.
    Panic,
}

impl When {
    /// Whether a defer with this filter runs for `outcome`.
    #[inline]
    pub fn matches(self, outcome: &Outcome<'_>) -> bool {
        match self {
            When::Always => true,
            When::Ok => outcome.is_ok(),
            When::Err => outcome.is_failure(),
            When::Panic => outcome.is_panic(),
        }
    }
}

/// Runs a `defer!` of a scope after its level's body ended (so the defer may
/// borrow what the body borrowed) and merges a panic of the defer.
#[inline]
pub fn defer_level<T, E: fmt::Debug + Sync + 'static>(
    body: Result<Result<T, E>, Panicked>,
    when: When,
    deferred: impl FnOnce(&Outcome<'_>),
) -> Result<T, E> {
    let ran = {
        let outcome = outcome_of(&body);
        if when.matches(&outcome) {
            catch(|| deferred(&outcome)).map(Ok)
        } else {
            Ok(Ok(()))
        }
    };
    settle(body, ran)
}

/// Runs an exit where nobody can receive its error (a dropped guard or
/// stack) and reports a failure or panic through the error hook.
pub fn run_exit_reporting<M: Manage>(manager: M, outcome: &Outcome<'_>, kind: ReportKind) {
    match catch(|| manager.exit(outcome)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => crate::report(kind, &e),
        Err(panic) => crate::report(kind, &panic),
    }
}

/// The guard `defer! { .. }` expands to outside `scope!`: runs once, when
/// dropped (at the end of the enclosing block, also while unwinding).
#[must_use = "a defer guard runs when dropped; bind it"]
pub struct Defer<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Defer<F> {
    /// Arms the guard.
    #[inline]
    pub fn new(f: F) -> Self {
        Defer(Some(f))
    }
}

impl<F: FnOnce()> Drop for Defer<F> {
    #[inline]
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// The guard `defer!(panic => ..)` expands to outside `scope!`: runs only if
/// the block is unwinding. A panic of the deferred code is caught and
/// reported (a second panic escaping a drop during unwinding would abort).
#[cfg(feature = "std")]
#[must_use = "a defer guard runs when dropped; bind it"]
pub struct DeferOnPanic<F: FnOnce()>(Option<F>);

#[cfg(feature = "std")]
impl<F: FnOnce()> DeferOnPanic<F> {
    /// Arms the guard.
    #[inline]
    pub fn new(f: F) -> Self {
        DeferOnPanic(Some(f))
    }
}

#[cfg(feature = "std")]
impl<F: FnOnce()> Drop for DeferOnPanic<F> {
    #[inline]
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            if std::thread::panicking() {
                if let Err(panic) = catch(f) {
                    crate::report(ReportKind::FailedWhileUnwinding, &panic);
                }
            }
        }
    }
}

/// The outcome a caught panic shows to the exits that run after it (for
/// `ExitStack`, whose close loop lives outside this module).
#[cfg(feature = "alloc")]
pub(crate) fn panicked_outcome(panic: &Panicked) -> Outcome<'_> {
    panic.outcome()
}

/// Resumes a caught panic with its original payload (for `ExitStack`).
#[cfg(feature = "alloc")]
pub(crate) fn resume_panicked(panic: Panicked) -> ! {
    panic.resume()
}
