//! Runtime support for the code `scope!(async { .. })` generates: a panic
//! catcher for futures, the slot that gives an entered manager its
//! `exit_cancelled` when the scope's future is dropped, awaited exits and
//! defers, and the call-site choice between sync and async managers.
//!
//! Like the sync scope (`sync.rs`), everything the generated code calls is a free
//! generic function or a type here, never a method on the scope's result
//! (its error type may not be inferred yet).
//!
//! A run of `with!` / `defer!` levels of an async scope (a *frame*: see
//! `managed-macros/src/scope/frames.rs` for when levels share one)
//! expands to nested blocks, one per manager's `AsyncSlot`, around one
//! `catch_async` of the body; after it, `exit_async` and `merge_exit` run
//! newest first, and `finish` ends the frame (the expansion:
//! `tests/expand/scope/async.expanded.rs`).
//!
//! A `defer!` after the frame's first level is run by `defer_sync` /
//! `defer_async` only if the body reached it: the body counts the defers it
//! passes in a counter declared around the frame (`reached = n;` where the
//! `n`-th one stands; `defer_sync(body, reached >= n, when, ..)` after it).
//!
//! One future and one panic catcher for the whole body, however many
//! managers it enters: each resume of the scope walks one state machine.
//! The slots live in the scope's future while the body runs; when that
//! future is dropped, the body (holding the targets) is dropped first, then
//! the slots, innermost block first: the newest manager gets
//! `exit_cancelled` first. `into_entered` takes the manager out of the slot
//! before its exit is awaited, so no manager is exited twice; each slot sits
//! in its own block, so its memory is free again while its exit is awaited,
//! and the manager moves straight into its exit future: the future holds
//! each manager once. A caught panic travels between the exits as a value
//! (`Err(Panicked)`) and resumes in `finish`, after the last exit.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::scope::convert::Convert;
use crate::scope::rules::{catch, outcome_of, settle, Panicked, ScopeError, When};
use crate::{AsyncManage, Manage, Outcome, ReportKind};

/// A future that catches a panic of the future it wraps: the output is
/// `Err(Panicked)` instead of an unwinding `poll` (with `std`; without it,
/// panics are not caught). Hand-written so that a scope does not allocate
/// and does not depend on `futures`.
#[must_use = "futures do nothing unless awaited"]
pub struct CatchUnwind<F> {
    inner: F,
}

/// Wraps `future` so that a panic in its `poll` becomes `Err(Panicked)`.
#[inline]
pub fn catch_async<F: Future>(future: F) -> CatchUnwind<F> {
    CatchUnwind { inner: future }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Panicked>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `inner` is structurally pinned. `CatchUnwind` never moves
        // `inner` out and never hands out `&mut F` except through this
        // projection; it has no `Drop` impl (which could move it), and it is
        // `Unpin` only when `F` is (the auto impl), so a pinned
        // `CatchUnwind` keeps `inner` at a fixed address until it is
        // dropped. Exercised (on a `!Unpin` future that borrows its own
        // local across a pending poll) by this module's unit tests, which
        // CI's Miri job runs, and by every async scope test.
        let inner = unsafe { self.map_unchecked_mut(|s| &mut s.inner) };
        match catch(|| inner.poll(cx)) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// Owns one level's async manager. Dropped while the manager is entered
/// (the scope's future was dropped mid-block), it calls
/// [`AsyncManage::exit_cancelled`].
pub struct AsyncSlot<M: AsyncManage> {
    /// `None` until [`enter_async`] puts the manager in, and once
    /// [`into_entered`] took it.
    manager: Option<M>,
    entered: bool,
}

impl<M: AsyncManage> AsyncSlot<M> {
    /// A slot for a manager the body has not reached yet. Declared in the
    /// scope's frame, outside the body's future, so that the manager
    /// outlives the body and its exit can be awaited after it.
    #[inline]
    pub fn empty() -> Self {
        AsyncSlot { manager: None, entered: false }
    }

    /// The manager, if it was entered and not yet exited; marks the slot
    /// done either way (a manager whose enter failed is only dropped).
    #[inline]
    fn take_entered(&mut self) -> Option<M> {
        let manager = self.manager.take();
        if core::mem::take(&mut self.entered) {
            manager
        } else {
            None
        }
    }
}

impl<M: AsyncManage> AsyncSlot<M> {
    /// The cancellation path of `drop`, out of line: a scope that runs to
    /// its end only drops emptied slots (measured in BENCHMARKS.md: an
    /// out-of-line `drop` cost every level a call).
    #[cold]
    #[inline(never)]
    fn cancel(&mut self) {
        if let Some(manager) = self.take_entered() {
            // An override may panic; this drop may run while another panic
            // unwinds (a second one would abort), and the older managers
            // must still get theirs.
            if let Err(panic) = catch(|| manager.exit_cancelled()) {
                crate::report(ReportKind::Cancelled, &panic);
            }
        }
    }
}

impl<M: AsyncManage> Drop for AsyncSlot<M> {
    #[inline]
    fn drop(&mut self) {
        // Only an entered manager is cancelled; one that was never entered
        // (or was taken by `into_entered`) is just dropped with the slot.
        if self.entered {
            self.cancel();
        }
    }
}

impl<M: AsyncManage + fmt::Debug> fmt::Debug for AsyncSlot<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSlot").field("manager", &self.manager).field("entered", &self.entered).finish()
    }
}

/// Puts `manager` in the (empty) slot and enters it; the slot counts as
/// entered once the enter finished with `Ok` (a cancelled or failed enter is
/// not exited).
///
/// The manager is stored when this is called, before the enter is first
/// polled: a body dropped between the two leaves an unentered manager,
/// which is only dropped.
#[inline]
pub fn enter_async<M: AsyncManage>(
    manager: M,
    slot: &mut AsyncSlot<M>,
) -> impl Future<Output = Result<&mut M::Target, M::Error>> + '_ {
    let AsyncSlot { manager: stored, entered } = slot;
    let m = stored.insert(manager);
    async move {
        let target = m.enter().await;
        *entered = target.is_ok();
        target
    }
}

/// The manager of a slot whose body ended: `Some` if it was entered (it is
/// then exited by [`exit_async`]), `None` if its enter failed or was never
/// reached (a manager whose enter failed is dropped here). Either way the
/// slot no longer cancels it.
#[inline]
pub fn into_entered<M: AsyncManage>(mut slot: AsyncSlot<M>) -> Option<M> {
    slot.take_entered()
}

/// The awaited exit of one level: `manager.exit(outcome)` inside the panic
/// catcher, or nothing when the manager was not entered.
///
/// The exit future is created here, with the manager moved straight into
/// it, and the outcome lives in the caller's frame: an `async` block taking
/// the manager would keep a second copy of it for the whole exit.
///
/// If the scope is cancelled while this exit is awaited, the exit's future
/// is dropped unfinished (the manager with it) and the interruption is
/// reported with [`ReportKind::Cancelled`]; the older managers still get
/// their `exit_cancelled`.
#[inline]
pub fn exit_async<'o, 'a, M: AsyncManage>(
    manager: Option<M>,
    outcome: &'o Outcome<'a>,
) -> impl Future<Output = Result<Result<(), M::Error>, Panicked>> + use<'o, 'a, M> {
    ExitAsync {
        exit: manager.map(|m| catch_async(m.exit(outcome))),
        outcome,
        manager: core::marker::PhantomData::<fn(M)>,
    }
}

/// See [`exit_async`].
struct ExitAsync<'o, 'a, F, M> {
    /// `None` when there is nothing to exit, and once the exit finished.
    exit: Option<CatchUnwind<F>>,
    /// The failure so far (the block's, with the exit errors attached to
    /// it): reported if the scope is cancelled during this exit, since the
    /// scope's result that carried it is dropped too.
    outcome: &'o Outcome<'a>,
    manager: core::marker::PhantomData<fn(M)>,
}

impl<F, M> Future for ExitAsync<'_, '_, F, M>
where
    M: AsyncManage,
    F: Future<Output = Result<(), M::Error>>,
{
    type Output = Result<F::Output, Panicked>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `exit` is structurally pinned. It is never moved: `poll`
        // only reaches it through this projection and replaces it in place
        // (`Pin::set` drops the old value where it is); `Drop` only asks
        // whether it is `Some`. `ExitAsync` is `Unpin` only when `F` is (the
        // auto impl; `PhantomData<fn(M)>` is always `Unpin`). Exercised by
        // this module's unit tests (a `!Unpin` exit, pending once, finished,
        // polled again, dropped mid-exit; run under Miri in CI) and by every
        // async scope test.
        let mut exit = unsafe { self.map_unchecked_mut(|s| &mut s.exit) };
        let Some(running) = exit.as_mut().as_pin_mut() else {
            return Poll::Ready(Ok(Ok(())));
        };
        match running.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(done) => {
                exit.set(None);
                Poll::Ready(done)
            }
        }
    }
}

impl<F, M> Drop for ExitAsync<'_, '_, F, M> {
    // Only a test inline: a scope that runs to its end drops finished exits
    // (and the drop glue of the scope's future stays small).
    #[inline]
    fn drop(&mut self) {
        if self.exit.is_some() {
            exit_interrupted(core::any::type_name::<M>(), self.outcome);
        }
    }
}

/// Reports an exit dropped unfinished (the scope was cancelled during it)
/// and the failure the scope carried.
#[cold]
#[inline(never)]
fn exit_interrupted(manager: &'static str, outcome: &Outcome<'_>) {
    crate::report(ReportKind::Cancelled, &crate::hook::ScopeExitInterrupted(manager));
    if outcome.is_failure() {
        // Nothing is lost: the scope's failure so far (and the exit errors
        // attached to it) had no other way out.
        crate::report(ReportKind::Cancelled, &LostWithScope(*outcome));
    }
}

/// The failure a cancelled scope was carrying when an exit was interrupted.
struct LostWithScope<'a>(Outcome<'a>);

impl fmt::Debug for LostWithScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the scope was cancelled while carrying this failure: {:?}", self.0)
    }
}

/// How an async scope's body ended, as the exits after it carry it: its
/// result, or the panic it caught (resumed by [`finish`] once every exit
/// ran).
pub(crate) type Ended<T, E> = Result<Result<T, E>, Panicked>;

/// Merges an exit's result into what the body ended with, by the
/// primary/suppressed rule of `rules::settle` (the first failure
/// wins, later ones are attached or reported), converting the manager's
/// error. A panic, the body's or the exit's, stays a value: the older exits
/// see it as their outcome, and [`finish`] resumes it.
///
/// The common case (the exit succeeded) is inlined; the rest is one cold
/// call, as in `settle`. `conversion` is `From`, or nothing for a manager
/// that cannot fail (see `crate::scope::convert`).
#[inline]
pub fn merge_exit<T, E, X, C>(body: Ended<T, E>, exited: Result<Result<(), X>, Panicked>, conversion: C) -> Ended<T, E>
where
    C: Convert<X, E>,
    E: fmt::Debug + 'static,
{
    match (body, exited) {
        (Ok(result), Ok(Ok(()))) => Ok(result),
        (body, exited) => merge_failed_cleanup(body, exited.map(|r| r.map_err(|e| conversion.convert(e)))),
    }
}

/// [`merge_exit`] (and the defers' merges) when the cleanup failed or the
/// body panicked: `settle`'s rules, with the panic kept as a value.
#[cold]
#[inline(never)]
fn merge_failed_cleanup<T, E: fmt::Debug + 'static>(
    body: Ended<T, E>,
    cleanup: Result<Result<(), E>, Panicked>,
) -> Ended<T, E> {
    crate::scope::rules::merge_cleanup(body, cleanup)
}

/// Merges what a defer did (`Ok(Ok(()))`, or its panic) into what the body
/// ended with.
#[inline]
fn merge_ran<T, E: fmt::Debug + 'static>(body: Ended<T, E>, ran: Result<Result<(), E>, Panicked>) -> Ended<T, E> {
    match (body, ran) {
        (Ok(result), Ok(Ok(()))) => Ok(result),
        (body, ran) => merge_failed_cleanup(body, ran),
    }
}

/// The scope's result once every exit ran: the merged result, or the
/// panic resumed with its original payload.
#[inline]
pub fn finish<T, E: fmt::Debug + 'static>(ended: Ended<T, E>) -> Result<T, E> {
    settle(ended, Ok(Ok(())))
}

/// Runs an awaited `defer!(async { .. })` of an async scope after the body
/// ended, if the body `reached` the defer and `when` matches the outcome so
/// far, and merges a panic of the defer. The deferred future is built by
/// the caller but not polled unless it runs (futures are lazy), so it may
/// borrow what the body borrowed; a defer that does not run is dropped
/// unpolled.
///
/// If the scope is cancelled while the defer is awaited, the defer's future
/// is dropped unfinished and reported with the failure the scope carried,
/// as [`exit_async`] does for an exit.
#[inline]
pub async fn defer_async<T, E, F>(body: Ended<T, E>, reached: bool, when: When, deferred: F) -> Ended<T, E>
where
    E: ScopeError,
    F: Future<Output = ()>,
{
    let ran = {
        let outcome = outcome_of(&body);
        if reached && when.matches(&outcome) {
            let interrupted = DeferInterrupted(&outcome);
            let ran = catch_async(deferred).await.map(Ok);
            interrupted.disarm();
            ran
        } else {
            drop(deferred);
            Ok(Ok(()))
        }
    };
    merge_ran(body, ran)
}

/// Armed while an async defer is awaited: dropped there (the scope was
/// cancelled), it reports the interruption and the failure the scope
/// carried, whose result is dropped with the scope's future.
struct DeferInterrupted<'o, 'a>(&'o Outcome<'a>);

impl DeferInterrupted<'_, '_> {
    /// The defer finished: nothing to report.
    #[inline]
    fn disarm(self) {
        core::mem::forget(self);
    }
}

impl Drop for DeferInterrupted<'_, '_> {
    #[inline]
    fn drop(&mut self) {
        defer_interrupted(self.0);
    }
}

/// Reports an async defer dropped unfinished, and the scope's failure.
#[cold]
#[inline(never)]
fn defer_interrupted(outcome: &Outcome<'_>) {
    crate::report(ReportKind::Cancelled, &DeferDropped);
    if outcome.is_failure() {
        crate::report(ReportKind::Cancelled, &LostWithScope(*outcome));
    }
}

/// Reported when the scope's future is dropped while an async `defer!` is
/// awaited.
struct DeferDropped;

impl fmt::Debug for DeferDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the scope was cancelled while an async `defer!` was running; the defer was dropped unfinished")
    }
}

/// Runs a sync `defer!` of an async scope after the body ended, if the
/// body `reached` the defer and `when` matches the outcome so far, and
/// merges a panic of the defer. The closure is built after the body's
/// future finished, so it may borrow what the body borrowed.
#[inline]
pub fn defer_sync<T, E: ScopeError>(
    body: Ended<T, E>,
    reached: bool,
    when: When,
    deferred: impl FnOnce(&Outcome<'_>),
) -> Ended<T, E> {
    let ran = {
        let outcome = outcome_of(&body);
        if reached && when.matches(&outcome) {
            catch(|| deferred(&outcome)).map(Ok)
        } else {
            Ok(Ok(()))
        }
    };
    merge_ran(body, ran)
}

/// A sync [`Manage`] used in an async scope: enter and exit run in place,
/// as ready futures; on cancellation the exit runs with
/// [`Outcome::Cancelled`] (it needs no awaiting, so nothing is lost).
///
/// The macro wraps sync managers at the call site (see [`SyncKind`]); it is
/// not a blanket impl, which would overlap `impl<T: SendAsyncManage>
/// AsyncManage for T`.
#[derive(Debug)]
pub struct SyncInAsync<M>(pub M);

impl<M: Manage> AsyncManage for SyncInAsync<M> {
    type Target = M::Target;
    type Error = M::Error;

    // `async fn`: the sync call runs when polled, inside the scope's panic
    // catcher, not when the future is created.
    #[inline]
    async fn enter(&mut self) -> Result<&mut M::Target, M::Error> {
        self.0.enter()
    }

    #[inline]
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), M::Error> {
        self.0.exit(outcome)
    }

    fn exit_cancelled(self) {
        crate::scope::rules::run_exit_reporting(self.0, &Outcome::Cancelled, ReportKind::Cancelled);
    }
}

/// Tag of an async manager: [`AsyncTag::wrap`] passes it through.
#[derive(Clone, Copy, Debug)]
pub struct AsyncTag;

/// Tag of a sync manager: [`SyncTag::wrap`] adapts it with [`SyncInAsync`].
#[derive(Clone, Copy, Debug)]
pub struct SyncTag;

impl AsyncTag {
    /// The manager itself.
    #[inline]
    #[allow(clippy::unused_self, reason = "the tag is the receiver the call site's method lookup chose")]
    pub fn wrap<M: AsyncManage>(self, manager: M) -> M {
        manager
    }
}

impl SyncTag {
    /// The sync manager, adapted. The bound gives the `Manage` "not a
    /// manager" message for a value that is neither kind; the return type is
    /// a projection so that, when the bound fails, rustc does not pile
    /// follow-up errors about the adapter onto that message.
    #[inline]
    #[allow(clippy::unused_self, reason = "the tag is the receiver the call site's method lookup chose")]
    pub fn wrap<M: AdaptSync>(self, manager: M) -> M::Adapted {
        manager.adapt()
    }
}

/// A sync manager's adapter for async scopes (see `SyncTag::wrap`).
pub trait AdaptSync: Manage + Sized {
    /// [`SyncInAsync<Self>`].
    type Adapted: AsyncManage<Target = Self::Target, Error = Self::Error>;
    /// Wraps the manager.
    fn adapt(self) -> Self::Adapted;
}

impl<M: Manage> AdaptSync for M {
    type Adapted = SyncInAsync<M>;
    #[inline]
    fn adapt(self) -> SyncInAsync<M> {
        SyncInAsync(self)
    }
}

/// Autoref specialization (as anyhow's `anyhow_kind`): for
/// `(&m).__managed_async_kind()`, method lookup tries the receiver `&M`
/// first, where this impl on `M: AsyncManage` applies; only if it does not,
/// it autorefs to `&&M` and finds [`SyncKind`]. Works on the concrete types
/// the macro sees at the call site.
pub trait AsyncKind {
    /// The tag choosing the async path.
    #[inline]
    fn __managed_async_kind(&self) -> AsyncTag {
        AsyncTag
    }
}

impl<M: AsyncManage> AsyncKind for M {}

/// The fallback of [`AsyncKind`]: any other type takes the sync path, whose
/// `wrap` requires `Manage` (and says so when it is missing).
pub trait SyncKind {
    /// The tag choosing the sync path.
    #[inline]
    fn __managed_async_kind(&self) -> SyncTag {
        SyncTag
    }
}

impl<M> SyncKind for &M {}

// Unit tests here (not only in `tests/`) so that Miri, which CI runs over
// this crate's lib tests, checks the two pin projections above.
#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::test_support::reports_of;
    use core::cell::Cell;
    use core::task::Waker;
    use std::string::String;

    /// Pending once, then ready.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                Poll::Pending
            }
        }
    }

    fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn catch_async_keeps_a_self_borrowing_future_in_place_and_catches_its_panic() {
        let ok = core::pin::pin!(catch_async(async {
            let local = [7u8; 16];
            let borrowed = &local;
            YieldOnce(false).await;
            borrowed.iter().map(|b| u32::from(*b)).sum::<u32>()
        }));
        let mut ok = ok;
        assert!(poll(ok.as_mut()).is_pending());
        assert!(matches!(poll(ok.as_mut()), Poll::Ready(Ok(112))));

        let mut panics = core::pin::pin!(catch_async(async {
            let local = String::from("test: unit panic");
            let borrowed = &local;
            YieldOnce(false).await;
            std::panic::panic_any(borrowed.clone());
        }));
        assert!(poll(panics.as_mut()).is_pending());
        let quiet = std::panic::take_hook();
        std::panic::set_hook(std::boxed::Box::new(|_| {}));
        let caught = poll(panics.as_mut());
        std::panic::set_hook(quiet);
        match caught {
            Poll::Ready(Err(p)) => assert_eq!(std::format!("{p:?}"), "panic: \"test: unit panic\""),
            _ => panic!("the panic was not caught"),
        }
    }

    /// An async manager whose exit holds a borrow of its own local across a
    /// pending poll (a `!Unpin` exit future).
    struct Counted<'a>(&'a Cell<u32>);

    impl AsyncManage for Counted<'_> {
        type Target = Self;
        type Error = u32;
        async fn enter(&mut self) -> Result<&mut Self, u32> {
            Ok(self)
        }
        async fn exit(self, outcome: &Outcome<'_>) -> Result<(), u32> {
            let local = [1u32; 4];
            let borrowed = &local;
            YieldOnce(false).await;
            self.0.set(self.0.get() + borrowed[0]);
            if outcome.is_ok() {
                Ok(())
            } else {
                Err(self.0.get())
            }
        }
    }

    #[test]
    fn exit_async_runs_the_exit_once_in_place_and_reports_when_dropped_mid_exit() {
        let count = Cell::new(0);
        let mut exit = core::pin::pin!(exit_async(Some(Counted(&count)), &Outcome::Ok));
        assert!(poll(exit.as_mut()).is_pending());
        assert!(matches!(poll(exit.as_mut()), Poll::Ready(Ok(Ok(())))));
        // Polled again after it finished: the exit is gone, not run twice.
        assert!(matches!(poll(exit.as_mut()), Poll::Ready(Ok(Ok(())))));
        assert_eq!(count.get(), 1);

        let failed = Outcome::err(&"failed");
        let mut exit = core::pin::pin!(exit_async(Some(Counted(&count)), &failed));
        assert!(poll(exit.as_mut()).is_pending());
        assert!(matches!(poll(exit.as_mut()), Poll::Ready(Ok(Err(2)))));

        let ((), reports) = reports_of(|| {
            let mut exit = std::boxed::Box::pin(exit_async(Some(Counted(&count)), &Outcome::Ok));
            assert!(poll(exit.as_mut()).is_pending());
            drop(exit);
        });
        assert_eq!(count.get(), 2, "the interrupted exit did not finish");
        assert_eq!(reports.len(), 1);
        assert!(reports[0].contains("was cancelled while the exit of") && reports[0].contains("Counted"));

        let ((), reports) = reports_of(|| {
            let mut nothing = core::pin::pin!(exit_async(None::<Counted<'_>>, &Outcome::Ok));
            assert!(matches!(poll(nothing.as_mut()), Poll::Ready(Ok(Ok(())))));
        });
        assert!(reports.is_empty());
    }
}
