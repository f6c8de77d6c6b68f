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

use alloc::boxed::Box;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::async_core::{AsyncExit, AsyncManagerExit, CallbackAsyncExit, Core, Local, PushedAsyncExit};
use super::close::GivenBy;
use super::entries::{CallbackExit, Entered, Entering, PushedExit};
use crate::{AsyncManage, Error, Manage, Outcome};

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
/// A block says how it ended by closing the stack:
/// [`aclose`](AsyncExitStack::aclose) (succeeded),
/// [`aclose_with`](AsyncExitStack::aclose_with), [`run`](AsyncExitStack::run),
/// or `with!(AsyncExitStack::new())` in a `scope!(async ..)`. A stack that
/// is dropped instead (a `?` left before `aclose`, or the task holding it
/// was cancelled) was not told, so, as with
/// [`ExitStack`](crate::ExitStack#dropped-unclosed), no exit takes it for a
/// success: a transaction rolls back. Nothing can be awaited in a
/// destructor, so (DESIGN section 11):
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
/// exits may hold `Rc`s and borrows of thread-bound data), so the stack is
/// neither `Send` nor `Sync`, and a future that holds it across an `.await`
/// cannot be given to `tokio::spawn`. For that, use
/// [`SendAsyncExitStack`](crate::SendAsyncExitStack): the same stack, by the
/// same code, with `Send` entries ([`SendAsyncManage`](crate::SendAsyncManage)
/// managers, `Send` closures and futures), itself `Send + Sync`. When the
/// managers are known at compile time, `scope!(async ..)` over `Send`
/// managers is a `Send` future too. Or keep the task on one thread
/// (`tokio::task::spawn_local` inside a `LocalSet`, or `block_on`).
///
/// ```compile_fail,E0277
/// # fn spawn<F: std::future::Future + Send + 'static>(_: F) {}
/// spawn(async {
///     let stack = managed::AsyncExitStack::new();
///     stack.callback(|| ());
///     std::future::ready(()).await; // held across an await: not `Send`
///     stack.aclose().await
/// });
/// ```
///
/// The same with [`SendAsyncExitStack`](crate::SendAsyncExitStack) compiles:
///
/// ```
/// # fn spawn<F: std::future::Future + Send + 'static>(_: F) {}
/// spawn(async {
///     let stack = managed::SendAsyncExitStack::new();
///     stack.callback(|| ());
///     std::future::ready(()).await; // held across an await: `Send`
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
    // Invariant in `'a` (as `ExitStack`), neither `Send` nor `Sync`.
    core: Core<'a, Local>,
}

impl<'a> AsyncExitStack<'a> {
    /// An empty stack. Does not allocate.
    ///
    /// ```
    /// assert!(managed::AsyncExitStack::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        AsyncExitStack { core: Core::new() }
    }

    /// How many exits are registered.
    ///
    /// ```
    /// let stack = managed::AsyncExitStack::new();
    /// stack.callback(|| {});
    /// assert_eq!(stack.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// `true` when no exit is registered.
    ///
    /// ```
    /// assert!(managed::AsyncExitStack::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        self.core.enter(manager, |raw| -> NonNull<dyn AsyncExit<Local> + 'a> { raw })
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
        // SAFETY: as in `ExitStack::enter`: `target` comes from this entry's
        // enter, and the cell only frees entries through `get_mut`.
        Ok(unsafe {
            entering.register(&self.core.entries, |raw| -> NonNull<dyn AsyncExit<Local> + 'a> { raw }, target)
        })
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
        self.core.register(Box::new(CallbackExit(f)));
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
        self.core.register(Box::new(PushedExit(exit)));
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
        self.core.register(Box::new(PushedAsyncExit(exit, PhantomData)));
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
        self.core.register(Box::new(CallbackAsyncExit(f, PhantomData)));
    }

    /// Moves every registered exit to a new stack and leaves this one empty.
    /// The new stack's owner closes it; dropped unclosed, it cancels the
    /// moved exits (see [cancellation](AsyncExitStack#cancellation)).
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
        AsyncExitStack { core: self.core.pop_all() }
    }

    /// Runs every exit with [`Outcome::Ok`]: `aclose_with(&Outcome::Ok)`.
    /// This is how a block says it succeeded: a stack dropped without it
    /// cancels its exits ([`Outcome::Cancelled`]).
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
        self.core.close_all(outcome, GivenBy::Caller).await.into_result()
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
        let result = crate::scope::asynchronous::catch_async(body(&self)).await;
        self.core.settle_run(result).await
    }
}

impl Default for AsyncExitStack<'_> {
    fn default() -> Self {
        AsyncExitStack::new()
    }
}

impl fmt::Debug for AsyncExitStack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.debug(f)
    }
}

/// `with!(AsyncExitStack::new())` in a `scope!(async { .. })`: the target is
/// the stack, seen through [`Entered`]; the scope's outcome closes it.
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
    type Target = Entered<AsyncExitStack<'a>>;
    type Error = Error;

    async fn enter(&mut self) -> Result<&mut Entered<AsyncExitStack<'a>>, Error> {
        Ok(Entered::from_mut(self))
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.core.close_all(outcome, GivenBy::Exit).await.into_result().map(|_| ())
    }

    /// Cancels every exit (as dropping the stack does).
    fn exit_cancelled(self) {
        drop(self);
    }
}

// Unit tests here so that Miri, run over this crate's lib tests, checks the
// raw-pointer lending of `enter`/`enter_async` and the guard of a dropped enter.
#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use alloc::vec::Vec;
    use core::cell::{Cell, RefCell};
    use core::pin::Pin;
    use core::task::{Context, Poll, Waker};

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
