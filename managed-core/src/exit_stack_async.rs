//! `AsyncExitStack`: Python's `contextlib.AsyncExitStack`, with Rust
//! borrows. Takes sync and async managers and exits.
//!
//! ```
//! # futures::executor::block_on(async {
//! let stack = managed::AsyncExitStack::new();
//! stack.callback_async(|| async { println!("awaited at close") });
//! stack.aclose().await?;
//! # Ok::<(), managed::Error>(())
//! # }).unwrap();
//! ```

// Reuses the sync stack's storage (`Entries`, which never moves an entry, so
// lent targets stay valid) and its close rules (`CloseState`). What differs
// is the entry: `start` runs a sync exit in place (`Run::Done`) or gives the
// boxed future of an async one (`Run::Pending`), which the close loop awaits
// between two `record`s; `cancel` is what an entry gets when it cannot be
// awaited any more (the stack dropped unclosed, or the close's future dropped).

use alloc::boxed::Box;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use crate::async_manage::{poll_exit_once, Hint};
use crate::exit_stack::{CallbackExit, CloseState, Entering, Entries, Exit, ManagerExit, PushedExit};
use crate::scope_support::{catch, panicked_outcome, resume_panicked, Panicked};
use crate::{AsyncManage, Error, Manage, Outcome, ReportKind};

/// The boxed future of a started async exit.
type ExitFuture<'r> = Pin<Box<dyn Future<Output = Result<bool, Error>> + 'r>>;

/// What starting an exit gives.
enum Run<'r> {
    /// A sync exit ran in place.
    Done(Result<bool, Error>),
    /// An async exit, to be awaited.
    Pending(ExitFuture<'r>),
}

/// One registered exit of an async stack, type-erased.
trait AsyncExit {
    /// Runs a sync exit, or creates the future of an async one.
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r>
    where
        Self: 'r;

    /// The exit cannot be awaited any more: sync exits run with `outcome`
    /// (`Cancelled`, or a panic while unwinding), async ones get the
    /// cancellation policy. Failures go to the error hook; never unwinds.
    fn cancel(self: Box<Self>, outcome: &Outcome<'_>);
}

impl<T: Exit> AsyncExit for T {
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r>
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

/// An entered async manager.
struct AsyncManagerExit<M>(M);

impl<M> AsyncExit for AsyncManagerExit<M>
where
    M: AsyncManage,
    M::Error: Into<Error>,
{
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r>
    where
        Self: 'r,
    {
        let exit = self.0.exit(outcome);
        Run::Pending(Box::pin(async move { exit.await.map(|()| false).map_err(Into::into) }))
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        if let Err(panic) = catch(|| self.0.exit_cancelled()) {
            crate::report(ReportKind::Cancelled, &panic);
        }
    }
}

/// An async exit function (`push_async`).
struct PushedAsyncExit<F, Fut>(F, PhantomData<fn() -> Fut>);

impl<F, Fut> AsyncExit for PushedAsyncExit<F, Fut>
where
    F: FnOnce(&Outcome<'_>) -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    fn start<'r>(self: Box<Self>, outcome: &'r Outcome<'r>) -> Run<'r>
    where
        Self: 'r,
    {
        Run::Pending(Box::pin((self.0)(outcome)))
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        let f = self.0;
        match catch(move || f(&Outcome::Cancelled)) {
            Ok(exit) => {
                poll_exit_once(async move { exit.await.map(|_| ()) }, core::any::type_name::<F>(), Hint::StackFunction);
            }
            Err(panic) => crate::report(ReportKind::Cancelled, &panic),
        }
    }
}

/// An async callback (`callback_async`).
struct CallbackAsyncExit<F, Fut>(F, PhantomData<fn() -> Fut>);

impl<F, Fut> AsyncExit for CallbackAsyncExit<F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    fn start<'r>(self: Box<Self>, _outcome: &'r Outcome<'r>) -> Run<'r>
    where
        Self: 'r,
    {
        let callback = (self.0)();
        Run::Pending(Box::pin(async move {
            callback.await;
            Ok(false)
        }))
    }

    fn cancel(self: Box<Self>, _outcome: &Outcome<'_>) {
        let f = self.0;
        match catch(f) {
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

/// Reported when the future of a close is dropped while an async exit is
/// being awaited: the exit already started, so it cannot be cancelled
/// cleanly; its future is dropped unfinished.
struct ExitInterrupted;

impl fmt::Debug for ExitInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AsyncExitStack's close was cancelled while one of its async exits was running; that exit was dropped unfinished")
    }
}

/// Awaits a started exit, catching its panics; reports if dropped before it
/// finished.
struct Awaiting<'r>(Option<ExitFuture<'r>>);

impl Future for Awaiting<'_> {
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

impl Drop for Awaiting<'_> {
    fn drop(&mut self) {
        if let Some(exit) = self.0.take() {
            crate::report(ReportKind::Cancelled, &ExitInterrupted);
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
    owns_given: bool,
}

impl Drop for Closing<'_, '_> {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            state.abandon(self.owns_given);
        }
    }
}

/// Python's `contextlib.AsyncExitStack`: [`ExitStack`](crate::ExitStack)
/// for async code. Takes sync managers ([`enter`](AsyncExitStack::enter))
/// and async ones ([`enter_async`](AsyncExitStack::enter_async)), sync
/// exits ([`callback`](AsyncExitStack::callback),
/// [`push`](AsyncExitStack::push)) and async ones
/// ([`callback_async`](AsyncExitStack::callback_async),
/// [`push_async`](AsyncExitStack::push_async)), and closes them all with
/// [`aclose`](AsyncExitStack::aclose), newest first.
///
/// Closing follows the sync stack's rules exactly: every exit runs once,
/// the first failure is primary and later ones are attached as suppressed,
/// an exit returning `Ok(true)` suppresses the current error, a panicking
/// exit (or exit future) is caught and resumes after all ran.
///
/// # Cancellation
///
/// Nothing can be awaited in a destructor, so (DESIGN section 11):
/// - dropping an unclosed stack runs its sync exits in place with
///   [`Outcome::Cancelled`] ([`Outcome::Panic`] while unwinding), calls
///   [`AsyncManage::exit_cancelled`] on its async managers, and polls each
///   async exit function once in place; failures, panics and unfinished
///   exits go to the [error hook](crate::set_error_hook)
///   ([`ReportKind::Cancelled`]);
/// - dropping the future of [`aclose`](AsyncExitStack::aclose) mid-close
///   drops the exit being awaited (reported) and gives every exit not yet
///   run the same treatment. Either way each entry is exited exactly once.
///
/// # Not `Send`
///
/// Its entries are type-erased without a `Send` bound (so that managers and
/// exits may hold `Rc`s and borrows), so the stack is not `Send`, and
/// neither is a future that holds it across an `.await`: such a future
/// cannot be given to `tokio::spawn`. On tokio, run it on the current
/// thread (`tokio::task::spawn_local` inside a `LocalSet`, or `block_on`);
/// when the managers are known at compile time, `scope!(async ..)` over
/// `Send` managers is a `Send` future.
///
/// ```compile_fail
/// # fn spawn<F: std::future::Future + Send + 'static>(_: F) {}
/// spawn(async {
///     let stack = managed::AsyncExitStack::new();
///     stack.callback(|| ());
///     std::future::ready(()).await; // held across an await: not `Send`
///     stack.aclose().await
/// });
/// ```
///
/// # Example
///
/// ```
/// use managed::{AsyncExitStack, AsyncManage, Outcome};
///
/// struct Conn(Vec<&'static str>);
/// impl AsyncManage for Conn {
///     type Target = Vec<&'static str>;
///     type Error = managed::Error;
///     async fn enter(&mut self) -> Result<&mut Self::Target, managed::Error> { Ok(&mut self.0) }
///     async fn exit(self, _: &Outcome<'_>) -> Result<(), managed::Error> { Ok(()) }
/// }
///
/// # futures::executor::block_on(async {
/// let stack = AsyncExitStack::new();
/// let a = stack.enter_async(Conn(vec![])).await?;
/// let b = stack.enter(std::io::BufWriter::new(Vec::new()))?; // a sync manager
/// a.push("query");  // both targets held at once
/// std::io::Write::write_all(b, b"log")?;
/// stack.aclose().await?; // flushes b, then exits a
/// # Ok::<(), managed::Error>(())
/// # }).unwrap();
/// ```
pub struct AsyncExitStack<'a> {
    // `RefCell`: invariant in `'a` (as `ExitStack`), `!Sync`.
    entries: RefCell<Entries<dyn AsyncExit + 'a>>,
}

impl<'a> AsyncExitStack<'a> {
    /// An empty stack. Does not allocate.
    ///
    /// ```
    /// assert!(managed::AsyncExitStack::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        AsyncExitStack { entries: RefCell::new(Entries::new()) }
    }

    /// How many exits are registered.
    ///
    /// ```
    /// let stack = managed::AsyncExitStack::new();
    /// stack.callback(|| {});
    /// assert_eq!(stack.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// `true` when no exit is registered.
    ///
    /// ```
    /// assert!(managed::AsyncExitStack::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn register(&self, entry: Box<dyn AsyncExit + 'a>) {
        self.entries.borrow_mut().push(entry);
    }

    /// Enters a sync `manager` and registers its exit; lends its target for
    /// as long as the stack is borrowed (see
    /// [`ExitStack::enter`](crate::ExitStack::enter)).
    ///
    /// # Errors
    /// The manager's enter error; then nothing is registered.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let stack = managed::AsyncExitStack::new();
    /// let w = stack.enter(std::io::BufWriter::new(Vec::new()))?;
    /// std::io::Write::write_all(w, b"x")?;
    /// stack.aclose().await?;
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the SAFETY argument")]
    pub fn enter<M>(&self, manager: M) -> Result<&mut M::Target, M::Error>
    where
        M: Manage + 'a,
        M::Error: Into<Error>,
    {
        let entering = Entering::new(ManagerExit(manager));
        // SAFETY: as in `ExitStack::enter` (see `Entering`).
        let target: *mut M::Target = unsafe { (*entering.as_ptr()).0.enter() }?;
        // SAFETY: as in `ExitStack::enter`.
        Ok(unsafe { entering.register(&self.entries, |raw| -> NonNull<dyn AsyncExit + 'a> { raw }, target) })
    }

    /// Enters an async `manager` and registers its exit; lends its target
    /// for as long as the stack is borrowed, so several targets can be held
    /// at once.
    ///
    /// If this future is dropped while the enter is awaited, the manager is
    /// dropped and not registered (its enter did not finish, so it is not
    /// exited).
    ///
    /// # Errors
    /// The manager's enter error; then nothing is registered.
    ///
    /// ```
    /// use managed::{AsyncExitStack, AsyncManage, Outcome};
    /// struct Tx(u32);
    /// impl AsyncManage for Tx {
    ///     type Target = u32;
    ///     type Error = managed::Error;
    ///     async fn enter(&mut self) -> Result<&mut u32, managed::Error> { Ok(&mut self.0) }
    ///     async fn exit(self, _: &Outcome<'_>) -> Result<(), managed::Error> { Ok(()) }
    /// }
    /// # futures::executor::block_on(async {
    /// let stack = AsyncExitStack::new();
    /// let (a, b) = (stack.enter_async(Tx(1)).await?, stack.enter_async(Tx(2)).await?);
    /// *a += *b;
    /// assert_eq!(*a, 3);
    /// stack.aclose().await?;
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the SAFETY argument")]
    pub async fn enter_async<M>(&self, manager: M) -> Result<&mut M::Target, M::Error>
    where
        M: AsyncManage + 'a,
        M::Error: Into<Error>,
    {
        // Frees the box if the enter fails, panics, or this future is dropped
        // mid-enter. Declared before the enter future, so that future (which
        // borrows the manager) is dropped first.
        let entering = Entering::new(AsyncManagerExit(manager));
        // SAFETY: as in `ExitStack::enter` (see `Entering::as_ptr`): the
        // borrow of the manager is alive across the await; the box stays put
        // meanwhile, owned by `entering`, which only frees it when dropped,
        // after the enter future.
        let target: *mut M::Target = unsafe { (*entering.as_ptr()).0.enter() }.await?;
        // SAFETY: as in `ExitStack::enter`.
        Ok(unsafe { entering.register(&self.entries, |raw| -> NonNull<dyn AsyncExit + 'a> { raw }, target) })
    }

    /// Registers a plain cleanup, run in place at close.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let ran = std::cell::Cell::new(false);
    /// let stack = managed::AsyncExitStack::new();
    /// stack.callback(|| ran.set(true));
    /// stack.aclose().await?;
    /// assert!(ran.get());
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn callback(&self, f: impl FnOnce() + 'a) {
        self.register(Box::new(CallbackExit(f)));
    }

    /// Registers a sync exit function: sees the current [`Outcome`], may
    /// fail, may suppress the current error by returning `Ok(true)`.
    ///
    /// ```
    /// use managed::{AsyncExitStack, Outcome};
    /// # futures::executor::block_on(async {
    /// let stack = AsyncExitStack::new();
    /// stack.push(|o: &Outcome<'_>| Ok(o.error::<std::num::ParseIntError>().is_some()));
    /// let err = "x".parse::<i32>().unwrap_err();
    /// assert!(stack.aclose_with(&Outcome::err(&err)).await?); // suppressed
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn push(&self, exit: impl FnOnce(&Outcome<'_>) -> Result<bool, Error> + 'a) {
        self.register(Box::new(PushedExit(exit)));
    }

    /// Registers an async exit function: called with the current
    /// [`Outcome`] at close, its future is awaited; `Ok(true)` suppresses
    /// the current error.
    ///
    /// The future cannot borrow the outcome (one closure type cannot return
    /// futures of every borrow's lifetime): read what it needs first.
    ///
    /// ```
    /// use managed::{AsyncExitStack, Outcome};
    /// # futures::executor::block_on(async {
    /// let stack = AsyncExitStack::new();
    /// stack.push_async(|o: &Outcome<'_>| {
    ///     // Suppress only what this exit handles (here: I/O errors), so a
    ///     // panic or another error still reaches the caller.
    ///     let handled = o.error::<std::io::Error>().is_some();
    ///     async move { Ok(handled) } // e.g. await a rollback first
    /// });
    /// let err = std::io::Error::other("insert failed");
    /// assert!(stack.aclose_with(&Outcome::err(&err)).await?);
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn push_async<F, Fut>(&self, exit: F)
    where
        F: FnOnce(&Outcome<'_>) -> Fut + 'a,
        Fut: Future<Output = Result<bool, Error>> + 'a,
    {
        self.register(Box::new(PushedAsyncExit(exit, PhantomData)));
    }

    /// Registers an async cleanup: called at close, its future awaited.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let ran = std::cell::Cell::new(false);
    /// let stack = managed::AsyncExitStack::new();
    /// stack.callback_async(|| async { ran.set(true) });
    /// stack.aclose().await?;
    /// assert!(ran.get());
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn callback_async<F, Fut>(&self, f: F)
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = ()> + 'a,
    {
        self.register(Box::new(CallbackAsyncExit(f, PhantomData)));
    }

    /// Moves every registered exit to a new stack and leaves this one empty.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let mut stack = managed::AsyncExitStack::new();
    /// stack.callback(|| ());
    /// let kept = stack.pop_all();
    /// assert!(stack.is_empty());
    /// assert_eq!(kept.len(), 1);
    /// kept.aclose().await?;
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use = "dropping the new stack cancels the moved exits at once"]
    pub fn pop_all(&mut self) -> AsyncExitStack<'a> {
        AsyncExitStack { entries: RefCell::new(core::mem::take(self.entries.get_mut())) }
    }

    /// Runs every exit with [`Outcome::Ok`]: `aclose_with(&Outcome::Ok)`.
    ///
    /// # Errors
    /// The first exit failure, with later ones attached as suppressed.
    ///
    /// # Panics
    /// Resumes the first panic of an exit, after all exits ran.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let stack = managed::AsyncExitStack::new();
    /// stack.push_async(|_: &managed::Outcome<'_>| async { Err(managed::Error::msg("flush failed")) });
    /// assert_eq!(stack.aclose().await.unwrap_err().to_string(), "flush failed");
    /// # });
    /// ```
    pub async fn aclose(self) -> Result<(), Error> {
        self.aclose_with(&Outcome::Ok).await.map(|_| ())
    }

    /// Runs every exit, newest first, awaiting async ones, with `outcome` as
    /// how the block ended; the rules of
    /// [`ExitStack::close_with`](crate::ExitStack::close_with).
    ///
    /// Returns `Ok(true)` when `outcome` was an error and an exit suppressed
    /// it.
    ///
    /// # Errors
    /// The exit failures: the first, with later ones attached as suppressed.
    ///
    /// # Panics
    /// Resumes the first panic of an exit after all exits ran, unless
    /// `outcome` is itself a panic.
    ///
    /// ```
    /// use managed::{AsyncExitStack, Outcome};
    /// # futures::executor::block_on(async {
    /// let stack = AsyncExitStack::new();
    /// stack.push(|o: &Outcome<'_>| {
    ///     assert!(o.is_err());
    ///     Ok(false)
    /// });
    /// let block_error = std::io::Error::other("insert failed");
    /// assert!(!stack.aclose_with(&Outcome::err(&block_error)).await?);
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn aclose_with(self, outcome: &Outcome<'_>) -> Result<bool, Error> {
        // The caller keeps `outcome`: a cut-short close does not report it.
        self.close_all(outcome, false).await.into_result()
    }

    /// The close loop. If its future is dropped, the exit being awaited is
    /// dropped (reported), what was recorded is reported (and `outcome`'s
    /// failure with `owns_given`: `run`'s body failure has no other way
    /// out), and `self`'s drop (after the locals: it is a parameter)
    /// cancels the rest.
    async fn close_all(mut self, outcome: &Outcome<'_>, owns_given: bool) -> crate::exit_stack::Closed {
        let mut closing = Closing { state: Some(CloseState::new(outcome)), owns_given };
        loop {
            let Some(entry) = self.entries.get_mut().pop() else { break };
            let Some(state) = closing.state.as_mut() else { break };
            let ran = {
                let seen = state.outcome();
                let started = catch(|| entry.start(&seen));
                let ran = match started {
                    Ok(Run::Done(ran)) => Ok(ran),
                    Ok(Run::Pending(exit)) => Awaiting(Some(exit)).await,
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

    /// Runs the body with this stack, then closes it with the body's
    /// outcome (`async with AsyncExitStack() as stack:`); the rules of
    /// [`ExitStack::run`](crate::ExitStack::run): `Ok(None)` when the body's
    /// error was suppressed.
    ///
    /// # Errors
    /// The body's error with exit failures attached (when `E` is
    /// [`managed::Error`](Error)), or the first exit failure.
    ///
    /// ```
    /// use managed::{AsyncExitStack, Outcome};
    /// # futures::executor::block_on(async {
    /// let parsed = AsyncExitStack::new()
    ///     .run(async |stack| {
    ///         stack.push(|o: &Outcome<'_>| Ok(o.error::<std::num::ParseIntError>().is_some()));
    ///         Ok::<_, managed::Error>("x".parse::<i32>()?)
    ///     })
    ///     .await?;
    /// assert_eq!(parsed, None);
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn run<T, E>(self, body: impl AsyncFnOnce(&AsyncExitStack<'a>) -> Result<T, E>) -> Result<Option<T>, E>
    where
        E: From<Error> + fmt::Debug + Sync + 'static,
    {
        let result = crate::async_support::catch_async(body(&self)).await;
        match result {
            Ok(Ok(value)) => match self.close_all(&Outcome::Ok, true).await.into_result() {
                Ok(_) => Ok(Some(value)),
                Err(error) => Err(E::from(error)),
            },
            Ok(Err(mut error)) => {
                let closed = self.close_all(&Outcome::err(&error), true).await;
                if closed.given_suppressed {
                    return match closed.into_result() {
                        Ok(_) => Ok(None),
                        Err(later) => Err(E::from(later)),
                    };
                }
                for later in closed.failures {
                    crate::scope_support::attach_or_report(&mut error, E::from(later));
                }
                Err(error)
            }
            Err(panic) => {
                let closed = self.close_all(&panicked_outcome(&panic), true).await;
                for later in closed.failures {
                    crate::report(ReportKind::FailedWhileUnwinding, &later);
                }
                resume_panicked(panic)
            }
        }
    }
}

impl Default for AsyncExitStack<'_> {
    fn default() -> Self {
        AsyncExitStack::new()
    }
}

impl Drop for AsyncExitStack<'_> {
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

impl fmt::Debug for AsyncExitStack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entries.try_borrow() {
            Ok(entries) => f.debug_struct("AsyncExitStack").field("len", &entries.len()).finish(),
            Err(_) => f.debug_struct("AsyncExitStack").finish_non_exhaustive(),
        }
    }
}

/// `with!(AsyncExitStack::new())` in a `scope!(async { .. })`: the target is
/// the stack, seen through [`AsyncEntered`]; the scope's outcome closes it.
/// As with [`ExitStack`](crate::ExitStack), an `Ok(true)` exit cannot
/// suppress the scope's own error.
///
/// ```
/// use managed::{AsyncExitStack, AsyncManage, Outcome};
/// # futures::executor::block_on(async {
/// let mut stack = AsyncExitStack::new();
/// let entered = AsyncManage::enter(&mut stack).await?;
/// entered.callback(|| ());
/// AsyncManage::exit(stack, &Outcome::Ok).await?;
/// # Ok::<(), managed::Error>(())
/// # }).unwrap();
/// ```
impl<'a> AsyncManage for AsyncExitStack<'a> {
    type Target = AsyncEntered<'a>;
    type Error = Error;

    async fn enter(&mut self) -> Result<&mut AsyncEntered<'a>, Error> {
        Ok(AsyncEntered::from_mut(self))
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.aclose_with(outcome).await.map(|_| ())
    }

    /// Cancels every exit (as dropping the stack does).
    fn exit_cancelled(self) {
        drop(self);
    }
}

/// An [`AsyncExitStack`] as the target of its own enter: derefs to the
/// stack, so that `entered.enter(m)` reaches [`AsyncExitStack::enter`]
/// rather than [`AsyncManage::enter`] (see
/// [`exit_stack::Entered`](crate::exit_stack::Entered)).
///
/// ```
/// use managed::prelude::*;
/// # futures::executor::block_on(async {
/// let mut stack = AsyncExitStack::new();
/// let entered = AsyncManage::enter(&mut stack).await?;
/// entered.enter(std::io::BufWriter::new(Vec::new()))?;
/// assert_eq!(entered.len(), 1);
/// # Ok::<(), managed::Error>(())
/// # }).unwrap();
/// ```
#[repr(transparent)]
pub struct AsyncEntered<'a>(AsyncExitStack<'a>);

impl<'a> AsyncEntered<'a> {
    fn from_mut<'s>(stack: &'s mut AsyncExitStack<'a>) -> &'s mut AsyncEntered<'a> {
        let raw: *mut AsyncExitStack<'a> = stack;
        // SAFETY: `AsyncEntered` is `#[repr(transparent)]` over
        // `AsyncExitStack<'a>` (same layout and validity), and the cast
        // pointer is the unique borrow `stack`, reborrowed for `'s`.
        unsafe { &mut *raw.cast::<AsyncEntered<'a>>() }
    }
}

impl<'a> core::ops::Deref for AsyncEntered<'a> {
    type Target = AsyncExitStack<'a>;
    fn deref(&self) -> &AsyncExitStack<'a> {
        &self.0
    }
}

impl<'a> core::ops::DerefMut for AsyncEntered<'a> {
    fn deref_mut(&mut self) -> &mut AsyncExitStack<'a> {
        &mut self.0
    }
}

impl fmt::Debug for AsyncEntered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// Unit tests here so that Miri, run over this crate's lib tests, checks the
// raw-pointer lending of `enter`/`enter_async` and the guard of a dropped enter.
#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use alloc::vec::Vec;
    use core::cell::Cell;
    use core::task::Waker;

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut f = core::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                return v;
            }
        }
    }

    /// Pending once, then ready.
    struct YieldOnce(bool);

    impl Future for YieldOnce {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            if core::mem::replace(&mut self.0, true) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }

    /// Owns heap data, lends it after a pending enter, hands it back at exit.
    struct Owned(Vec<u32>, Rc<RefCell<Vec<u32>>>);

    impl AsyncManage for Owned {
        type Target = Vec<u32>;
        type Error = Error;
        async fn enter(&mut self) -> Result<&mut Vec<u32>, Error> {
            YieldOnce(false).await;
            Ok(&mut self.0)
        }
        async fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
            YieldOnce(false).await;
            self.1.borrow_mut().extend(self.0);
            Ok(())
        }
    }

    struct SyncOwned(Vec<u32>, Rc<RefCell<Vec<u32>>>);

    impl Manage for SyncOwned {
        type Target = Vec<u32>;
        type Error = Error;
        fn enter(&mut self) -> Result<&mut Vec<u32>, Error> {
            Ok(&mut self.0)
        }
        fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
            self.1.borrow_mut().extend(self.0);
            Ok(())
        }
    }

    #[test]
    fn targets_of_sync_and_async_entries_stay_valid_while_the_list_spills() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        block_on(async {
            let stack = AsyncExitStack::new();
            let mut targets = Vec::new();
            for i in 0..6u32 {
                let t = if i % 2 == 0 {
                    stack.enter_async(Owned(Vec::new(), seen.clone())).await.expect("enter")
                } else {
                    stack.enter(SyncOwned(Vec::new(), seen.clone())).expect("enter")
                };
                t.push(i);
                targets.push(t);
            }
            for (i, t) in targets.iter_mut().enumerate() {
                t.push(u32::try_from(i).expect("small") + 100);
            }
            drop(targets);
            stack.aclose().await.expect("close");
        });
        assert_eq!(&seen.borrow()[..2], &[5, 105]);
        assert_eq!(&seen.borrow()[10..], &[0, 100]);
    }

    #[test]
    fn a_dropped_enter_frees_the_manager_and_registers_nothing() {
        struct Counts(Rc<Cell<u32>>, Owned);
        impl Drop for Counts {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        impl AsyncManage for Counts {
            type Target = Vec<u32>;
            type Error = Error;
            async fn enter(&mut self) -> Result<&mut Vec<u32>, Error> {
                self.1.enter().await
            }
            async fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
                unreachable!("never entered")
            }
        }
        let dropped = Rc::new(Cell::new(0));
        let stack = AsyncExitStack::new();
        {
            let entering = stack.enter_async(Counts(dropped.clone(), Owned(Vec::new(), Rc::default())));
            let mut entering = core::pin::pin!(entering);
            assert!(entering.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        }
        assert_eq!(dropped.get(), 1);
        assert!(stack.is_empty());
    }

    #[test]
    fn an_unclosed_stack_cancels_its_entries_when_dropped() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let stack = AsyncExitStack::new();
        block_on(async {
            stack.enter(SyncOwned(alloc::vec![1], seen.clone())).expect("enter");
            stack.push(|o: &Outcome<'_>| {
                assert!(o.is_cancelled());
                Ok(false)
            });
        });
        drop(stack);
        assert_eq!(*seen.borrow(), [1]);
    }
}
