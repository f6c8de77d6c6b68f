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

use super::async_core::{Core, Local};
use super::close::GivenBy;
use super::entries::Entered;
use crate::{AsyncManage, Error, Outcome};

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
///   ([`ReportKind::Cancelled`](crate::ReportKind::Cancelled));
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

super::async_methods::async_stack_methods! {
    stack: AsyncExitStack,
    manage: AsyncManage,
    send: [],
    flavor: Local,
    sent: "",
    async_manager: "an async `manager`",
    async_fn: "",
    callback_example: [
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
    ],
    callback_async_example: [
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
    ],
    run_notes: [],
    run_examples: [],
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
#[diagnostic::do_not_recommend]
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
    use crate::test_support::{block_on, YieldOnce};
    use crate::Manage;
    use alloc::rc::Rc;
    use alloc::vec::Vec;
    use core::cell::{Cell, RefCell};
    use core::future::Future;
    use core::task::{Context, Waker};

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
