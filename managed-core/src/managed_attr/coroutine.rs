//! Runtime of `#[managed] async fn` (features `async` + `alloc`): the whole
//! fn body is one `async move` coroutine, and `yield_!(value)` is a hand-off
//! `.await` on a [`Lender`] that [`AsyncFnManager`] passes in.
//!
//! The hand-off goes through one cell, `Hand`, next to the coroutine in
//! the manager's single heap allocation (the parked coroutine points into
//! itself, so it must not move):
//!
//! - `enter` polls the coroutine until [`Lend`] stored a pointer to the lent
//!   value in the cell (`Hand::Lent`) and returned `Pending`: the value is
//!   lent to the block as `&mut T` for as long as the manager is borrowed. If
//!   the coroutine returns first, its `Err` is the enter failure.
//! - `exit` stores a pointer to the [`Outcome`] in the cell and polls the
//!   coroutine to completion: `Lend` resolves to `&'h Outcome<'h>`, `'h`
//!   being a borrow of the lender inside the coroutine, so the reference
//!   cannot leave it. The coroutine is always dropped (finished or not)
//!   while the outcome it may point to is alive.
//! - `exit_cancelled` (sync) either runs the `on_cancel` fallback on the
//!   lent value, or resumes the coroutine once in place with
//!   [`Outcome::Cancelled`] (a no-op waker); whatever did not finish is
//!   dropped and reported.
//!
//! The allocation is held as a raw pointer (`Box::leak`), not a `Box`:
//! a `Box` asserts unique access to its contents whenever it is moved,
//! while the block holds a `&mut T` into the coroutine.

use alloc::boxed::Box;
use core::cell::Cell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::{addr_of_mut, NonNull};
use core::task::{Context, Poll, Waker};

use crate::managed_attr::yield_fn::EnterFailure;
use crate::scope::rules::catch;
use crate::{AsyncManage, Outcome, ReportKind};

/// What the coroutine and its driver pass each other.
enum Hand<T> {
    /// Nothing yet: the coroutine runs the code before `yield_!`.
    Empty,
    /// The coroutine is parked in `yield_!`, lending this value.
    Lent(NonNull<T>),
    /// The block ended: `yield_!` evaluates to this outcome.
    Outcome(NonNull<Outcome<'static>>),
}

impl<T> Clone for Hand<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Hand<T> {}

/// The one allocation of a `#[managed] async fn` call.
struct Shared<T, F> {
    hand: Cell<Hand<T>>,
    /// `None` before the coroutine is built and once it finished or was
    /// dropped.
    body: Option<F>,
}

/// The manager a `#[managed] async fn` returns: one coroutine (the fn body)
/// whose `yield_!` lends a value to the block. Generated code only; see the
/// module docs for how the hand-off works.
pub struct AsyncFnManager<T, E, F> {
    /// Owned (from `Box::leak`); freed in `Drop`.
    shared: NonNull<Shared<T, F>>,
    on_cancel: Option<Fallback<T, E>>,
    name: &'static str,
    /// Whether the body is `Some`. Kept here because reading the body itself
    /// (even its discriminant through a `&Option<F>`) while the coroutine is
    /// parked would be a read of memory the coroutine holds `&mut` borrows
    /// into.
    running: bool,
    /// Set while the body is polled: still set afterwards means the poll
    /// panicked and the coroutine cannot be resumed (only dropped).
    poisoned: bool,
    owns: PhantomData<Owns<T, E, F>>,
}

/// `#[managed(on_cancel = path)]`, as a fn pointer.
type Fallback<T, E> = fn(&mut T) -> Result<(), E>;

/// What the manager owns, for the auto traits and drop check (`E` is only
/// produced). `fn(T) -> T` keeps the manager invariant in `T`: the block
/// writes a `T` through the lent `&mut T` that the coroutine reads back, so
/// shrinking a lifetime inside `T` (covariance) would let the block store a
/// short-lived reference the coroutine later reads after it is freed
/// (`tests/ui/managed/fn-async-manager-lifetime-shrunk.rs` keeps it so).
type Owns<T, E, F> = (Box<Shared<T, F>>, fn() -> E, fn(T) -> T);

// SAFETY: the manager owns its allocation alone: the coroutine, the cell and
// the lender (inside the coroutine) move between threads together with it,
// and nothing else points into the allocation while no method of the manager
// or of its exit future runs (the lent `&mut T` borrows the manager). The
// pointers in the cell point into the coroutine (a `T`, hence `T: Send`) or
// to an `Outcome`, which is `Sync`. `E` is only produced, never stored.
unsafe impl<T: Send, E, F: Send> Send for AsyncFnManager<T, E, F> {}

/// The coroutine's end of the hand-off: `yield_!(value)` becomes
/// `lender.lend(&mut value).await`.
pub struct Lender<T> {
    /// The cell of the coroutine's allocation.
    hand: NonNull<Cell<Hand<T>>>,
}

// SAFETY: a lender lives inside the coroutine, in the allocation its cell is
// in (the contract of `AsyncFnManager::new`), and so moves between threads
// only with the manager that owns all of them (see its `Send`); the cell is
// never reached from two threads at once. `T: Send` since `T` is lent
// through it.
unsafe impl<T: Send> Send for Lender<T> {}

impl<T> Lender<T> {
    /// Lends `value` to the block until it ends; resolves to the outcome.
    /// The outcome borrows the lender, so it cannot leave the coroutine.
    pub fn lend<'h>(&'h mut self, value: &mut T) -> Lend<'h, T> {
        Lend { lender: self, value: Some(NonNull::from(value)) }
    }
}

/// The future of [`Lender::lend`]: `Pending` once (the hand-off), then the
/// outcome the driver stored.
pub struct Lend<'h, T> {
    lender: &'h mut Lender<T>,
    /// The lent value, until the first poll hands it over.
    value: Option<NonNull<T>>,
}

// SAFETY: the pointer is the `&mut T` `lend` was given (`T: Send`); the
// lender is `Send` under the same condition.
unsafe impl<T: Send> Send for Lend<'_, T> {}

impl<T> Unpin for Lend<'_, T> {}

impl<'h, T> Future for Lend<'h, T> {
    type Output = &'h Outcome<'h>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<&'h Outcome<'h>> {
        let this = self.get_mut();
        // SAFETY: the cell outlives the coroutine this lender lives in (it is
        // in the same allocation, freed only after the coroutine is dropped),
        // and it is only reached through shared references.
        let hand = unsafe { this.lender.hand.as_ref() };
        if let Some(value) = this.value.take() {
            hand.set(Hand::Lent(value));
            // No waker is kept: the driver polls again when the block ended.
            return Poll::Pending;
        }
        match hand.get() {
            // SAFETY: the driver stores an outcome only for as long as it
            // keeps that outcome alive, and it drops the coroutine (every
            // `'h` borrow of the lender in it) before the outcome goes away.
            Hand::Outcome(outcome) => Poll::Ready(unsafe { outcome.cast::<Outcome<'h>>().as_ref() }),
            Hand::Empty | Hand::Lent(_) => Poll::Pending,
        }
    }
}

impl<T, E, F> AsyncFnManager<T, E, F>
where
    F: Future<Output = Result<(), E>>,
{
    /// Allocates the coroutine `body(lender)` of the fn `name`, not started.
    ///
    /// # Safety
    /// `body` must move the lender into the future it returns and use it
    /// there only as `lender.lend(&mut value).await`, at most once, with
    /// `value` a local of that future (or a temporary of the statement
    /// awaiting it): what `#[managed]` generates.
    pub unsafe fn new<C>(name: &'static str, body: C) -> Self
    where
        C: FnOnce(Lender<T>) -> F,
    {
        let shared = NonNull::from(Box::leak(Box::new(Shared { hand: Cell::new(Hand::Empty), body: None })));
        // SAFETY: `shared` is a live allocation; the field pointer is derived
        // from the raw pointer (not from a `&mut`), so it stays valid while
        // the driver reaches the other field.
        let hand = unsafe { NonNull::new_unchecked(addr_of_mut!((*shared.as_ptr()).hand)) };
        // Built before the body runs, so a panicking `body` still frees.
        let mut manager =
            AsyncFnManager { shared, on_cancel: None, name, running: false, poisoned: false, owns: PhantomData };
        let future = body(Lender { hand });
        // SAFETY: nothing borrows the body yet (the future was never polled).
        unsafe { (*shared.as_ptr()).body = Some(future) };
        manager.running = true;
        manager
    }
}

impl<T, E, F> AsyncFnManager<T, E, F> {
    /// `#[managed(on_cancel = path)]`: on cancellation, `fallback` gets the
    /// lent value instead of the code after `yield_!` running.
    #[must_use]
    pub fn on_cancel(mut self, fallback: Fallback<T, E>) -> Self {
        self.on_cancel = Some(fallback);
        self
    }

    fn hand(&self) -> Hand<T> {
        // SAFETY: the allocation is alive while `self` is; the cell is only
        // reached through shared references.
        unsafe { (*self.shared.as_ptr()).hand.get() }
    }

    fn set_hand(&self, hand: Hand<T>) {
        // SAFETY: as in `hand`.
        unsafe { (*self.shared.as_ptr()).hand.set(hand) }
    }

    fn is_running(&self) -> bool {
        self.running
    }

    /// Drops the coroutine in place (its locals run their drops), catching a
    /// panic of that drop glue.
    fn drop_body(&mut self) -> Result<(), crate::scope::rules::Panicked> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let shared = self.shared;
        // SAFETY: the allocation is alive and nothing borrows the body
        // (the lent `&mut T` borrowed `self`, which is mutably borrowed
        // here). Assigning drops the old value in place (the coroutine is
        // pinned there, which allows dropping it) and writes `None` even if
        // that drop panics.
        catch(move || unsafe { (*shared.as_ptr()).body = None })
    }

    /// Polls the coroutine once; drops it when it finished.
    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>>
    where
        F: Future<Output = Result<(), E>>,
    {
        if !self.running {
            return Poll::Ready(Ok(()));
        }
        // SAFETY: the allocation is alive and nothing else borrows the body
        // (see `drop_body`). It never moves (heap, freed only in `Drop`), so
        // pinning it is sound. (A `&mut` to a `!Unpin` coroutine asserts no
        // uniqueness, so the coroutine's own borrows into itself survive it.)
        let body = unsafe { &mut *addr_of_mut!((*self.shared.as_ptr()).body) };
        let Some(running) = body.as_mut() else { return Poll::Ready(Ok(())) };
        self.poisoned = true;
        // SAFETY: see above: the coroutine stays at this address until it is
        // dropped in place.
        let polled = unsafe { Pin::new_unchecked(running) }.poll(cx);
        self.poisoned = false;
        if polled.is_ready() {
            // Finished: nothing in it is alive any more.
            *body = None;
            self.running = false;
        }
        polled
    }

    /// Polls the code before `yield_!`: `Ready(Ok(lent))` once it lends.
    fn poll_enter(&mut self, cx: &mut Context<'_>) -> Poll<Result<NonNull<T>, E>>
    where
        F: Future<Output = Result<(), E>>,
    {
        if let Hand::Lent(value) = self.hand() {
            return Poll::Ready(Ok(value));
        }
        assert!(
            self.is_running() && !self.poisoned,
            "the manager of `#[managed] async fn {}` failed to enter and cannot be entered again: call the fn again",
            self.name
        );
        match self.poll_body(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => panic!(
                "`#[managed] async fn {}` returned `Ok` before `yield_!`: the code before `yield_!` may only leave \
                 early with an error",
                self.name
            ),
            Poll::Pending => match self.hand() {
                Hand::Lent(value) => Poll::Ready(Ok(value)),
                Hand::Empty | Hand::Outcome(_) => Poll::Pending,
            },
        }
    }

    /// The cancellation policy, in place: the fallback or one poll of the
    /// code after `yield_!` with `Outcome::Cancelled`, then the coroutine is
    /// dropped; every failure is reported.
    fn cancel(&mut self)
    where
        F: Future<Output = Result<(), E>>,
        E: fmt::Debug,
    {
        let Hand::Lent(value) = self.hand() else {
            // Not entered: nothing to exit, only the partly run enter to drop.
            report_panic(self.drop_body());
            return;
        };
        if let Some(fallback) = self.on_cancel {
            let ran = catch(|| {
                // SAFETY: the coroutine is parked at `yield_!` (the cell says
                // `Lent`), so the value is alive and only reached here; the
                // coroutine is dropped right after, never resumed.
                fallback(unsafe { &mut *value.as_ptr() })
            });
            report_panic(self.drop_body());
            match ran {
                Ok(Ok(())) => {}
                Ok(Err(e)) => crate::report(ReportKind::Cancelled, &e),
                Err(panic) => crate::report(ReportKind::Cancelled, &panic),
            }
            return;
        }
        let outcome = Outcome::Cancelled;
        // Declared after `outcome`, so even an unwinding panic drops the
        // coroutine (which may hold `&outcome`) before `outcome`.
        let finish = DropBody(self);
        finish.0.set_hand(Hand::Outcome(NonNull::from(&outcome).cast()));
        let name = finish.0.name;
        let polled = catch(|| finish.0.poll_body(&mut Context::from_waker(Waker::noop())));
        drop(finish);
        match polled {
            Ok(Poll::Ready(Ok(()))) => {}
            Ok(Poll::Ready(Err(e))) => crate::report(ReportKind::Cancelled, &e),
            Ok(Poll::Pending) => crate::report(ReportKind::Cancelled, &Unfinished(name)),
            Err(panic) => crate::report(ReportKind::Cancelled, &panic),
        }
    }
}

/// Drops the coroutine when dropped (also while unwinding).
struct DropBody<'m, T, E, F>(&'m mut AsyncFnManager<T, E, F>);

impl<T, E, F> Drop for DropBody<'_, T, E, F> {
    fn drop(&mut self) {
        report_panic(self.0.drop_body());
    }
}

fn report_panic(dropped: Result<(), crate::scope::rules::Panicked>) {
    if let Err(panic) = dropped {
        crate::report(ReportKind::Cancelled, &panic);
    }
}

impl<T, E, F> Drop for AsyncFnManager<T, E, F> {
    fn drop(&mut self) {
        // The coroutine first, in place (a parked one holds borrows into
        // itself, which freeing through a `Box` would assert unique first).
        // A panic of its drop glue is reported: the manager is dropped
        // without exit when its scope was cancelled, maybe while unwinding.
        let dropped = self.drop_body();
        // SAFETY: `shared` came from `Box::leak` in `new` and is freed only
        // here; no borrow of it outlives `self`. The cell never holds an
        // outcome here (the exit future and `exit_cancelled` drop the
        // coroutine before their outcome goes away), so the coroutine's drop
        // glue cannot reach a dead outcome.
        drop(unsafe { Box::from_raw(self.shared.as_ptr()) });
        report_panic(dropped);
    }
}

impl<T, E, F> fmt::Debug for AsyncFnManager<T, E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (self.hand(), self.is_running()) {
            (Hand::Lent(_), true) => "entered",
            (_, true) => "not entered",
            (_, false) => "done",
        };
        f.debug_struct("AsyncFnManager").field("fn", &self.name).field("state", &state).finish_non_exhaustive()
    }
}

impl<T, E, F> AsyncManage for AsyncFnManager<T, E, F>
where
    F: Future<Output = Result<(), E>>,
    E: fmt::Debug,
{
    type Target = T;
    type Error = E;

    /// Runs the code before `yield_!`; lends its value.
    ///
    /// # Panics
    /// When entered again after a failed enter (the code before `yield_!`
    /// ran and is gone), or when the body returned `Ok` before `yield_!`.
    async fn enter(&mut self) -> Result<&mut T, E> {
        let lent = core::future::poll_fn(|cx| self.poll_enter(cx)).await?;
        // SAFETY: `lent` points into the coroutine, which is parked at
        // `yield_!` and stays there (not polled, not dropped, not moved)
        // until `exit`, `exit_cancelled` or `Drop`, none of which can run
        // while the returned borrow of `self` lives.
        Ok(unsafe { &mut *lent.as_ptr() })
    }

    fn exit(self, outcome: &Outcome<'_>) -> impl Future<Output = Result<(), E>> {
        Exit { manager: self, outcome, started: false }
    }

    fn exit_cancelled(mut self) {
        self.cancel();
    }
}

/// The future of [`AsyncFnManager`]'s exit: resumes the coroutine with the
/// outcome and runs it to completion.
struct Exit<'o, T, E, F>
where
    F: Future<Output = Result<(), E>>,
    E: fmt::Debug,
{
    manager: AsyncFnManager<T, E, F>,
    outcome: &'o Outcome<'o>,
    started: bool,
}

impl<T, E, F> Future for Exit<'_, T, E, F>
where
    F: Future<Output = Result<(), E>>,
    E: fmt::Debug,
{
    type Output = Result<(), E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        // `Exit` is `Unpin`: the coroutine is behind the manager's pointer.
        let this = self.get_mut();
        if !this.started {
            this.started = true;
            if !matches!(this.manager.hand(), Hand::Lent(_)) {
                // Not entered: there is nothing to exit.
                report_panic(this.manager.drop_body());
                return Poll::Ready(Ok(()));
            }
            // `'o` outlives this future, and `Drop` drops the coroutine.
            this.manager.set_hand(Hand::Outcome(NonNull::from(this.outcome).cast()));
        }
        this.manager.poll_body(cx)
    }
}

impl<T, E, F> Drop for Exit<'_, T, E, F>
where
    F: Future<Output = Result<(), E>>,
    E: fmt::Debug,
{
    fn drop(&mut self) {
        if !self.started {
            // Dropped before it began: the block's end was never handed to
            // the coroutine, so this is a cancellation.
            self.manager.cancel();
        } else if self.manager.is_running() {
            // Dropped mid-exit (or after a panic in it): the coroutine may
            // hold `&Outcome`, alive for `'o`, so it is dropped now. The
            // scope or stack awaiting this exit reports the interruption.
            report_panic(self.manager.drop_body());
        }
    }
}

/// Fixes the type of the closure that builds the coroutine, so the lender's
/// type is inferred from `T` (a closure's argument types come from the
/// bound of the fn it is passed to).
#[inline]
pub fn coroutine<T, F, C: FnOnce(Lender<T>) -> F>(body: C) -> C {
    body
}

/// `return value` before `yield_!` in a `#[managed] async fn` becomes
/// `return enter_failed(value)`: only an `Err` may leave the code before
/// `yield_!` (it is the enter failure); there is nothing to lend otherwise.
#[inline]
pub fn enter_failed<R: EnterFailure>(value: R) -> Result<(), R::Error> {
    match value.into_error() {
        Ok(never) => match never {},
        Err(e) => Err(e),
    }
}

/// What a cancelled `#[managed] async fn` whose code after `yield_!` did not
/// finish in place reports.
struct Unfinished(&'static str);

impl fmt::Debug for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the code after `yield_!` of `#[managed] async fn {}` did not finish in place when cancelled and was \
             dropped; name a sync fallback with `#[managed(on_cancel = path)]` if it must wait",
            self.0
        )
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    extern crate std;

    use std::boxed::Box;
    use std::cell::RefCell;
    use std::string::{String, ToString};
    use std::vec::Vec;
    use std::{format, vec};

    use super::*;
    use crate::test_support::reports_of;

    /// `Pending` once (waking itself), then ready: an await point.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                Poll::Ready(())
            } else {
                self.0 = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    fn poll<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Polls until ready (the futures here wake themselves).
    fn run<F: Future>(f: F) -> F::Output {
        let mut f = core::pin::pin!(f);
        loop {
            if let Poll::Ready(out) = poll(f.as_mut()) {
                return out;
            }
        }
    }

    fn quietly<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> std::thread::Result<R> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let out = std::panic::catch_unwind(f);
        std::panic::set_hook(previous);
        out
    }

    /// Reads the outcome when dropped: Miri catches a dangling outcome.
    struct ReadsOutcome<'a, 'l>(&'a Outcome<'a>, &'l RefCell<Vec<String>>);

    impl Drop for ReadsOutcome<'_, '_> {
        fn drop(&mut self) {
            self.1.borrow_mut().push(format!("dropped seeing {:?}", self.0));
        }
    }

    type Log = RefCell<Vec<String>>;

    /// What `#[managed] async fn` generates for a body that enters (with an
    /// await and a local borrowed across the yield), lends `value`, and
    /// exits (with an await), failing or panicking as `after` says.
    fn manager<'l>(
        log: &'l Log,
        fail_enter: bool,
        after: &'static str,
    ) -> AsyncFnManager<Vec<u32>, String, impl Future<Output = Result<(), String>> + 'l> {
        let body = move |mut lender: Lender<Vec<u32>>| async move {
            let mut value = vec![1];
            let label = String::from("borrowed across the yield");
            let borrowed = &label;
            YieldOnce(false).await;
            log.borrow_mut().push("before".into());
            if fail_enter {
                return Err("enter failed".to_string());
            }
            let outcome = lender.lend(&mut value).await;
            let _reads = ReadsOutcome(outcome, log);
            log.borrow_mut().push(format!("after {outcome:?} {value:?} {borrowed}"));
            YieldOnce(false).await;
            match after {
                "err" => Err(format!("exit failed after {outcome:?}")),
                "panic" => panic!("test: exit panicked"),
                "pending" => {
                    core::future::pending::<()>().await;
                    Ok(())
                }
                _ => Ok(()),
            }
        };
        // SAFETY: the body moves the lender in and lends once, a local.
        unsafe { AsyncFnManager::new("manager", body) }
    }

    fn lines(log: &Log) -> Vec<String> {
        log.borrow().clone()
    }

    #[test]
    fn enter_lends_the_value_and_exit_resumes_the_body_with_the_outcome() {
        let log = Log::default();
        let mut m = manager(&log, false, "ok");
        assert_eq!(format!("{m:?}"), r#"AsyncFnManager { fn: "manager", state: "not entered", .. }"#);
        let target = run(m.enter()).expect("enters");
        target.push(2);
        // Entering again lends the same value.
        run(m.enter()).expect("enters again").push(3);
        assert!(format!("{m:?}").contains("\"entered\""));
        assert_eq!(run(m.exit(&Outcome::Ok)), Ok(()));
        assert_eq!(lines(&log), ["before", "after Ok [1, 2, 3] borrowed across the yield", "dropped seeing Ok"]);
    }

    #[test]
    fn an_error_before_the_yield_is_the_enter_failure_and_nothing_exits() {
        let log = Log::default();
        let mut m = manager(&log, true, "ok");
        assert_eq!(run(m.enter()).err().as_deref(), Some("enter failed"));
        assert!(format!("{m:?}").contains("\"done\""));
        // An exit after a failed enter has nothing to run.
        assert_eq!(run(m.exit(&Outcome::Ok)), Ok(()));
        assert_eq!(lines(&log), ["before"]);
    }

    #[test]
    fn entering_again_after_a_failed_enter_panics() {
        let log = Log::default();
        let mut m = manager(&log, true, "ok");
        assert!(run(m.enter()).is_err());
        let again = quietly(std::panic::AssertUnwindSafe(|| run(m.enter()).is_ok()));
        assert!(again.is_err());
    }

    #[test]
    fn an_error_after_the_yield_is_the_exit_failure_and_sees_the_outcome() {
        let log = Log::default();
        let mut m = manager(&log, false, "err");
        run(m.enter()).expect("enters");
        let failed = Outcome::err(&"block failed");
        let exited = run(m.exit(&failed));
        assert_eq!(exited.err().as_deref(), Some(r#"exit failed after Err("block failed")"#));
        assert_eq!(lines(&log).last().map(String::as_str), Some(r#"dropped seeing Err("block failed")"#));
    }

    #[test]
    fn a_panic_after_the_yield_propagates_and_the_body_is_dropped_with_the_outcome_alive() {
        let log = Log::default();
        let outcome = Outcome::Ok;
        let exited = quietly(std::panic::AssertUnwindSafe(|| {
            let mut m = manager(&log, false, "panic");
            run(m.enter()).expect("enters");
            run(m.exit(&outcome))
        }));
        assert!(exited.is_err());
        assert_eq!(lines(&log).last().map(String::as_str), Some("dropped seeing Ok"));
    }

    #[test]
    fn a_panic_before_the_yield_propagates_from_enter() {
        let body = |mut lender: Lender<u8>| async move {
            let mut value = 0;
            YieldOnce(false).await;
            assert!(value != 0, "test: enter panicked");
            lender.lend(&mut value).await;
            Ok::<(), String>(())
        };
        // SAFETY: the body moves the lender in and lends once, a local.
        let mut m = unsafe { AsyncFnManager::new("panics", body) };
        let entered = quietly(std::panic::AssertUnwindSafe(|| run(m.enter()).is_ok()));
        assert!(entered.is_err());
        // The coroutine is broken, not resumable: entering again says so in
        // the manager's words, not as "`async fn` resumed after panicking".
        let again = quietly(std::panic::AssertUnwindSafe(|| run(m.enter()).is_ok()));
        let message = again.err().and_then(|p| p.downcast::<String>().ok()).map(|m| *m).unwrap_or_default();
        assert!(message.contains("cannot be entered again"), "{message}");
        drop(m);
    }

    #[test]
    fn an_exit_dropped_mid_way_drops_the_body_while_the_outcome_lives() {
        let log = Log::default();
        let mut m = manager(&log, false, "pending");
        run(m.enter()).expect("enters");
        let ((), reports) = reports_of(|| {
            let outcome = Outcome::err(&"block failed");
            let mut exit = Box::pin(m.exit(&outcome));
            assert!(poll(exit.as_mut()).is_pending());
            assert!(poll(exit.as_mut()).is_pending());
            drop(exit);
        });
        // The scope awaiting the exit reports the interruption, not the exit.
        assert!(reports.is_empty(), "{reports:?}");
        assert_eq!(lines(&log).last().map(String::as_str), Some(r#"dropped seeing Err("block failed")"#));
    }

    #[test]
    fn exit_cancelled_resumes_the_body_once_with_cancelled() {
        // Finishes in place: nothing reported.
        let body = |mut lender: Lender<u8>| async move {
            let mut value = 7;
            let outcome = lender.lend(&mut value).await;
            if outcome.is_cancelled() {
                Err(value)
            } else {
                Ok(())
            }
        };
        // SAFETY: the body moves the lender in and lends once, a local.
        let mut m = unsafe { AsyncFnManager::new("cancelled", body) };
        *run(m.enter()).expect("enters") += 1;
        let ((), reports) = reports_of(|| m.exit_cancelled());
        assert_eq!(reports, ["8"]);

        // Waits after the yield: dropped after one poll and reported.
        let log = Log::default();
        let mut m = manager(&log, false, "ok");
        run(m.enter()).expect("enters");
        let ((), reports) = reports_of(|| m.exit_cancelled());
        assert_eq!(reports.len(), 1);
        assert!(reports[0].contains("did not finish in place") && reports[0].contains("manager"), "{reports:?}");
        assert_eq!(lines(&log)[1..], ["after Cancelled [1] borrowed across the yield", "dropped seeing Cancelled"]);
    }

    #[test]
    fn exit_cancelled_reports_a_panic_after_the_yield() {
        let body = |mut lender: Lender<u8>| async move {
            let mut value = 7;
            lender.lend(&mut value).await;
            panic!("test: cancelled exit panicked");
        };
        // SAFETY: the body moves the lender in and lends once, a local.
        let mut m = unsafe { AsyncFnManager::<u8, u8, _>::new("panics", body) };
        run(m.enter()).expect("enters");
        let (caught, reports) = reports_of(|| quietly(std::panic::AssertUnwindSafe(|| m.exit_cancelled())));
        assert!(caught.is_ok());
        assert_eq!(reports, [r#"panic: "test: cancelled exit panicked""#]);
    }

    fn discard(value: &mut Vec<u32>) -> Result<(), String> {
        value.push(99);
        Err(format!("discarded {value:?}"))
    }

    #[test]
    fn on_cancel_gets_the_lent_value_and_the_code_after_the_yield_does_not_run() {
        let log = Log::default();
        let mut m = manager(&log, false, "ok").on_cancel(discard);
        run(m.enter()).expect("enters").push(5);
        let ((), reports) = reports_of(|| m.exit_cancelled());
        assert_eq!(reports, [r#""discarded [1, 5, 99]""#]);
        assert_eq!(lines(&log), ["before"]);
    }

    #[test]
    fn an_exit_dropped_before_its_first_poll_is_a_cancellation() {
        let log = Log::default();
        let mut m = manager(&log, false, "ok");
        run(m.enter()).expect("enters");
        let ((), reports) = reports_of(|| drop(m.exit(&Outcome::Ok)));
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(lines(&log).last().map(String::as_str), Some("dropped seeing Cancelled"));
    }

    #[test]
    fn dropping_an_unentered_a_half_entered_or_an_entered_manager_drops_the_body() {
        let log = Log::default();
        drop(manager(&log, false, "ok"));
        let mut half = manager(&log, false, "ok");
        assert!(poll(core::pin::pin!(half.enter())).is_pending());
        drop(half);
        let mut entered = manager(&log, false, "ok");
        run(entered.enter()).expect("enters");
        drop(entered);
        assert_eq!(lines(&log), ["before"]);
        // Cancelling a manager that did not finish its enter only drops it.
        let mut half = manager(&log, false, "ok");
        assert!(poll(core::pin::pin!(half.enter())).is_pending());
        let ((), reports) = reports_of(|| half.exit_cancelled());
        assert!(reports.is_empty());
    }

    #[test]
    fn a_send_body_gives_a_send_manager_and_send_futures() {
        fn is_send<S: Send>(_: &S) {}
        let body = |mut lender: Lender<String>| async move {
            let mut value = String::new();
            YieldOnce(false).await;
            let outcome = lender.lend(&mut value).await;
            YieldOnce(false).await;
            if outcome.is_ok() {
                Ok(())
            } else {
                Err(value)
            }
        };
        // SAFETY: the body moves the lender in and lends once, a local.
        let mut m = unsafe { AsyncFnManager::new("send", body) };
        is_send(&m);
        is_send(&m.enter());
        is_send(&m.exit(&Outcome::Ok));
    }
}
