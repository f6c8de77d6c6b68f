//! The rules every construct shares: catching a panic (one catcher for
//! every level, [`run_level`] / [`catch_dyn`]), the merge of a cleanup's
//! result into the body's (the first failure is primary, later errors are
//! attached as suppressed or reported), and which outcomes a `defer!` runs
//! for ([`When`]). The scopes, `#[managed]` and the exit stacks all settle
//! their results here.

#![allow(clippy::inline_always, reason = "a level's normal path, see the docs of `scope::sync`")]

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
pub(crate) enum Never {}

impl Panicked {
    /// The outcome the cleanups that run after the panic see.
    pub(crate) fn outcome(&self) -> Outcome<'_> {
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

    /// Resumes the panic with its original payload.
    pub(crate) fn resume(self) -> ! {
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
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panicked> {
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
/// That is `catch` spelled out for compile time: `catch` instantiates
/// `catch_unwind` and its four helpers for every closure (five functions per
/// level of every scope in a debug build). Here the closure is called
/// through `&mut dyn RunOnce` (`catch_dyn`), so the panic catcher is one
/// non-generic function for the whole program, and a level adds this
/// function and `RunOnce::run_once` for its closure. The closure is taken
/// by value, not built into a `Level` local of the expansion and lent to
/// `catch_dyn` there: that local, next to the closure's captures, makes the
/// user's crate much slower to type-check and borrow-check. In a release
/// build everything is inlined and the call devirtualised, as `catch` is.
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
pub(crate) trait RunOnce {
    /// Calls the closure (the second call does nothing).
    fn run_once(&mut self);
}

impl<F: FnOnce() -> R, R> RunOnce for Level<F, R> {
    // `always`: with `#[inline]`, LLVM devirtualises the call too late in a
    // release build for the nested levels of a scope to fold together. In a
    // debug build it is called through the vtable.
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
pub(crate) fn catch_dyn(f: &mut dyn RunOnce) -> Result<(), Panicked> {
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
/// Split in two for speed: the common case, a body that returned (`Ok` or
/// `Err`) and a cleanup that succeeded, is inlined into the scope; the rest
/// is one cold out-of-line call. As one function it is too big to inline,
/// and every level would pay a call with both results spilled to the stack.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub(crate) fn settle<T, E: fmt::Debug + 'static>(
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
pub(crate) fn settle_failed_cleanup<T, E: fmt::Debug + 'static>(
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
pub(crate) fn attach_or_report<E: fmt::Debug + 'static>(primary: &mut E, later: E) {
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

/// Runs an exit where nobody can receive its error (a dropped guard or
/// stack) and reports a failure or panic through the error hook.
pub(crate) fn run_exit_reporting<M: Manage>(manager: M, outcome: &Outcome<'_>, kind: ReportKind) {
    match catch(|| manager.exit(outcome)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => crate::report(kind, &e),
        Err(panic) => crate::report(kind, &panic),
    }
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
