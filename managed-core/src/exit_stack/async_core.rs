//! The machinery both async stacks share: [`Core`] over a [`Flavor`].
//!
//! Reuses the sync stack's storage (`Entries`, which never moves an entry, so
//! lent targets stay valid) and its close rules (`CloseState`). What differs
//! is the entry: `start` runs a sync exit in place (`Run::Done`) or gives the
//! boxed future of an async one (`Run::Pending`), which the close loop awaits
//! between two `record`s; `cancel` is what an entry gets when it cannot be
//! awaited any more (the stack dropped unclosed, or the close's future dropped).
//!
//! Two stacks share this machinery: `AsyncExitStack` and
//! `SendAsyncExitStack` (`send.rs`). They differ only in a
//! `Flavor`: the erased entry (`dyn AsyncExit` or `dyn AsyncExit + Send`),
//! the erased exit future (with or without `+ Send`) and the cell of the
//! list (`RefCell`, or `Mutex` so that `&stack` is `Send`). `Core<'a, F>`
//! holds the list, the close loop, `run`'s settling and the cancelling drop;
//! each public stack is a thin wrapper whose methods carry its bounds (a
//! `Send` closure, `SendAsyncManage`) and erase entries into its flavor.

use alloc::boxed::Box;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use super::close::{run_outcome, settle_run, CloseState, Closed, GivenBy};
use super::entries::{Entering, Entries, EntriesCell, Exit, ManagerExit};
use crate::async_manage::{poll_exit_once, Hint};
use crate::scope::rules::{catch, Panicked};
use crate::{AsyncManage, Error, Manage, Outcome, ReportKind};

/// The exit future of a [`Local`] entry.
type LocalFuture<'r> = Pin<Box<dyn Future<Output = Result<bool, Error>> + 'r>>;
/// The exit future of a [`Sendable`] entry.
#[cfg(feature = "std")]
type SendFuture<'r> = Pin<Box<dyn Future<Output = Result<bool, Error>> + Send + 'r>>;

/// What differs between the async stacks; see the layout note above.
pub(crate) trait Flavor: Sized + 'static {
    /// A registered entry, type-erased.
    type Exit<'a>: ?Sized + AsyncExit<Self> + 'a;
    /// The future of a started async exit, type-erased.
    type Future<'r>: ?Sized + Future<Output = Result<bool, Error>> + 'r;
    /// The cell of the entries, behind the stack's `&self` methods.
    type List<'a>: EntriesCell<Self::Exit<'a>>;
    /// The public stack's name, for `Debug` and reports.
    const NAME: &'static str;
}

/// `AsyncExitStack`'s flavor: entries and futures need not be `Send`.
pub(crate) enum Local {}

impl Flavor for Local {
    type Exit<'a> = dyn AsyncExit<Local> + 'a;
    type Future<'r> = dyn Future<Output = Result<bool, Error>> + 'r;
    // `RefCell`: invariant in `'a` (as `ExitStack`), `!Sync`.
    type List<'a> = RefCell<Entries<dyn AsyncExit<Local> + 'a>>;
    const NAME: &'static str = "AsyncExitStack";
}

/// `SendAsyncExitStack`'s flavor: every entry and every exit future is
/// `Send`, and the list is behind a `Mutex`, so the stack is `Send + Sync`.
#[cfg(feature = "std")]
pub(crate) enum Sendable {}

#[cfg(feature = "std")]
impl Flavor for Sendable {
    type Exit<'a> = dyn AsyncExit<Sendable> + Send + 'a;
    type Future<'r> = dyn Future<Output = Result<bool, Error>> + Send + 'r;
    // `Mutex`: `Sync` for `Send` entries; never locked while user code runs
    // (see `EntriesCell`). Invariant in `'a`.
    type List<'a> = std::sync::Mutex<Entries<dyn AsyncExit<Sendable> + Send + 'a>>;
    const NAME: &'static str = "SendAsyncExitStack";
}

/// What starting an exit gives.
pub(crate) enum Run<'r, F: Flavor> {
    /// A sync exit ran in place.
    Done(Result<bool, Error>),
    /// An async exit, to be awaited.
    Pending(Pin<Box<F::Future<'r>>>),
}

/// One registered exit of an async stack of flavor `F`, type-erased.
pub(crate) trait AsyncExit<F: Flavor> {
    /// Runs a sync exit, or creates the future of an async one.
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r, F>
    where
        Self: 'r;

    /// The exit cannot be awaited any more: sync exits run with `outcome`
    /// (`Cancelled`, or a panic while unwinding), async ones get the
    /// cancellation policy. Failures go to the error hook; never unwinds.
    fn cancel(self: Box<Self>, outcome: &Outcome<'_>);
}

impl<T: Exit, F: Flavor> AsyncExit<F> for T {
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r, F>
    where
        Self: 'r,
    {
        Run::Done(self.run(outcome))
    }

    fn cancel(self: Box<Self>, outcome: &Outcome<'_>) {
        match catch(|| self.run(outcome)) {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => crate::report(ReportKind::Cancelled, &error),
            Err(panic) => crate::report(ReportKind::Cancelled, &panic),
        }
    }
}

/// An entered async manager. Its `AsyncExit` impls: `AsyncManage` for
/// [`Local`], `SendAsyncManage` for [`Sendable`].
pub(crate) struct AsyncManagerExit<M>(pub(crate) M);

/// An exit future as an entry's: never suppresses.
async fn manager_exit<E: Into<Error>>(exit: impl Future<Output = Result<(), E>>) -> Result<bool, Error> {
    exit.await.map(|()| false).map_err(Into::into)
}

/// `exit_cancelled`, with its panic reported.
fn cancel_manager(exit_cancelled: impl FnOnce()) {
    if let Err(panic) = catch(exit_cancelled) {
        crate::report(ReportKind::Cancelled, &panic);
    }
}

impl<M> AsyncExit<Local> for AsyncManagerExit<M>
where
    M: AsyncManage,
    M::Error: Into<Error>,
{
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r, Local>
    where
        Self: 'r,
    {
        let exit: LocalFuture<'r> = Box::pin(manager_exit(self.0.exit(outcome)));
        Run::Pending(exit)
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        cancel_manager(|| self.0.exit_cancelled());
    }
}

#[cfg(feature = "std")]
impl<M> AsyncExit<Sendable> for AsyncManagerExit<M>
where
    M: crate::SendAsyncManage,
    M::Error: Into<Error>,
{
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r, Sendable>
    where
        Self: 'r,
    {
        let exit: SendFuture<'r> = Box::pin(manager_exit(crate::SendAsyncManage::exit(self.0, outcome)));
        Run::Pending(exit)
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        cancel_manager(|| crate::SendAsyncManage::exit_cancelled(self.0));
    }
}

/// An async exit function (`push_async`).
pub(crate) struct PushedAsyncExit<F, Fut>(pub(crate) F, pub(crate) PhantomData<fn() -> Fut>);

impl<F, Fut> PushedAsyncExit<F, Fut>
where
    F: FnOnce(&Outcome<'_>) -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    fn cancel_now(self) {
        let f = self.0;
        match catch(move || f(&Outcome::Cancelled)) {
            Ok(exit) => {
                poll_exit_once(async move { exit.await.map(|_| ()) }, core::any::type_name::<F>(), Hint::StackFunction);
            }
            Err(panic) => crate::report(ReportKind::Cancelled, &panic),
        }
    }
}

impl<F, Fut> AsyncExit<Local> for PushedAsyncExit<F, Fut>
where
    F: FnOnce(&Outcome<'_>) -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r, Local>
    where
        Self: 'r,
    {
        let exit: LocalFuture<'r> = Box::pin((self.0)(outcome));
        Run::Pending(exit)
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        self.cancel_now();
    }
}

#[cfg(feature = "std")]
impl<F, Fut> AsyncExit<Sendable> for PushedAsyncExit<F, Fut>
where
    F: FnOnce(&Outcome<'_>) -> Fut,
    Fut: Future<Output = Result<bool, Error>> + Send,
{
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r, Sendable>
    where
        Self: 'r,
    {
        let exit: SendFuture<'r> = Box::pin((self.0)(outcome));
        Run::Pending(exit)
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        self.cancel_now();
    }
}

/// An async callback (`callback_async`).
pub(crate) struct CallbackAsyncExit<F, Fut>(pub(crate) F, pub(crate) PhantomData<fn() -> Fut>);

/// A callback's future as an entry's: never fails, never suppresses.
async fn callback_exit(callback: impl Future<Output = ()>) -> Result<bool, Error> {
    callback.await;
    Ok(false)
}

impl<F, Fut> CallbackAsyncExit<F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    fn cancel_now(self) {
        match catch(self.0) {
            Ok(callback) => poll_exit_once(
                async move {
                    callback.await;
                    Ok::<(), Error>(())
                },
                core::any::type_name::<F>(),
                Hint::StackFunction,
            ),
            Err(panic) => crate::report(ReportKind::Cancelled, &panic),
        }
    }
}

impl<F, Fut> AsyncExit<Local> for CallbackAsyncExit<F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    fn start<'r>(self: Box<Self>, _outcome: &'r Outcome<'r>) -> Run<'r, Local>
    where
        Self: 'r,
    {
        let exit: LocalFuture<'r> = Box::pin(callback_exit((self.0)()));
        Run::Pending(exit)
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        self.cancel_now();
    }
}

#[cfg(feature = "std")]
impl<F, Fut> AsyncExit<Sendable> for CallbackAsyncExit<F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()> + Send,
{
    fn start<'r>(self: Box<Self>, _outcome: &'r Outcome<'r>) -> Run<'r, Sendable>
    where
        Self: 'r,
    {
        let exit: SendFuture<'r> = Box::pin(callback_exit((self.0)()));
        Run::Pending(exit)
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        self.cancel_now();
    }
}

/// Reported when the future of a close is dropped while an async exit is
/// being awaited: the exit already started, so it cannot be cancelled
/// cleanly; its future is dropped unfinished.
struct ExitInterrupted(&'static str);

impl fmt::Debug for ExitInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}::aclose` was cancelled while one of its async exits was running; that exit \
             was dropped unfinished",
            self.0
        )
    }
}

/// Awaits a started exit, catching its panics; reports if dropped before it
/// finished.
struct Awaiting<'r, F: Flavor>(Option<Pin<Box<F::Future<'r>>>>);

impl<F: Flavor> Future for Awaiting<'_, F> {
    type Output = Result<Result<bool, Error>, Panicked>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(exit) = self.0.as_mut() else {
            // Polled again after it finished: the exit is gone, not run twice.
            return Poll::Ready(Ok(Ok(false)));
        };
        let polled = match catch(|| exit.as_mut().poll(cx)) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(done)) => Ok(done),
            Err(panic) => Err(panic),
        };
        // The finished (or panicked) future is dropped here, inside no catch:
        // dropping a boxed future whose poll returned runs only its captures'
        // drop glue, as dropping any value does.
        self.0 = None;
        Poll::Ready(polled)
    }
}

impl<F: Flavor> Drop for Awaiting<'_, F> {
    fn drop(&mut self) {
        if let Some(exit) = self.0.take() {
            crate::report(ReportKind::Cancelled, &ExitInterrupted(F::NAME));
            if let Err(panic) = catch(move || drop(exit)) {
                crate::report(ReportKind::Cancelled, &panic);
            }
        }
    }
}

/// The close's state while it is awaited; if its future is dropped, what
/// was recorded goes to the error hook (with the given failure when the
/// close owns it: see [`CloseState::abandon`]).
struct Closing<'r, 'o> {
    state: Option<CloseState<'r, 'o>>,
}

impl Drop for Closing<'_, '_> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            state.abandon();
        }
    }
}

/// What both async stacks are: the list of entries of flavor `F`, its close
/// loop, `run`'s settling, and the drop that cancels what was not run.
pub(crate) struct Core<'a, F: Flavor> {
    pub(crate) entries: F::List<'a>,
}

impl<'a, F: Flavor> Core<'a, F> {
    pub(crate) fn new() -> Self {
        Core { entries: EntriesCell::from_entries(Entries::new()) }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn register(&self, entry: Box<F::Exit<'a>>) {
        // SAFETY: the pointer comes from `Box::leak` and its ownership
        // passes to the list.
        unsafe { self.entries.push_raw(NonNull::from(Box::leak(entry))) };
    }

    /// Enters a sync manager and registers its exit, erased by `erase`
    /// (which must return its argument, unsized).
    #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the SAFETY argument")]
    pub(crate) fn enter<M>(
        &self,
        manager: M,
        erase: fn(NonNull<ManagerExit<M>>) -> NonNull<F::Exit<'a>>,
    ) -> Result<&mut M::Target, M::Error>
    where
        M: Manage + 'a,
    {
        let entering = Entering::new(ManagerExit(manager));
        // SAFETY: as in `ExitStack::enter` (see `Entering`).
        let target: *mut M::Target = unsafe { (*entering.as_ptr()).0.enter() }?;
        // SAFETY: as in `ExitStack::enter`: `target` comes from this entry's
        // enter, and the cell only frees entries through `get_mut`.
        Ok(unsafe { entering.register(&self.entries, erase, target) })
    }

    pub(crate) fn pop_all(&mut self) -> Self {
        Core { entries: EntriesCell::from_entries(core::mem::take(self.entries.get_mut())) }
    }

    /// The close loop. If its future is dropped, the exit being awaited is
    /// dropped (reported), what was recorded is reported (and `outcome`'s
    /// failure when it is `run`'s body's, which has no other way out), and
    /// `self`'s drop (after the locals: it is a parameter) cancels the rest.
    pub(crate) async fn close_all(mut self, outcome: &Outcome<'_>, given_by: GivenBy) -> Closed {
        let mut closing = Closing { state: Some(CloseState::new(outcome, given_by)) };
        loop {
            let Some(entry) = self.entries.get_mut().pop() else { break };
            let Some(state) = closing.state.as_mut() else { break };
            let ran = {
                let seen = state.outcome();
                let started = catch(|| entry.start(&seen));
                let ran = match started {
                    Ok(Run::Done(ran)) => Ok(ran),
                    Ok(Run::Pending(exit)) => Awaiting::<F>(Some(exit)).await,
                    Err(panic) => Err(panic),
                };
                ran
            };
            state.record(ran);
        }
        match closing.state.take() {
            Some(state) => state.finish(),
            None => unreachable!("the close state is only taken here"),
        }
    }

    /// The end of `run`: closes with the body's outcome and merges (the
    /// rules of [`ExitStack::run`](crate::ExitStack::run)).
    pub(crate) async fn settle_run<T, E>(self, body: Result<Result<T, E>, Panicked>) -> Result<Option<T>, E>
    where
        E: From<Error> + fmt::Debug + Sync + 'static,
    {
        let closed = self.close_all(&run_outcome(&body), GivenBy::Body).await;
        settle_run(body, closed)
    }

    pub(crate) fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(F::NAME).field("len", &self.len()).finish()
    }
}

impl<F: Flavor> Drop for Core<'_, F> {
    /// Cancels every exit not run yet, newest first (see
    /// [cancellation](AsyncExitStack#cancellation)).
    fn drop(&mut self) {
        let entries = self.entries.get_mut();
        if entries.len() == 0 {
            return;
        }
        let outcome = crate::outcome::in_drop(Outcome::Cancelled);
        while let Some(entry) = entries.pop() {
            // `cancel` catches what it runs; this catch is for the drop glue
            // of whatever it leaves (the entry itself is consumed by it).
            if let Err(panic) = catch(|| entry.cancel(&outcome)) {
                crate::report(ReportKind::Cancelled, &panic);
            }
        }
    }
}
