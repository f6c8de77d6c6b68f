//! `SendAsyncExitStack`: [`AsyncExitStack`](crate::AsyncExitStack) for
//! spawned tasks. It is `Send` and `Sync`, so a task may hold it (and
//! `&stack`) across `.await`s and still be given to `tokio::spawn`; in
//! exchange every manager, exit and exit future it takes must be `Send`.
//!
//! ```
//! # futures::executor::block_on(async {
//! let stack = managed::SendAsyncExitStack::new();
//! stack.callback_async(|| async { println!("awaited at close") });
//! stack.aclose().await?;
//! # Ok::<(), managed::Error>(())
//! # }).unwrap();
//! ```

// A thin wrapper over the machinery of `async_core.rs` (`Core` with the
// `Sendable` flavor): the methods here only carry the `Send` bounds and
// erase entries into `dyn AsyncExit<Sendable> + Send`.

use alloc::boxed::Box;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::async_core::{AsyncExit, AsyncManagerExit, CallbackAsyncExit, Core, PushedAsyncExit, Sendable};
use super::close::GivenBy;
use super::entries::{CallbackExit, Entered, Entering, PushedExit};
use crate::{Error, Manage, Outcome, SendAsyncManage};

/// Python's `contextlib.AsyncExitStack` for spawned tasks:
/// [`AsyncExitStack`](crate::AsyncExitStack) with `Send` entries, itself
/// `Send` and `Sync`.
///
/// A future that holds the stack, or `&stack`, across an `.await` is `Send`
/// (when the rest of it is), so it can be given to `tokio::spawn` or any
/// work-stealing executor. Everything it takes must therefore be `Send`:
/// async managers implement [`SendAsyncManage`] (their enter and exit
/// futures are `Send`), sync managers and every closure are `Send`, and the
/// futures of [`push_async`](SendAsyncExitStack::push_async) and
/// [`callback_async`](SendAsyncExitStack::callback_async) are `Send`. Use
/// [`AsyncExitStack`](crate::AsyncExitStack) for `Rc`s and borrows of
/// thread-bound data.
///
/// Everything else is [`AsyncExitStack`](crate::AsyncExitStack)'s, by the
/// same code: exits run newest first, each exactly once, also when earlier
/// ones fail or panic; the first failure is primary and later ones are
/// attached as suppressed; `Ok(true)` suppresses the current error; a
/// panicking exit is caught and resumes after all ran; dropping the stack
/// unclosed or the future of [`aclose`](SendAsyncExitStack::aclose)
/// mid-close applies the [cancellation
/// policy](crate::AsyncExitStack#cancellation) to every entry not yet
/// exited.
///
/// Several tasks may share one stack (`&stack`, or an `Arc`) and register
/// into it concurrently: registering takes a lock for the length of a push,
/// never while user code runs. Requires feature `std`.
///
/// # Example
///
/// ```
/// use managed::{Outcome, SendAsyncExitStack, SendAsyncManage};
///
/// struct Conn(Vec<&'static str>);
/// impl SendAsyncManage for Conn {
///     type Target = Vec<&'static str>;
///     type Error = managed::Error;
///     async fn enter(&mut self) -> Result<&mut Self::Target, managed::Error> { Ok(&mut self.0) }
///     async fn exit(self, _: &Outcome<'_>) -> Result<(), managed::Error> { Ok(()) }
/// }
///
/// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// # rt.block_on(async {
/// let task = tokio::spawn(async {
///     let stack = SendAsyncExitStack::new();
///     let conn = stack.enter_async(Conn(vec![])).await?;
///     stack.push_async(|o: &Outcome<'_>| {
///         let failed = o.is_failure(); // read before the future
///         async move {
///             if failed { /* e.g. client.execute("ROLLBACK").await? */ }
///             Ok(false)
///         }
///     });
///     tokio::task::yield_now().await; // held across awaits, maybe on another thread
///     conn.push("query");
///     stack.aclose().await
/// });
/// task.await.unwrap()?;
/// # Ok::<(), managed::Error>(())
/// # }).unwrap();
/// ```
///
/// A manager whose futures are not known to be `Send` is refused:
///
/// ```compile_fail,E0277
/// use managed::{AsyncManage, Outcome};
/// struct Local(std::rc::Rc<u32>);
/// impl AsyncManage for Local {
///     type Target = Self;
///     type Error = managed::Error;
///     async fn enter(&mut self) -> Result<&mut Self, managed::Error> { Ok(self) }
///     async fn exit(self, _: &Outcome<'_>) -> Result<(), managed::Error> { Ok(()) }
/// }
/// # futures::executor::block_on(async {
/// let stack = managed::SendAsyncExitStack::new();
/// stack.enter_async(Local(std::rc::Rc::new(1))).await?; // `Local` is not a `SendAsyncManage`
/// # Ok::<(), managed::Error>(())
/// # });
/// ```
///
/// and so is a closure that is not `Send`:
///
/// ```compile_fail,E0277
/// let counter = std::rc::Rc::new(std::cell::Cell::new(0));
/// let stack = managed::SendAsyncExitStack::new();
/// stack.callback(move || counter.set(1)); // `Rc` cannot be sent between threads safely
/// ```
pub struct SendAsyncExitStack<'a> {
    // Invariant in `'a`; `Send + Sync` (a `Mutex` of `Send` entries).
    core: Core<'a, Sendable>,
}

impl<'a> SendAsyncExitStack<'a> {
    /// An empty stack. Does not allocate.
    ///
    /// ```
    /// assert!(managed::SendAsyncExitStack::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        SendAsyncExitStack { core: Core::new() }
    }

    /// How many exits are registered.
    ///
    /// ```
    /// let stack = managed::SendAsyncExitStack::new();
    /// stack.callback(|| {});
    /// assert_eq!(stack.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// `true` when no exit is registered.
    ///
    /// ```
    /// assert!(managed::SendAsyncExitStack::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Enters a sync `Send` `manager` and registers its exit; lends its
    /// target for as long as the stack is borrowed (see
    /// [`ExitStack::enter`](crate::ExitStack::enter)).
    ///
    /// # Errors
    /// The manager's enter error; then nothing is registered.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let stack = managed::SendAsyncExitStack::new();
    /// let w = stack.enter(std::io::BufWriter::new(Vec::new()))?;
    /// std::io::Write::write_all(w, b"x")?;
    /// stack.aclose().await?;
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    #[allow(clippy::mut_from_ref, reason = "each call lends a different entry's target; see the SAFETY argument")]
    pub fn enter<M>(&self, manager: M) -> Result<&mut M::Target, M::Error>
    where
        M: Manage + Send + 'a,
        M::Error: Into<Error>,
    {
        self.core.enter(manager, |raw| -> NonNull<dyn AsyncExit<Sendable> + Send + 'a> { raw })
    }

    /// Enters an async `manager` whose futures are `Send` and registers its
    /// exit; lends its target for as long as the stack is borrowed, so
    /// several targets can be held at once.
    ///
    /// If this future is dropped while the enter is awaited, the manager is
    /// dropped and not registered (its enter did not finish, so it is not
    /// exited).
    ///
    /// # Errors
    /// The manager's enter error; then nothing is registered.
    ///
    /// ```
    /// use managed::{Outcome, SendAsyncExitStack, SendAsyncManage};
    /// struct Tx(u32);
    /// impl SendAsyncManage for Tx {
    ///     type Target = u32;
    ///     type Error = managed::Error;
    ///     async fn enter(&mut self) -> Result<&mut u32, managed::Error> { Ok(&mut self.0) }
    ///     async fn exit(self, _: &Outcome<'_>) -> Result<(), managed::Error> { Ok(()) }
    /// }
    /// # futures::executor::block_on(async {
    /// let stack = SendAsyncExitStack::new();
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
        M: SendAsyncManage + 'a,
        M::Error: Into<Error>,
    {
        // Frees the box if the enter fails, panics, or this future is dropped
        // mid-enter. Declared before the enter future, so that future (which
        // borrows the manager) is dropped first. `Send`, as the box it owns.
        let entering = Entering::new(AsyncManagerExit(manager));
        // SAFETY: as in `AsyncExitStack::enter_async` (see
        // `Entering::as_ptr`): the borrow of the manager is alive across the
        // await; the box stays put meanwhile, owned by `entering`, which
        // only frees it when dropped, after the enter future. Moving this
        // future to another thread moves both together.
        let manager: &mut M = unsafe { &mut (*entering.as_ptr()).0 };
        let target: *mut M::Target = SendAsyncManage::enter(manager).await?;
        // SAFETY: as in `ExitStack::enter`: `target` comes from this entry's
        // enter, and the `Mutex` cell only frees entries through `get_mut`
        // (a push from another thread meanwhile adds a different box).
        Ok(unsafe {
            entering.register(&self.core.entries, |raw| -> NonNull<dyn AsyncExit<Sendable> + Send + 'a> { raw }, target)
        })
    }

    /// Registers a plain `Send` cleanup, run in place at close.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// # futures::executor::block_on(async {
    /// let ran = AtomicBool::new(false);
    /// let stack = managed::SendAsyncExitStack::new();
    /// stack.callback(|| ran.store(true, Ordering::Relaxed));
    /// stack.aclose().await?;
    /// assert!(ran.load(Ordering::Relaxed));
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn callback(&self, f: impl FnOnce() + Send + 'a) {
        self.core.register(Box::new(CallbackExit(f)));
    }

    /// Registers a sync `Send` exit function: sees the current [`Outcome`],
    /// may fail, may suppress the current error by returning `Ok(true)`.
    ///
    /// ```
    /// use managed::{Outcome, SendAsyncExitStack};
    /// # futures::executor::block_on(async {
    /// let stack = SendAsyncExitStack::new();
    /// stack.push(|o: &Outcome<'_>| Ok(o.error::<std::num::ParseIntError>().is_some()));
    /// let err = "x".parse::<i32>().unwrap_err();
    /// assert!(stack.aclose_with(&Outcome::err(&err)).await?); // suppressed
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn push(&self, exit: impl FnOnce(&Outcome<'_>) -> Result<bool, Error> + Send + 'a) {
        self.core.register(Box::new(PushedExit(exit)));
    }

    /// Registers a `Send` async exit function: called with the current
    /// [`Outcome`] at close, its `Send` future is awaited; `Ok(true)`
    /// suppresses the current error.
    ///
    /// The future cannot borrow the outcome (one closure type cannot return
    /// futures of every borrow's lifetime): read what it needs first.
    ///
    /// ```
    /// use managed::{Outcome, SendAsyncExitStack};
    /// # futures::executor::block_on(async {
    /// let stack = SendAsyncExitStack::new();
    /// stack.push_async(|o: &Outcome<'_>| {
    ///     // Suppress only what this exit handles (here: I/O errors).
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
        F: FnOnce(&Outcome<'_>) -> Fut + Send + 'a,
        Fut: Future<Output = Result<bool, Error>> + Send + 'a,
    {
        self.core.register(Box::new(PushedAsyncExit(exit, PhantomData)));
    }

    /// Registers a `Send` async cleanup: called at close, its `Send` future
    /// awaited.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// # futures::executor::block_on(async {
    /// let ran = AtomicBool::new(false);
    /// let stack = managed::SendAsyncExitStack::new();
    /// stack.callback_async(|| async { ran.store(true, Ordering::Relaxed) });
    /// stack.aclose().await?;
    /// assert!(ran.load(Ordering::Relaxed));
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn callback_async<F, Fut>(&self, f: F)
    where
        F: FnOnce() -> Fut + Send + 'a,
        Fut: Future<Output = ()> + Send + 'a,
    {
        self.core.register(Box::new(CallbackAsyncExit(f, PhantomData)));
    }

    /// Moves every registered exit to a new stack and leaves this one empty.
    /// The new stack's owner closes it; dropped unclosed, it cancels the
    /// moved exits (see [cancellation](crate::AsyncExitStack#cancellation)).
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let mut stack = managed::SendAsyncExitStack::new();
    /// stack.callback(|| ());
    /// let kept = stack.pop_all();
    /// assert!(stack.is_empty());
    /// assert_eq!(kept.len(), 1);
    /// kept.aclose().await?;
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use = "dropping the new stack cancels the moved exits at once"]
    pub fn pop_all(&mut self) -> SendAsyncExitStack<'a> {
        SendAsyncExitStack { core: self.core.pop_all() }
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
    /// let stack = managed::SendAsyncExitStack::new();
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
    /// use managed::{Outcome, SendAsyncExitStack};
    /// # futures::executor::block_on(async {
    /// let stack = SendAsyncExitStack::new();
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
    /// The future is `Send` when the body's is. To spawn it, give `run` an
    /// `async fn` (generic over the stack's lifetime, as below) rather than
    /// an async closure: a spawned future must be `Send` whatever the
    /// lifetimes inside it, and rustc (1.85 to at least 1.95) only sees an
    /// async closure implement `AsyncFnOnce` for one stack lifetime
    /// ("implementation of `AsyncFnOnce` is not general enough").
    ///
    /// # Errors
    /// The body's error with exit failures attached (when `E` is
    /// [`managed::Error`](Error)), or the first exit failure.
    ///
    /// ```
    /// use managed::{Outcome, SendAsyncExitStack};
    /// # futures::executor::block_on(async {
    /// let parsed = SendAsyncExitStack::new()
    ///     .run(async |stack| {
    ///         stack.push(|o: &Outcome<'_>| Ok(o.error::<std::num::ParseIntError>().is_some()));
    ///         Ok::<_, managed::Error>("x".parse::<i32>()?)
    ///     })
    ///     .await?;
    /// assert_eq!(parsed, None);
    /// # Ok::<(), managed::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// Spawned:
    ///
    /// ```
    /// use managed::{Error, SendAsyncExitStack};
    ///
    /// async fn body(stack: &SendAsyncExitStack<'_>) -> Result<u32, Error> {
    ///     stack.callback_async(|| async { tokio::task::yield_now().await });
    ///     Ok(7)
    /// }
    /// # let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// # rt.block_on(async {
    /// let seven = tokio::spawn(SendAsyncExitStack::new().run(body)).await.unwrap()?;
    /// assert_eq!(seven, Some(7));
    /// # Ok::<(), Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn run<T, E>(
        self,
        body: impl AsyncFnOnce(&SendAsyncExitStack<'a>) -> Result<T, E>,
    ) -> Result<Option<T>, E>
    where
        E: From<Error> + fmt::Debug + Sync + 'static,
    {
        let result = crate::scope::asynchronous::catch_async(body(&self)).await;
        self.core.settle_run(result).await
    }
}

impl Default for SendAsyncExitStack<'_> {
    fn default() -> Self {
        SendAsyncExitStack::new()
    }
}

impl fmt::Debug for SendAsyncExitStack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.debug(f)
    }
}

/// `with!(SendAsyncExitStack::new())` in a `scope!(async { .. })`, or a
/// stack entered into another stack: the target is the stack, seen through
/// [`Entered`]; the outcome closes it. Its futures are `Send`, so
/// generic code bounded on [`SendAsyncManage`] takes it (and so does
/// everything that takes an [`AsyncManage`](crate::AsyncManage)). As with
/// [`ExitStack`](crate::ExitStack), an `Ok(true)` exit cannot suppress the
/// scope's own error.
///
/// ```
/// use managed::{Outcome, SendAsyncExitStack, SendAsyncManage};
/// # futures::executor::block_on(async {
/// let outer = SendAsyncExitStack::new();
/// let inner = outer.enter_async(SendAsyncExitStack::new()).await?; // nested
/// inner.callback(|| ());
/// assert_eq!(inner.len(), 1);
/// outer.aclose().await?; // closes `inner`
/// # Ok::<(), managed::Error>(())
/// # }).unwrap();
/// ```
impl<'a> SendAsyncManage for SendAsyncExitStack<'a> {
    type Target = Entered<SendAsyncExitStack<'a>>;
    type Error = Error;

    async fn enter(&mut self) -> Result<&mut Entered<SendAsyncExitStack<'a>>, Error> {
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

// Compile-time checks: the stack, `&stack` held across an await, and the
// futures of its methods are `Send` (a regression makes this module fail to
// compile). The integration tests spawn them on tokio.
const _: () = {
    fn send<T: Send>(_: &T) {}
    fn send_sync<T: Send + Sync>() {}
    #[allow(dead_code, reason = "type-checked only")]
    fn futures_are_send<M: SendAsyncManage + 'static>(manager: M)
    where
        M::Error: Into<Error>,
    {
        send_sync::<SendAsyncExitStack<'static>>();
        let held_across_awaits = async move {
            let stack = SendAsyncExitStack::new();
            let _ = stack.enter_async(manager).await;
            core::future::ready(()).await;
            stack.callback(|| ());
            let _ = stack.aclose().await;
        };
        send(&held_across_awaits);
    }
};

// Unit tests here so that Miri, run over this crate's lib tests, checks the
// raw-pointer lending through the `Mutex` cell.
#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use alloc::vec::Vec;
    use core::pin::Pin;
    use core::task::{Context, Poll, Waker};
    use std::sync::Mutex;

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
    struct Owned(Vec<u32>, Arc<Mutex<Vec<u32>>>);

    impl SendAsyncManage for Owned {
        type Target = Vec<u32>;
        type Error = Error;
        async fn enter(&mut self) -> Result<&mut Vec<u32>, Error> {
            YieldOnce(false).await;
            Ok(&mut self.0)
        }
        async fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
            YieldOnce(false).await;
            self.1.lock().expect("test lock").extend(self.0);
            Ok(())
        }
    }

    #[test]
    fn targets_stay_valid_while_threads_push_and_the_list_spills() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stack = SendAsyncExitStack::new();
        let targets: Vec<&mut Vec<u32>> = block_on(async {
            let mut targets = Vec::new();
            for i in 0..3u32 {
                let t = stack.enter_async(Owned(alloc::vec![i], seen.clone())).await.expect("enter");
                targets.push(t);
            }
            targets
        });
        // Other threads register through `&stack` while the targets are held.
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..3 {
                        stack.callback(|| ());
                    }
                });
            }
        });
        for (i, t) in targets.into_iter().enumerate() {
            t.push(u32::try_from(i).expect("small") + 100);
        }
        assert_eq!(stack.len(), 9);
        block_on(stack.aclose()).expect("close");
        assert_eq!(*seen.lock().expect("test lock"), [2, 102, 1, 101, 0, 100]);
    }

    #[test]
    fn a_dropped_enter_frees_the_manager_and_registers_nothing() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stack = SendAsyncExitStack::new();
        {
            let entering = stack.enter_async(Owned(alloc::vec![7], seen.clone()));
            let mut entering = core::pin::pin!(entering);
            assert!(entering.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        }
        assert_eq!(Arc::strong_count(&seen), 1, "the manager was dropped");
        assert!(stack.is_empty());
    }
}
