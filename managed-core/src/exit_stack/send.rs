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
// `Sendable` flavor): its methods, written by `async_stack_methods!`, only
// add the `Send` bounds and erase entries into `dyn AsyncExit<Sendable> +
// Send`.

use super::async_core::{Core, Sendable};
use super::close::GivenBy;
use super::entries::Entered;
use crate::{Error, Outcome, SendAsyncManage};

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

super::async_methods::async_stack_methods! {
    stack: SendAsyncExitStack,
    manage: SendAsyncManage,
    send: [+ Send],
    flavor: Sendable,
    sent: " `Send`",
    async_manager: "an async `manager` whose futures are `Send`",
    async_fn: " (`Send`, as is its future)",
    callback_example: [
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
    ],
    callback_async_example: [
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
    ],
    run_notes: [
        ///
        /// The future is `Send` when the body's is. To spawn it, give `run` an
        /// `async fn` (generic over the stack's lifetime, as below) rather than
        /// an async closure: a spawned future must be `Send` whatever the
        /// lifetimes inside it, and rustc (1.85 to at least 1.95) only sees an
        /// async closure implement `AsyncFnOnce` for one stack lifetime
        /// ("implementation of `AsyncFnOnce` is not general enough").
    ],
    run_examples: [
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
    ],
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
#[diagnostic::do_not_recommend]
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
    use crate::test_support::{block_on, YieldOnce};
    use alloc::sync::Arc;
    use alloc::vec::Vec;
    use core::future::Future;
    use core::task::{Context, Waker};
    use std::sync::Mutex;

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
