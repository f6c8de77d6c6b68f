//! Runtime support for the code `scope!` and `defer!` generate: catching a
//! panic, merging an exit's result into the block's, and drop guards.
//!
//! Generated code never calls a method on the scope's result (its error type
//! may not be inferred yet at that point): everything here is a free generic
//! function, so inference flows from the block's own `return`s and tail.
//!
//! The functions a level runs on its normal path (`run_level`, the enter,
//! the exit, `settle`) are `#[inline(always)]` in builds without debug
//! assertions: with a manager whose enter and exit call code the optimiser
//! cannot see, LLVM judged the level too big and called `exit_level` out
//! of line, passing the body's result through memory, at every level
//! (BENCHMARKS.md, section 10 workloads). Their rare paths are `#[cold]`
//! functions, so forcing the inlining copies only the normal path. Debug
//! builds keep `#[inline]`.

#![allow(clippy::inline_always, reason = "measured, see the module docs")]

#[cfg(feature = "alloc")]
use core::any::Any;
use core::fmt;

use crate::convert::Convert;
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

    /// The payload, for code that resumes the panic later, elsewhere
    /// (`TaskGroup` resumes a task's panic in its exit).
    #[cfg(all(feature = "std", feature = "tokio"))]
    pub(crate) fn into_payload(self) -> std::boxed::Box<dyn core::any::Any + Send> {
        self.0
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

/// Runs one level of a sync `scope!` (the closure that runs the rest of the
/// block), catching a panic (with `std`). The expansion is
/// `run_level(|| { .. })`; see ARCHITECTURE.md, "How `scope!` expands".
///
/// That is [`catch`] spelled out for compile time: `catch` instantiates
/// `catch_unwind` and its four helpers for every closure (five functions per
/// level of every scope in a debug build). Here the closure is called
/// through `&mut dyn RunOnce` (`catch_dyn`), so the panic catcher is one
/// non-generic function for the whole program, and a level adds this
/// function and `RunOnce::run_once` for its closure. The closure is taken
/// by value, not built into a `Level` local of the expansion and lent to
/// `catch_dyn` there: that local cost the user's crate about a third of its
/// type checking and borrow checking (BENCHMARKS.md, "Compile time"). In a
/// release build everything is inlined (see the module docs) and the call
/// devirtualised: the same instructions as `catch`.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub fn run_level<F: FnOnce() -> R, R>(body: F) -> Result<R, Panicked> {
    let mut level = Level { body: Some(body), value: None };
    let ran = catch_dyn(&mut level);
    caught(ran, level.value)
}

/// A closure to call once behind `&mut dyn RunOnce`, and the place for its
/// value (see [`run_level`]).
struct Level<F, R> {
    /// The closure, until it runs.
    body: Option<F>,
    /// Its value, once it returned.
    value: Option<R>,
}

/// A closure to call once, behind `&mut dyn` (see [`run_level`]).
trait RunOnce {
    /// Calls the closure (the second call does nothing).
    fn run_once(&mut self);
}

impl<F: FnOnce() -> R, R> RunOnce for Level<F, R> {
    // `always`: with `#[inline]`, LLVM devirtualised the call too late in a
    // release build (BENCHMARKS.md). In a debug build it is called through
    // the vtable.
    #[inline(always)]
    fn run_once(&mut self) {
        if let Some(f) = self.body.take() {
            self.value = Some(f());
        }
    }
}

/// Calls `f` once, catching a panic (with `std`): the one instantiation of
/// `catch_unwind` that every level of every sync `scope!` shares.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn catch_dyn(f: &mut dyn RunOnce) -> Result<(), Panicked> {
    #[cfg(feature = "std")]
    {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.run_once())).map_err(Panicked)
    }
    #[cfg(not(feature = "std"))]
    {
        f.run_once();
        Ok(())
    }
}

/// A level's result: the value its closure returned, or the panic
/// [`catch_dyn`] caught. Generic over the value only, so the levels of a
/// scope (which all return its `Result`) share one instance.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn caught<R>(caught: Result<(), Panicked>, value: Option<R>) -> Result<R, Panicked> {
    match (caught, value) {
        (Ok(()), Some(value)) => Ok(value),
        (Err(panic), _) => Err(panic),
        // `catch_dyn` returns `Ok` only after the closure returned, which
        // filled `value`.
        (Ok(()), None) => unreachable!(),
    }
}

/// What the error type of a scope must be: exits and defers see it through
/// `&Outcome`, which is `Send + Sync` (an async exit may hold it across an
/// `.await` in a spawned task), so it is `Sync`, and downcastable, so
/// `'static`. Named in the runtime's bounds so that a type that is not
/// (most often `Box<dyn Error>`, without `+ Send + Sync`) is reported with
/// the fix.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the error type of a `scope!`: it must be `Debug + Sync + 'static`",
    label = "the scope's error type is `{Self}`",
    note = "exits and defers see the scope's error through `&Outcome`, which may be shared between threads, \
            so the error must be `Sync`",
    note = "`Box<dyn Error>` is not `Sync`: use `Box<dyn Error + Send + Sync>` or `managed::Error` (both \
            convert from every error with `?`, and `managed::Error` converts into `Box<dyn Error>`)"
)]
pub trait ScopeError: fmt::Debug + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<E: fmt::Debug + Sync + 'static> ScopeError for E {}

/// The outcome of a level's body, as its exits see it.
#[inline]
pub fn outcome_of<T, E: ScopeError>(body: &Result<Result<T, E>, Panicked>) -> Outcome<'_> {
    match body {
        Ok(Ok(_)) => Outcome::Ok,
        Ok(Err(e)) => Outcome::err(e),
        Err(p) => p.outcome(),
    }
}

/// Merges what a cleanup (exit or defer) did into the body's result, by the
/// primary/suppressed rule: the first failure wins, later ones are attached
/// (or reported), a panic resumes after the cleanup ran.
///
/// Split in two for speed (BENCHMARKS.md): the common case, a body that
/// returned (`Ok` or `Err`) and a cleanup that succeeded, is inlined into
/// the scope; the rest is one cold out-of-line call. As one function it was
/// too big to inline, and every level paid a call with both results spilled
/// to the stack.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub fn settle<T, E: fmt::Debug + 'static>(
    body: Result<Result<T, E>, Panicked>,
    cleanup: Result<Result<(), E>, Panicked>,
) -> Result<T, E> {
    match (body, cleanup) {
        (Ok(result), Ok(Ok(()))) => result,
        (body, cleanup) => settle_failed_cleanup(body, cleanup),
    }
}

/// [`settle`] when the body panicked or the cleanup failed.
#[cold]
#[inline(never)]
fn settle_failed_cleanup<T, E: fmt::Debug + 'static>(
    body: Result<Result<T, E>, Panicked>,
    cleanup: Result<Result<(), E>, Panicked>,
) -> Result<T, E> {
    match merge_cleanup(body, cleanup) {
        Ok(result) => result,
        Err(panic) => panic.resume(),
    }
}

/// The primary/suppressed rule with a panic kept as a value: what a cleanup
/// (exit, defer, a struct's field exit or hook) did, merged into what came
/// before it. The first failure stays primary; a later error is attached
/// (or reported); a later panic replaces an error (which is reported); a
/// failure while a panic is carried is reported. Shared by `settle`, the
/// async scope's `merge_exit` and the `#[managed]` struct's `Exits`, so the
/// rule exists once.
#[inline]
pub(crate) fn merge_cleanup<T, E: fmt::Debug + 'static>(
    body: Result<Result<T, E>, Panicked>,
    cleanup: Result<Result<(), E>, Panicked>,
) -> Result<Result<T, E>, Panicked> {
    match (body, cleanup) {
        (body, Ok(Ok(()))) => body,
        (Ok(Ok(_value)), Ok(Err(later))) => Ok(Err(later)),
        (Ok(Err(mut primary)), Ok(Err(later))) => {
            attach_or_report(&mut primary, later);
            Ok(Err(primary))
        }
        (Err(panic), Ok(Err(later))) => {
            crate::report(ReportKind::FailedWhileUnwinding, &later);
            Err(panic)
        }
        (Err(panic), Err(later_panic)) => {
            crate::report(ReportKind::FailedWhileUnwinding, &later_panic);
            Err(panic)
        }
        (Ok(result), Err(later_panic)) => {
            if let Err(primary) = result {
                crate::report(ReportKind::ReplacedByPanic, &primary);
            }
            Err(later_panic)
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

/// Exits `manager` after its level's body ended and merges the result;
/// `conversion` turns the exit's error into the scope's (`From`, or
/// nothing for a manager that cannot fail: see `crate::convert`).
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub fn exit_level<M, T, E, C>(manager: M, body: Result<Result<T, E>, Panicked>, conversion: C) -> Result<T, E>
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

/// Like [`exit_level`] for a `with!` whose enter may have failed without
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
    // Kept small (the catch and the report are in a cold function taking
    // `f` by value): as one function, the `Option` lived in memory and cost
    // two stores per call on the path that does not panic. One store remains
    // because LLVM does not inline this drop into the landing pad; see
    // BENCHMARKS.md, `defer!(panic => ..)` (`ManuallyDrop` and
    // `inline(always)` were measured and do not change it).
    #[inline]
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(f) = self.0.take() {
                run_while_unwinding(f);
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

/// The body of [`DeferOnPanic`]: runs `f`, reporting its panic (a second
/// panic escaping a drop during unwinding would abort).
#[cfg(feature = "std")]
#[cold]
#[inline(never)]
fn run_while_unwinding<F: FnOnce()>(f: F) {
    if let Err(panic) = catch(f) {
        crate::report(ReportKind::FailedWhileUnwinding, &panic);
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::DeferOnPanic;
    use std::cell::Cell;
    use std::rc::Rc;

    /// The closure of a `DeferOnPanic` is called only while unwinding, and
    /// dropped exactly once either way (the `Rc` it owns counts it): the
    /// split of its drop into a small check and a cold call keeps both.
    #[test]
    fn defer_on_panic_runs_only_while_unwinding() {
        let ran = Rc::new(Cell::new(0));
        let owned = Rc::new(());
        {
            let (ran, owned) = (Rc::clone(&ran), Rc::clone(&owned));
            let _guard = DeferOnPanic::new(move || {
                assert_eq!(Rc::strong_count(&owned), 2, "called once, owning its Rc");
                ran.set(ran.get() + 1);
            });
        }
        assert_eq!(ran.get(), 0, "ran without a panic");
        assert_eq!(Rc::strong_count(&owned), 1, "closure not dropped exactly once");

        let (r, o) = (Rc::clone(&ran), Rc::clone(&owned));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _guard = DeferOnPanic::new(move || {
                assert_eq!(Rc::strong_count(&o), 2, "called once, owning its Rc");
                r.set(r.get() + 1);
            });
            std::panic::resume_unwind(std::boxed::Box::new("boom"));
        }));
        assert!(unwound.is_err());
        assert_eq!(ran.get(), 1, "did not run while unwinding");
        assert_eq!(Rc::strong_count(&owned), 1, "closure not dropped exactly once");
    }
}
