//! The sync scope's levels: each `with!` or `defer!` of a `scope!` splits
//! its block, and the code after the split point runs as a level whose
//! result the split point's exit or defer sees.
//!
//! Generated code never calls a method on the scope's result (its error type
//! may not be inferred yet at that point): everything here is a free generic
//! function, so inference flows from the block's own `return`s and tail.
//!
//! The functions a level runs on its normal path (`run_level` and `settle`
//! in `rules`, the enter, the exit) are `#[inline(always)]` in builds
//! without debug assertions: with a manager whose enter and exit call code
//! the optimiser cannot see, LLVM judged the level too big and called
//! `exit_level` out of line, passing the body's result through memory, at
//! every level (BENCHMARKS.md, the section 10 rows). Their rare paths are
//! `#[cold]` functions, so forcing the inlining copies only the normal
//! path. Debug builds keep `#[inline]`.

#![allow(clippy::inline_always, reason = "measured, see the module docs")]

use core::fmt;

use super::convert::Convert;
use super::rules::{catch_dyn, run_level, settle, settle_failed_cleanup, Panicked, RunOnce, ScopeError, When};
use crate::{Manage, Outcome, ReportKind};

/// Exits `manager` after its level's body ended and merges the result;
/// `conversion` turns the exit's error into the scope's (`From`, or
/// nothing for a manager that cannot fail: see `crate::scope::convert`).
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn exit_level<M, T, E, C>(manager: M, body: Result<Result<T, E>, Panicked>, conversion: C) -> Result<T, E>
where
    M: Manage,
    C: Convert<M::Error, E>,
    E: ScopeError,
{
    // The panicked body goes to a cold, diverging function: were it merged
    // into the code below, every level would carry a "panicked" flag through
    // the exit and test it again after (BENCHMARKS.md, `scope!` rows).
    let result = match body {
        Ok(result) => result,
        Err(panic) => exit_after_panic::<M, E, C>(manager, panic, conversion),
    };
    let exited = exit_with::<M, E, C>(manager, &outcome_of_result(&result), conversion);
    settle(Ok(result), exited)
}

/// Runs the exit, catching its panic (through [`run_level`], as a level).
/// Apart from [`exit_level`] so that it is instantiated once per manager
/// and error type, not per body type too.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn exit_with<M, E, C>(manager: M, outcome: &Outcome<'_>, conversion: C) -> Result<Result<(), E>, Panicked>
where
    M: Manage,
    C: Convert<M::Error, E>,
{
    run_level(|| manager.exit(outcome).map_err(|e| conversion.convert(e)))
}

/// [`exit_level`] for a body that panicked: exits with the panic as the
/// outcome, reports what the exit did wrong, and resumes the panic (the
/// rules of [`settle`] for a panicked body).
#[cold]
#[inline(never)]
fn exit_after_panic<M, E, C>(manager: M, panic: Panicked, conversion: C) -> !
where
    M: Manage,
    C: Convert<M::Error, E>,
    E: fmt::Debug + 'static,
{
    let exited = exit_with::<M, E, C>(manager, &panic.outcome(), conversion);
    resume_after_cleanup(panic, exited)
}

/// The end of a panicked level: a failed cleanup is reported (the panic
/// stays the outcome), then the panic resumes.
fn resume_after_cleanup<E: fmt::Debug>(panic: Panicked, cleanup: Result<Result<(), E>, Panicked>) -> ! {
    match cleanup {
        Ok(Ok(())) => {}
        Ok(Err(later)) => crate::report(ReportKind::FailedWhileUnwinding, &later),
        Err(later_panic) => crate::report(ReportKind::FailedWhileUnwinding, &later_panic),
    }
    panic.resume()
}

/// The outcome of a body that returned (did not panic).
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn outcome_of_result<T, E: fmt::Debug + Sync + 'static>(result: &Result<T, E>) -> Outcome<'_> {
    match result {
        Ok(_) => Outcome::Ok,
        Err(e) => Outcome::err(e),
    }
}

/// Like `exit_level` for a `with!` whose enter may have failed without
/// leaving the scope (no `?` after it): only an entered manager is exited.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub fn exit_level_if_entered<M, T, E, C>(
    entered: bool,
    manager: M,
    body: Result<Result<T, E>, Panicked>,
    conversion: C,
) -> Result<T, E>
where
    M: Manage,
    C: Convert<M::Error, E>,
    E: ScopeError,
{
    if entered {
        exit_level(manager, body, conversion)
    } else {
        drop(manager);
        settle(body, Ok(Ok(())))
    }
}

/// Enters `manager`, recording whether it succeeded (for `with!` without `?`).
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub fn enter_tracked<'m, M: Manage>(manager: &'m mut M, entered: &mut bool) -> Result<&'m mut M::Target, M::Error> {
    let target = manager.enter();
    *entered = target.is_ok();
    target
}

/// Runs a `defer!` of a scope after its level's body ended (so the defer may
/// borrow what the body borrowed) and merges a panic of the defer.
///
/// The only part generic over the deferred closure is this call: the rest
/// takes it as `&mut dyn Deferred`, so a scope's `defer!` instantiates two
/// small functions, not the whole merge and two panic catchers
/// (BENCHMARKS.md, "Compile time").
#[inline]
pub fn defer_level<T, E: ScopeError>(
    body: Result<Result<T, E>, Panicked>,
    when: When,
    deferred: impl FnOnce(&Outcome<'_>),
) -> Result<T, E> {
    defer_level_dyn(body, when, &mut Some(deferred))
}

/// A deferred closure, called at most once, behind `&mut dyn`.
trait Deferred {
    fn run(&mut self, outcome: &Outcome<'_>);
}

impl<F: FnOnce(&Outcome<'_>)> Deferred for Option<F> {
    #[inline]
    fn run(&mut self, outcome: &Outcome<'_>) {
        if let Some(f) = self.take() {
            f(outcome);
        }
    }
}

/// [`defer_level`] past the closure's type.
#[inline]
fn defer_level_dyn<T, E: fmt::Debug + Sync + 'static>(
    body: Result<Result<T, E>, Panicked>,
    when: When,
    deferred: &mut dyn Deferred,
) -> Result<T, E> {
    // As in `exit_level`: the panicked body is handled apart, cold.
    let result = match body {
        Ok(result) => result,
        Err(panic) => defer_after_panic(panic, when, deferred),
    };
    let ran = run_deferred(when, &outcome_of_result(&result), deferred);
    match ran {
        Ok(()) => result,
        Err(panic) => settle_failed_cleanup(Ok(result), Err(panic)),
    }
}

/// Runs `deferred` if `when` matches `outcome`, catching its panic.
#[inline]
fn run_deferred(when: When, outcome: &Outcome<'_>, deferred: &mut dyn Deferred) -> Result<(), Panicked> {
    if when.matches(outcome) {
        catch_dyn(&mut DeferredCall { deferred, outcome })
    } else {
        Ok(())
    }
}

/// A deferred closure with the outcome it is given, as a [`RunOnce`].
struct DeferredCall<'a, 'o> {
    deferred: &'a mut dyn Deferred,
    outcome: &'a Outcome<'o>,
}

impl RunOnce for DeferredCall<'_, '_> {
    #[inline]
    fn run_once(&mut self) {
        self.deferred.run(self.outcome);
    }
}

/// [`defer_level`] for a body that panicked: runs the defer with the panic
/// as the outcome, reports its own panic, and resumes the first one.
#[cold]
#[inline(never)]
fn defer_after_panic(panic: Panicked, when: When, deferred: &mut dyn Deferred) -> ! {
    if let Err(later_panic) = run_deferred(when, &panic.outcome(), deferred) {
        crate::report(ReportKind::FailedWhileUnwinding, &later_panic);
    }
    panic.resume()
}
