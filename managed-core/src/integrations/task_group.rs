//! Structured concurrency on tokio: [`TaskGroup`], Python's
//! `asyncio.TaskGroup` as an async manager (feature `tokio`; used as
//! `managed::tokio::TaskGroup`).

// The crate is `no_std`; these modules need `std`, and read better with its prelude.
use std::prelude::rust_2021::*;

use core::any::Any;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::boxed::Box;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::vec::Vec;

use ::tokio::runtime::Handle;
use ::tokio::sync::oneshot;
use ::tokio::task::{AbortHandle, JoinError, JoinSet};

use crate::outcome::PanicView;
use crate::scope::asynchronous::catch_async;
use crate::{Error, Outcome, ReportKind, SendAsyncManage};

/// A group of tokio tasks that ends with its scope: Python's
/// `asyncio.TaskGroup`, as an async manager.
///
/// - Tasks are spawned into the group inside the scope ([`spawn`](Self::spawn),
///   or from anywhere through a [`Spawner`]); each returns a
///   `Result<T, E>` with `E: Into<managed::Error>`.
/// - The exit awaits every task, also those spawned while it waits.
/// - The first task failure (an error or a panic) aborts the other tasks.
/// - A failing body (error or panic) aborts them all; so does cancelling
///   the scope ([`exit_cancelled`](SendAsyncManage::exit_cancelled) aborts
///   them at once, then awaits them on a spawned task that reports what
///   failed: nothing is awaited in `drop`).
/// - The exit's error is the first task failure, the later ones attached
///   to it as [suppressed](Error::suppressed) (the body's own error, if
///   any, stays the scope's primary error, with the group's attached to it).
/// - A task that panics is a failure too: once every task is done, the exit
///   resumes the first panic with its payload; the other failures go to the
///   error hook (a panic cannot carry them) as
///   [`ReportKind::SuppressedNotAttached`].
/// - A task aborted through its [`Task`] handle is not a failure.
/// - Once the group has failed, or its exit has finished, spawning does not
///   run the future: its handle resolves to `None`.
///
/// Unlike Python, a failing task does not interrupt the body: Rust cannot
/// cancel the block from one of its managers. The body sees it through
/// [`has_failed`](Self::has_failed), or through a [`Task`] that resolves to
/// `None`.
///
/// ```
/// use managed::{scope, with, Error};
/// use managed::tokio::TaskGroup;
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let (a, b) = scope!(async {
///     let tasks = with!(TaskGroup::new())?;
///     let a = tasks.spawn(async {
///         tokio::time::sleep(Duration::from_millis(20)).await;
///         Ok::<_, Error>(42)
///     });
///     let b = tasks.spawn(async { Ok::<_, Error>(11) });
///     Ok::<_, Error>((a, b))
/// })
/// .await?;                                  // every task is done here
/// assert_eq!((a.await, b.await), (Some(42), Some(11)));
///
/// // One task fails: the others are aborted, the scope returns its error.
/// let failed = scope!(async {
///     let tasks = with!(TaskGroup::new())?;
///     let slow = tasks.spawn(async {
///         tokio::time::sleep(Duration::from_secs(30)).await;
///         Ok::<_, Error>("too late")
///     });
///     tasks.spawn(async { Err::<(), _>(Error::msg("disk full")) });
///     Ok::<_, Error>(slow)
/// })
/// .await;
/// assert_eq!(failed.unwrap_err().to_string(), "disk full"); // at once, not after 30 s
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The tasks run on the runtime the group was entered on; entering it
/// outside a tokio runtime is an error.
#[must_use = "a TaskGroup does nothing until it is entered (`with!`)"]
pub struct TaskGroup {
    shared: Arc<Shared>,
}

/// A handle that spawns into a [`TaskGroup`] from anywhere (a task of the
/// group, another task): Python's tasks that call `tg.create_task`.
/// Cloneable, `Send`, `'static`.
///
/// ```
/// use managed::{scope, with, Error};
/// use managed::tokio::TaskGroup;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let leaf = scope!(async {
///     let tasks = with!(TaskGroup::new())?;
///     let spawner = tasks.spawner();
///     let parent = tasks.spawn(async move {
///         // A task adds a sibling; the group's exit awaits it too.
///         Ok::<_, Error>(spawner.spawn(async { Ok::<_, Error>("leaf") }))
///     });
///     Ok::<_, Error>(parent)
/// })
/// .await?;
/// assert_eq!(leaf.await.expect("parent ran").await, Some("leaf"));
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Spawner {
    shared: Arc<Shared>,
}

/// The handle of a task spawned into a [`TaskGroup`]: a future of the
/// task's value, `Some(value)` when the task succeeded, `None` when it
/// failed (its failure is the group's), was aborted, or was never run
/// (spawned into a group that had failed or finished). It may be awaited
/// inside the scope or after it; dropping it does not abort the task.
///
/// ```
/// use managed::{scope, with, Error};
/// use managed::tokio::TaskGroup;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// scope!(async {
///     let tasks = with!(TaskGroup::new())?;
///     let quick = tasks.spawn(async { Ok::<_, Error>(1) });
///     assert_eq!(quick.await, Some(1));        // awaited inside the scope
///     let stuck = tasks.spawn(std::future::pending::<Result<(), Error>>());
///     stuck.abort();                            // not a failure of the group
///     assert_eq!(stuck.await, None);
///     Ok::<_, Error>(())
/// })
/// .await?;
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Task<T> {
    value: Option<oneshot::Receiver<T>>,
    abort: Option<AbortHandle>,
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    tasks: JoinSet<()>,
    runtime: Option<Handle>,
    failures: Vec<Failure>,
    phase: Phase,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Tasks may be spawned.
    Open,
    /// A task or the body failed, or the scope was cancelled: the tasks are
    /// aborted, nothing new is spawned.
    Aborting,
    /// The exit awaited every task; or the group was dropped.
    Closed,
}

enum Failure {
    Error(Error),
    Panic(Box<dyn Any + Send>),
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(e) => write!(f, "a task of a TaskGroup failed: {e:#}"),
            Failure::Panic(payload) => {
                write!(f, "a task of a TaskGroup panicked: {:?}", PanicView::new(Some(&**payload)))
            }
        }
    }
}

impl TaskGroup {
    /// An empty group; tasks are spawned once it is entered.
    ///
    /// ```
    /// let tasks = managed::tokio::TaskGroup::new();
    /// assert_eq!(tasks.running(), 0);
    /// ```
    pub fn new() -> Self {
        TaskGroup {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    tasks: JoinSet::new(),
                    runtime: None,
                    failures: Vec::new(),
                    phase: Phase::Open,
                }),
            }),
        }
    }

    /// Spawns `future` as a task of the group; see [`Task`] for its value.
    /// `future` runs on the runtime the group was entered on (before the
    /// group is entered: the current one; with none, the spawn is a failure
    /// of the group and `future` is dropped). Never panics.
    ///
    /// ```
    /// use managed::{scope, with, Error};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let task = scope!(async {
    ///     let tasks = with!(managed::tokio::TaskGroup::new())?;
    ///     Ok::<_, Error>(tasks.spawn(async { Ok::<_, std::io::Error>(7) }))
    /// })
    /// .await?;
    /// assert_eq!(task.await, Some(7));
    /// # Ok::<(), Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn<F, T, E>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Error>,
    {
        spawn_into(&self.shared, future)
    }

    /// A [`Spawner`] for this group, to spawn from other tasks.
    ///
    /// ```
    /// let tasks = managed::tokio::TaskGroup::new();
    /// let spawner = tasks.spawner();
    /// let _also = spawner.clone();
    /// ```
    pub fn spawner(&self) -> Spawner {
        Spawner { shared: Arc::clone(&self.shared) }
    }

    /// Whether a task has failed (or the group is aborting for another
    /// reason): the body may stop early, as Python's would be cancelled.
    ///
    /// ```
    /// use managed::{scope, with, Error};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let result = scope!(async {
    ///     let tasks = with!(managed::tokio::TaskGroup::new())?;
    ///     tasks.spawn(async { Err::<(), _>(Error::msg("boom")) });
    ///     while !tasks.has_failed() {
    ///         tokio::task::yield_now().await;   // the body's own work
    ///     }
    ///     Ok::<_, Error>(())
    /// })
    /// .await;
    /// assert_eq!(result.unwrap_err().to_string(), "boom");
    /// # Ok::<(), Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_failed(&self) -> bool {
        self.shared.lock().phase != Phase::Open
    }

    /// How many tasks have not finished yet (finished ones are not kept).
    ///
    /// ```
    /// use managed::{scope, with, Error};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// scope!(async {
    ///     let tasks = with!(managed::tokio::TaskGroup::new())?;
    ///     let done = tasks.spawn(async { Ok::<_, Error>(()) });
    ///     assert_eq!(tasks.running(), 1);
    ///     done.await;
    ///     tokio::task::yield_now().await;
    ///     assert_eq!(tasks.running(), 0);
    ///     Ok::<_, Error>(())
    /// })
    /// .await?;
    /// # Ok::<(), Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn running(&self) -> usize {
        let mut state = self.shared.lock();
        state.reap_finished();
        state.tasks.len()
    }
}

impl Default for TaskGroup {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl Spawner {
    /// Spawns `future` into the group, as [`TaskGroup::spawn`] does.
    ///
    /// ```
    /// use managed::{scope, with, Error};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let task = scope!(async {
    ///     let spawner = with!(managed::tokio::TaskGroup::new())?.spawner();
    ///     Ok::<_, Error>(spawner.spawn(async { Ok::<_, Error>("spawned") }))
    /// })
    /// .await?;
    /// assert_eq!(task.await, Some("spawned"));
    /// # Ok::<(), Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn spawn<F, T, E>(&self, future: F) -> Task<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Into<Error>,
    {
        spawn_into(&self.shared, future)
    }
}

impl<T> Task<T> {
    /// Aborts the task (Python's `task.cancel()`): it stops at its next
    /// `.await`, its handle resolves to `None`, and the group goes on (an
    /// aborted task is not a failure).
    ///
    /// ```
    /// use managed::{scope, with, Error};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// scope!(async {
    ///     let tasks = with!(managed::tokio::TaskGroup::new())?;
    ///     let forever = tasks.spawn(std::future::pending::<Result<(), Error>>());
    ///     forever.abort();
    ///     Ok::<_, Error>(())
    /// })
    /// .await?;                                  // does not wait for ever
    /// # Ok::<(), Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn abort(&self) {
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }

    fn not_run() -> Self {
        Task { value: None, abort: None }
    }
}

impl<T> Future for Task<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let Some(value) = self.value.as_mut() else { return Poll::Ready(None) };
        let polled = Pin::new(value).poll(cx).map(Result::ok);
        if polled.is_ready() {
            self.value = None;
        }
        polled
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.abort.as_ref().map(AbortHandle::id)).finish_non_exhaustive()
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Spawner").field(&self.shared).finish()
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("TaskGroup")
            .field("tasks", &state.tasks.len())
            .field("failures", &state.failures.len())
            .field("phase", &state.phase)
            .finish()
    }
}

fn spawn_into<F, T, E>(shared: &Arc<Shared>, future: F) -> Task<T>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<Error>,
{
    let mut state = shared.lock();
    state.reap_finished();
    if state.phase != Phase::Open {
        return Task::not_run();
    }
    let Some(runtime) = state.runtime.clone().or_else(|| Handle::try_current().ok()) else {
        state.fail(Failure::Error(Error::msg(
            "TaskGroup::spawn outside a tokio runtime (enter the group inside one): the task was not run",
        )));
        return Task::not_run();
    };
    let (sender, receiver) = oneshot::channel();
    let group = Arc::clone(shared);
    let task = async move {
        match catch_async(future).await {
            Ok(Ok(value)) => drop(sender.send(value)),
            // Converted before the lock is taken: `Into` is user code.
            Ok(Err(e)) => {
                let failure = Failure::Error(e.into());
                group.lock().fail(failure);
            }
            Err(panicked) => {
                let failure = Failure::Panic(panicked.into_payload());
                group.lock().fail(failure);
            }
        }
    };
    let abort = state.tasks.spawn_on(task, &runtime);
    Task { value: Some(receiver), abort: Some(abort) }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent under a panic (none can happen while it
        // is locked but in tokio's own code): a poisoned lock is still used.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Records a failure; the first one aborts every task.
    fn fail(&mut self, failure: Failure) {
        self.failures.push(failure);
        self.abort();
    }

    fn abort(&mut self) {
        if self.phase == Phase::Open {
            self.phase = Phase::Aborting;
        }
        self.tasks.abort_all();
    }

    /// Forgets the tasks that finished, so that a long-lived group keeps
    /// only the running ones.
    fn reap_finished(&mut self) {
        while let Some(joined) = self.tasks.try_join_next() {
            self.joined(joined);
        }
    }

    /// A task's own failures are recorded by the task; what is left is a
    /// panic outside its future's poll (in its destructor, when aborted).
    fn joined(&mut self, joined: Result<(), JoinError>) {
        if let Err(e) = joined {
            if e.is_panic() {
                self.fail(Failure::Panic(e.into_panic()));
            }
        }
    }
}

impl SendAsyncManage for TaskGroup {
    type Target = TaskGroup;
    type Error = Error;

    /// Takes the current tokio runtime, where the tasks will run.
    ///
    /// # Errors
    /// Outside a tokio runtime.
    async fn enter(&mut self) -> Result<&mut TaskGroup, Error> {
        let runtime =
            Handle::try_current().map_err(|_| Error::msg("a TaskGroup must be entered inside a tokio runtime"))?;
        self.shared.lock().runtime = Some(runtime);
        Ok(self)
    }

    /// Aborts the tasks if the body failed, then awaits every task; returns
    /// the first task failure with the later ones suppressed, or resumes the
    /// first task panic.
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        if outcome.is_failure() {
            self.shared.lock().abort();
        }
        core::future::poll_fn(|cx| {
            let mut state = self.shared.lock();
            loop {
                match state.tasks.poll_join_next(cx) {
                    Poll::Ready(Some(joined)) => state.joined(joined),
                    Poll::Ready(None) => {
                        state.phase = Phase::Closed;
                        return Poll::Ready(());
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await;
        let failures = core::mem::take(&mut self.shared.lock().failures);
        group_result(failures)
    }

    /// Aborts every task now; then, on a runtime, awaits them on a spawned
    /// task that reports their failures through the error hook (outside a
    /// runtime the failures recorded so far are reported in place).
    fn exit_cancelled(self) {
        self.shared.lock().abort();
        if Handle::try_current().is_ok() {
            crate::tokio::spawn_cancelled_exit(self);
        }
        // Else dropped here: `Drop` reports what failed.
    }
}

/// The exit's result: the first failure primary, the later errors attached;
/// a panic resumes once the others are reported.
fn group_result(failures: Vec<Failure>) -> Result<(), Error> {
    if let Some(first_panic) = failures.iter().position(|f| matches!(f, Failure::Panic(_))) {
        let mut payload = None;
        for (i, failure) in failures.into_iter().enumerate() {
            match failure {
                Failure::Panic(p) if i == first_panic => payload = Some(p),
                other => crate::report(ReportKind::SuppressedNotAttached, &other),
            }
        }
        if let Some(payload) = payload {
            std::panic::resume_unwind(payload);
        }
        return Ok(());
    }
    let mut errors = failures.into_iter().filter_map(|f| match f {
        Failure::Error(e) => Some(e),
        Failure::Panic(_) => None,
    });
    match errors.next() {
        None => Ok(()),
        Some(mut primary) => {
            for later in errors {
                primary.push_suppressed(later);
            }
            Err(primary)
        }
    }
}

impl Drop for TaskGroup {
    /// A group dropped without its exit (never entered by a scope, or
    /// cancelled outside a runtime) aborts its tasks and reports the
    /// failures it recorded.
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if state.phase == Phase::Closed {
            return;
        }
        state.abort();
        state.phase = Phase::Closed;
        let failures = core::mem::take(&mut state.failures);
        drop(state);
        for failure in &failures {
            crate::report(ReportKind::Cancelled, failure);
        }
    }
}
