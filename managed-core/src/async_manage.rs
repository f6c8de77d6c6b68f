//! The async managers: [`AsyncManage`] (any future) and [`SendAsyncManage`]
//! (`Send` futures, for generic code that must be spawnable), and the
//! cancellation policy.

use core::fmt;
use core::future::Future;

use crate::Outcome;

/// An async resource with an awaited enter and an awaited exit: Python's
/// `async with`. Runtime-agnostic (no executor is assumed).
///
/// Same contract as [`Manage`](crate::Manage): [`enter`](AsyncManage::enter)
/// acquires and lends the target (on `Err`, exit is never called);
/// [`exit`](AsyncManage::exit) consumes the manager, sees the [`Outcome`] and
/// returns its own error. An impl may write `async fn enter` / `async fn exit`.
///
/// # Cancellation
///
/// When the future of an async scope is dropped before the scope finished
/// (a `select!` lost, a timeout fired, a task aborted), the scope cannot
/// await anything any more. Every entered manager then gets
/// [`exit_cancelled`](AsyncManage::exit_cancelled), newest first, exactly
/// once. The default polls `exit(&Outcome::Cancelled)` **once**, in place,
/// with a no-op waker and inside `catch_unwind`; if that first poll does not
/// finish the exit, the partly run exit is dropped and the failure goes to
/// the [error hook](crate::set_error_hook). A thread is never blocked.
/// Managers whose cleanup must wait for I/O override `exit_cancelled`, e.g.
/// with `managed::tokio::spawn_cancelled_exit` (feature `tokio`), or make
/// the resource refuse reuse (close the connection instead of returning it
/// to a pool).
///
/// `defer!` bodies do not run on cancellation: they borrow locals that the
/// dropped future still holds. Cleanup that must survive cancellation
/// belongs in a manager.
///
/// # `Send`
///
/// A scope over concrete managers whose futures are `Send` is itself `Send`:
/// the compiler sees through the impls. Generic code cannot name that bound
/// on stable Rust; it bounds on [`SendAsyncManage`] instead, and every
/// `SendAsyncManage` is an `AsyncManage`.
///
/// # Example
///
/// ```
/// use managed::{AsyncManage, Outcome};
///
/// struct Session { log: Vec<String> }
///
/// impl AsyncManage for Session {
///     type Target = Vec<String>;
///     type Error = std::io::Error;
///     async fn enter(&mut self) -> Result<&mut Vec<String>, std::io::Error> {
///         self.log.push("open".into());
///         Ok(&mut self.log)
///     }
///     async fn exit(mut self, outcome: &Outcome<'_>) -> Result<(), std::io::Error> {
///         self.log.push(format!("close after {outcome:?}"));
///         assert_eq!(self.log, ["open", "work", "close after Ok"]);
///         Ok(())
///     }
/// }
///
/// # let waker = std::task::Waker::noop();
/// # let mut cx = std::task::Context::from_waker(&waker);
/// let run = async {
///     let mut session = Session { log: vec![] };
///     session.enter().await?.push("work".into());
///     session.exit(&Outcome::Ok).await
/// };
/// # let std::task::Poll::Ready(result) = std::pin::pin!(run).as_mut().poll(&mut cx) else { panic!() };
/// # use std::future::Future;
/// # result?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an async manager: it does not implement `managed::AsyncManage`",
    label = "an async manager is needed here",
    note = "an async manager implements `managed::AsyncManage` (`async fn enter(&mut self)` and \
            `async fn exit(self, &Outcome)`), or `managed::SendAsyncManage` when its futures are `Send`",
    note = "inside `scope!(async {{ .. }})`, `with!` also takes a sync `managed::Manage`"
)]
pub trait AsyncManage {
    /// What the block borrows while entered (often `Self`).
    type Target: ?Sized;
    /// Error of enter and exit. `Debug` so that a failure on a path that
    /// cannot return it (cancellation) is still reported.
    type Error: fmt::Debug;

    /// Acquire. On `Err`, `exit` is never called.
    ///
    /// # Errors
    /// When the resource cannot be acquired.
    fn enter(&mut self) -> impl Future<Output = Result<&mut Self::Target, Self::Error>>;

    /// Release. Sees how the block ended; consumes the manager.
    ///
    /// # Errors
    /// When the release fails (a flush, a commit, a close).
    fn exit(self, outcome: &Outcome<'_>) -> impl Future<Output = Result<(), Self::Error>>;

    /// Runs when the scope's future is dropped while this manager is entered
    /// (see [the policy](AsyncManage#cancellation)). Cannot await, must not
    /// block. The default polls `exit(&Outcome::Cancelled)` once in place and
    /// reports an error, a panic, or an unfinished exit through the error
    /// hook.
    ///
    /// ```
    /// use managed::{AsyncManage, Outcome};
    /// struct Flag<'a>(&'a std::cell::Cell<bool>);
    /// impl AsyncManage for Flag<'_> {
    ///     type Target = Self;
    ///     type Error = std::convert::Infallible;
    ///     async fn enter(&mut self) -> Result<&mut Self, Self::Error> { Ok(self) }
    ///     async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Self::Error> {
    ///         self.0.set(outcome.is_cancelled()); // finishes without waiting: done in place
    ///         Ok(())
    ///     }
    /// }
    /// let seen = std::cell::Cell::new(false);
    /// Flag(&seen).exit_cancelled();
    /// assert!(seen.get());
    /// ```
    fn exit_cancelled(self)
    where
        Self: Sized,
    {
        poll_exit_once(self.exit(&Outcome::Cancelled), core::any::type_name::<Self>(), Hint::Manager);
    }
}

/// [`AsyncManage`] whose futures are `Send`: what generic code bounds on
/// when the scope must be spawnable (`T: SendAsyncManage`), the
/// `trait_variant` pattern. Every `SendAsyncManage` is an `AsyncManage`
/// through a blanket impl, so implement one or the other, not both.
///
/// ```
/// use managed::{SendAsyncManage, Outcome};
///
/// struct Counter(u32);
/// impl SendAsyncManage for Counter {
///     type Target = u32;
///     type Error = std::convert::Infallible;
///     async fn enter(&mut self) -> Result<&mut u32, Self::Error> { Ok(&mut self.0) }
///     async fn exit(self, _: &Outcome<'_>) -> Result<(), Self::Error> { Ok(()) }
/// }
///
/// fn spawnable<M: SendAsyncManage + 'static>(m: M) -> impl std::future::Future<Output = ()> + Send {
///     async move {
///         let mut m = m;
///         let _ = m.enter().await;
///         let _ = m.exit(&Outcome::Ok).await;
///     }
/// }
/// let _future = spawnable(Counter(0));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Send` async manager: it does not implement `managed::SendAsyncManage`",
    label = "a manager whose futures are `Send` is needed here",
    note = "implement `managed::SendAsyncManage` (like `AsyncManage`, with `Send` futures) for managers used \
            by generic code that must be spawnable"
)]
pub trait SendAsyncManage: Send {
    /// What the block borrows while entered.
    type Target: ?Sized;
    /// Error of enter and exit.
    type Error: fmt::Debug;

    /// Acquire. On `Err`, `exit` is never called.
    ///
    /// # Errors
    /// When the resource cannot be acquired.
    fn enter(&mut self) -> impl Future<Output = Result<&mut Self::Target, Self::Error>> + Send;

    /// Release. Sees how the block ended; consumes the manager.
    ///
    /// # Errors
    /// When the release fails.
    fn exit(self, outcome: &Outcome<'_>) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// See [`AsyncManage::exit_cancelled`]; same default.
    ///
    /// ```
    /// # use managed::{SendAsyncManage, Outcome};
    /// struct Nothing;
    /// impl SendAsyncManage for Nothing {
    ///     type Target = Self;
    ///     type Error = std::convert::Infallible;
    ///     async fn enter(&mut self) -> Result<&mut Self, Self::Error> { Ok(self) }
    ///     async fn exit(self, _: &Outcome<'_>) -> Result<(), Self::Error> { Ok(()) }
    /// }
    /// Nothing.exit_cancelled(); // finished in place: nothing reported
    /// ```
    fn exit_cancelled(self)
    where
        Self: Sized,
    {
        poll_exit_once(self.exit(&Outcome::Cancelled), core::any::type_name::<Self>(), Hint::Manager);
    }
}

impl<T: SendAsyncManage> AsyncManage for T {
    type Target = T::Target;
    type Error = T::Error;

    #[inline]
    fn enter(&mut self) -> impl Future<Output = Result<&mut Self::Target, Self::Error>> {
        SendAsyncManage::enter(self)
    }

    #[inline]
    fn exit(self, outcome: &Outcome<'_>) -> impl Future<Output = Result<(), Self::Error>> {
        SendAsyncManage::exit(self, outcome)
    }

    #[inline]
    fn exit_cancelled(self) {
        SendAsyncManage::exit_cancelled(self);
    }
}

/// What a cancelled exit that did not finish in its one poll reports.
pub(crate) struct Unfinished(pub(crate) &'static str, pub(crate) Hint);

/// What the user can do about an [`Unfinished`] exit: it depends on what
/// the exit was.
#[derive(Clone, Copy)]
pub(crate) enum Hint {
    /// A manager's default `exit_cancelled`.
    Manager,
    /// An async exit function or callback of an `AsyncExitStack` (a closure:
    /// it has no `exit_cancelled` to override).
    StackFunction,
    /// `spawn_cancelled_exit` with no runtime to spawn on (the override is
    /// already there). Only the `tokio` module makes it.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    NoRuntime,
}

impl fmt::Debug for Unfinished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Hint::Manager => write!(
                f,
                "the exit of `{}` did not finish in place and was dropped; override `exit_cancelled` \
                 (e.g. `managed::tokio::spawn_cancelled_exit`) if it must wait (for a type you do not own, \
                 wrap it in a manager of yours that does)",
                self.0
            ),
            Hint::StackFunction => write!(
                f,
                "the async exit function `{}` of an `AsyncExitStack` (or `SendAsyncExitStack`) dropped unclosed did \
                 not finish in place \
                 and was dropped; close the stack with `.aclose().await`, or enter a manager whose \
                 `exit_cancelled` spawns the cleanup",
                self.0
            ),
            Hint::NoRuntime => write!(
                f,
                "the exit of `{}` did not finish in place and was dropped: there was no tokio runtime to spawn \
                 it on (or the runtime was shutting down)",
                self.0
            ),
        }
    }
}

/// The default cancellation policy: one poll with a no-op waker, inside
/// `catch_unwind` (the drop may happen while another panic unwinds, or
/// outside any runtime); anything but a clean finish is reported.
pub(crate) fn poll_exit_once<F, E>(exit: F, manager: &'static str, hint: Hint)
where
    F: Future<Output = Result<(), E>>,
    E: fmt::Debug,
{
    // The unfinished future is dropped inside the catch too: its drop glue
    // is user code that may panic.
    let polled = crate::scope::rules::catch(move || {
        let exit = core::pin::pin!(exit);
        exit.poll(&mut core::task::Context::from_waker(core::task::Waker::noop()))
    });
    match polled {
        Ok(core::task::Poll::Ready(Ok(()))) => {}
        Ok(core::task::Poll::Ready(Err(e))) => crate::report(crate::ReportKind::Cancelled, &e),
        Ok(core::task::Poll::Pending) => crate::report(crate::ReportKind::Cancelled, &Unfinished(manager, hint)),
        Err(panic) => crate::report(crate::ReportKind::Cancelled, &panic),
    }
}
