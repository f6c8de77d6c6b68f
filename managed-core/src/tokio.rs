//! Tokio support (feature `tokio`): async managers for the tokio types
//! whose `Drop` loses errors, and [`spawn_cancelled_exit`] for managers
//! whose cleanup must still be awaited after a cancellation.
//!
//! ```
//! use managed::{scope, with, Error};
//! use tokio::io::AsyncWriteExt;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let path = std::env::temp_dir().join("managed-doc-tokio-module.txt");
//! scope!(async {
//!     let file = with!(tokio::fs::File::create(&path).await?)?;   // written, synced at the end
//!     let out = with!(tokio::io::BufWriter::new(file))?;          // flushed first (newest first)
//!     out.write_all(b"kept").await?;
//!     Ok::<_, Error>(())
//! })
//! .await?;                                                         // a flush or sync error is in here
//! assert_eq!(std::fs::read(&path)?, b"kept");
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Error>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use ::tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use ::tokio::task::JoinHandle;
use core::fmt;
use std::io;

pub use crate::integrations::task_group::{Spawner, Task, TaskGroup};

use crate::async_manage::Hint;
use crate::scope::asynchronous::catch_async;
use crate::{Outcome, ReportKind, SendAsyncManage};

/// Exit flushes the buffer and returns the flush error (dropping a tokio
/// `BufWriter` with buffered data loses it without a word). The target is
/// the writer itself. Flushes on every outcome, as the std impl does.
///
/// ```
/// use managed::SendAsyncManage;
/// use tokio::io::AsyncWriteExt;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut out = tokio::io::BufWriter::new(Vec::new());
/// out.enter().await?.write_all(b"hello").await?;
/// out.exit(&managed::Outcome::Ok).await?; // the flush error, if any, comes back here
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
impl<W: AsyncWrite + Unpin + Send> SendAsyncManage for BufWriter<W> {
    type Target = BufWriter<W>;
    type Error = io::Error;

    async fn enter(&mut self) -> io::Result<&mut Self::Target> {
        Ok(self)
    }

    async fn exit(mut self, _outcome: &Outcome<'_>) -> io::Result<()> {
        self.flush().await
    }
}

/// The items of the manager of a file whose written data `sync_all` makes
/// durable: written once, for `tokio::fs::File` and for the recording file
/// of this module's tests, so that the tests run the very code the `File`
/// manager runs (a real file's flush and sync cannot be observed without a
/// race). The file needs `AsyncWrite + Unpin + Send + 'static` and an
/// inherent `async fn sync_all(&self) -> io::Result<()>`. Only the items come
/// from the macro: the impl headers are written out, so rustc shows them as
/// written when it lists the implementors of `SendAsyncManage`.
macro_rules! flush_and_sync_manager {
    () => {
        type Target = Self;
        type Error = ::std::io::Error;

        async fn enter(&mut self) -> ::std::io::Result<&mut Self> {
            Ok(self)
        }

        async fn exit(mut self, _outcome: &$crate::Outcome<'_>) -> ::std::io::Result<()> {
            ::tokio::io::AsyncWriteExt::flush(&mut self).await?;
            $crate::tokio::unless_unsyncable(self.sync_all().await)
        }

        fn exit_cancelled(self) {
            $crate::tokio::spawn_cancelled_exit(self);
        }
    };
}

/// `sync_all`'s result, where a file that cannot be synced because of what
/// it is (read-only on platforms that refuse it) is `Ok`: no data was lost.
fn unless_unsyncable(synced: io::Result<()>) -> io::Result<()> {
    match synced {
        Err(e) if matches!(e.kind(), io::ErrorKind::InvalidInput | io::ErrorKind::PermissionDenied) => Ok(()),
        other => other,
    }
}

/// Exit waits for the file's pending write (tokio writes in the background
/// and reports a failed write only to the next operation, which after a drop
/// never comes) and then calls `sync_all`, returning either error. A file
/// that cannot be synced because of what it is (read-only on platforms that
/// refuse it) exits `Ok`, as the std impl does.
///
/// Both run on tokio's blocking pool, so they cannot finish in the one poll
/// of the default cancellation policy: when a scope over the file is
/// cancelled, its exit is spawned ([`spawn_cancelled_exit`]) and an error
/// goes to the error hook.
///
/// ```
/// use managed::SendAsyncManage;
/// use tokio::io::AsyncWriteExt;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let path = std::env::temp_dir().join("managed-doc-tokio-file.txt");
/// let mut file = tokio::fs::File::create(&path).await?;
/// file.enter().await?.write_all(b"durable").await?;
/// file.exit(&managed::Outcome::Ok).await?;
/// assert_eq!(std::fs::read(&path)?, b"durable");
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
impl SendAsyncManage for ::tokio::fs::File {
    flush_and_sync_manager!();
}

/// Spawns `manager.exit(&Outcome::Cancelled)` on the current tokio runtime
/// and reports an error or panic of it through the error hook: what an
/// `exit_cancelled` override calls when the cleanup must be awaited (a
/// `ROLLBACK`, a graceful close).
///
/// Returns the task's handle (awaiting it is optional: the task reports its
/// own failures). Outside a tokio runtime there is nowhere to spawn; the
/// default policy applies instead (one poll in place, an unfinished exit
/// reported) and `None` is returned. A runtime that shuts down drops its
/// tasks, this one too (a scope cancelled by the shutdown spawns onto the
/// runtime that is dropping it): a task dropped before it started falls
/// back to the default policy as well, and one dropped while the exit was
/// awaited reports the exit as unfinished. Nothing is lost silently, but
/// the exit may not have finished; a manager whose cleanup must not be
/// skipped even then should also make its resource refuse reuse (close it
/// rather than return it to a pool).
///
/// ```
/// use managed::{Outcome, SendAsyncManage};
///
/// struct Remote(std::sync::Arc<std::sync::atomic::AtomicBool>);
/// impl SendAsyncManage for Remote {
///     type Target = Self;
///     type Error = std::io::Error;
///     async fn enter(&mut self) -> std::io::Result<&mut Self> { Ok(self) }
///     async fn exit(self, outcome: &Outcome<'_>) -> std::io::Result<()> {
///         tokio::task::yield_now().await; // cleanup that must wait
///         self.0.store(outcome.is_cancelled(), std::sync::atomic::Ordering::SeqCst);
///         Ok(())
///     }
///     fn exit_cancelled(self) {
///         managed::tokio::spawn_cancelled_exit(self);
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
/// let task = managed::tokio::spawn_cancelled_exit(Remote(done.clone())).expect("inside a runtime");
/// task.await.expect("the exit task ran");
/// assert!(done.load(std::sync::atomic::Ordering::SeqCst));
/// # });
/// ```
pub fn spawn_cancelled_exit<M>(manager: M) -> Option<JoinHandle<()>>
where
    M: SendAsyncManage + 'static,
{
    if let Ok(runtime) = ::tokio::runtime::Handle::try_current() {
        let mut task = SpawnedExit { state: ExitState::Waiting(manager) };
        Some(runtime.spawn(async move {
            let Some(manager) = task.start() else { return };
            let ran = catch_async(manager.exit(&Outcome::Cancelled)).await;
            task.finish();
            match ran {
                Ok(Ok(())) => {}
                Ok(Err(e)) => crate::report(ReportKind::Cancelled, &e),
                Err(panic) => crate::report(ReportKind::Cancelled, &panic),
            }
        }))
    } else {
        crate::async_manage::poll_exit_once(
            manager.exit(&Outcome::Cancelled),
            core::any::type_name::<M>(),
            Hint::NoRuntime,
        );
        None
    }
}

/// The state of the task of [`spawn_cancelled_exit`], owned by the task,
/// so that a runtime shutting down, which drops its tasks unfinished (or
/// never started), does not drop the manager's cleanup silently.
struct SpawnedExit<M: SendAsyncManage> {
    state: ExitState<M>,
}

enum ExitState<M> {
    /// Not polled yet: dropped so, the manager gets the default policy in
    /// place.
    Waiting(M),
    /// The exit is being awaited: dropped so, it is reported unfinished.
    Running,
    /// The exit finished (the task reports its failure, if any).
    Done,
}

impl<M: SendAsyncManage> SpawnedExit<M> {
    fn start(&mut self) -> Option<M> {
        match core::mem::replace(&mut self.state, ExitState::Running) {
            ExitState::Waiting(manager) => Some(manager),
            ExitState::Running | ExitState::Done => None,
        }
    }

    fn finish(&mut self) {
        self.state = ExitState::Done;
    }
}

impl<M: SendAsyncManage> Drop for SpawnedExit<M> {
    fn drop(&mut self) {
        match core::mem::replace(&mut self.state, ExitState::Done) {
            ExitState::Waiting(manager) => {
                crate::async_manage::poll_exit_once(
                    manager.exit(&Outcome::Cancelled),
                    core::any::type_name::<M>(),
                    Hint::NoRuntime,
                );
            }
            ExitState::Running => crate::report(ReportKind::Cancelled, &DroppedByRuntime(core::any::type_name::<M>())),
            ExitState::Done => {}
        }
    }
}

/// Reported when the runtime drops the task of [`spawn_cancelled_exit`]
/// while the exit is awaited (it is shutting down).
struct DroppedByRuntime(&'static str);

impl fmt::Debug for DroppedByRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the spawned cancelled exit of `{}` was dropped unfinished by its runtime (shutting down?)", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::sync::{Arc, Mutex, PoisonError};
    use std::vec::Vec;

    use core::pin::Pin;
    use core::task::{Context, Poll};

    /// A file that records its writes, flushes and syncs. Its flush and its
    /// sync each wait once before they finish (as a real file's wait for the
    /// blocking pool), so neither finishes in the one poll of the default
    /// cancellation policy.
    struct RecordingFile {
        log: Arc<Mutex<Vec<String>>>,
        flush_waited: bool,
        flush_error: Option<io::ErrorKind>,
        sync_error: Option<io::ErrorKind>,
    }

    impl RecordingFile {
        fn new() -> (Self, Arc<Mutex<Vec<String>>>) {
            let log = Arc::new(Mutex::new(Vec::new()));
            (RecordingFile { log: log.clone(), flush_waited: false, flush_error: None, sync_error: None }, log)
        }

        fn note(&self, line: impl Into<String>) {
            self.log.lock().unwrap_or_else(PoisonError::into_inner).push(line.into());
        }

        /// The inherent method the manager calls, as on `tokio::fs::File`.
        async fn sync_all(&self) -> io::Result<()> {
            ::tokio::task::yield_now().await;
            self.note("sync_all");
            self.sync_error.map_or(Ok(()), |kind| Err(kind.into()))
        }
    }

    impl AsyncWrite for RecordingFile {
        fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.note(std::format!("write {}", String::from_utf8_lossy(buf)));
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            if !self.flush_waited {
                self.flush_waited = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.note("flush");
            Poll::Ready(self.flush_error.map_or(Ok(()), |kind| Err(kind.into())))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.note("shutdown");
            Poll::Ready(Ok(()))
        }
    }

    impl SendAsyncManage for RecordingFile {
        flush_and_sync_manager!();
    }

    fn lines(log: &Mutex<Vec<String>>) -> Vec<String> {
        log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn runtime() -> ::tokio::runtime::Runtime {
        ::tokio::runtime::Builder::new_current_thread().build().expect("a runtime")
    }

    /// Runs `f` with the error hook capturing this thread's reports.
    fn reports_of(f: impl FnOnce()) -> Vec<String> {
        crate::test_support::reports_of(f).1
    }

    #[test]
    fn exit_flushes_then_syncs_on_every_outcome() {
        let failure = io::Error::other("the block failed");
        for outcome in [Outcome::Ok, Outcome::err(&failure)] {
            let (mut file, log) = RecordingFile::new();
            runtime().block_on(async {
                AsyncWriteExt::write_all(file.enter().await.expect("enters"), b"data").await.expect("written");
                file.exit(&outcome).await.expect("flushed and synced");
            });
            assert_eq!(lines(&log), ["write data", "flush", "sync_all"], "{outcome:?}");
        }
    }

    #[test]
    fn a_flush_error_is_returned_and_nothing_is_synced() {
        let (mut file, log) = RecordingFile::new();
        file.flush_error = Some(io::ErrorKind::BrokenPipe);
        let r = runtime().block_on(file.exit(&Outcome::Ok));
        assert_eq!(r.map_err(|e| e.kind()), Err(io::ErrorKind::BrokenPipe));
        assert_eq!(lines(&log), ["flush"]);
    }

    #[test]
    fn a_sync_error_is_returned() {
        let (mut file, log) = RecordingFile::new();
        file.sync_error = Some(io::ErrorKind::StorageFull);
        let r = runtime().block_on(file.exit(&Outcome::Ok));
        assert_eq!(r.map_err(|e| e.kind()), Err(io::ErrorKind::StorageFull));
        assert_eq!(lines(&log), ["flush", "sync_all"]);
    }

    #[test]
    fn a_file_that_cannot_be_synced_because_of_what_it_is_exits_ok() {
        for kind in [io::ErrorKind::InvalidInput, io::ErrorKind::PermissionDenied] {
            let (mut file, log) = RecordingFile::new();
            file.sync_error = Some(kind);
            runtime().block_on(file.exit(&Outcome::Ok)).expect("not an error of the data");
            assert_eq!(lines(&log), ["flush", "sync_all"], "{kind:?}");
        }
    }

    /// Yields on the current-thread runtime until `log` holds `last` (the
    /// spawned exit runs while this task yields), at most `rounds` times.
    async fn yield_until(log: &Mutex<Vec<String>>, last: &str, rounds: usize) {
        for _ in 0..rounds {
            if lines(log).last().map(String::as_str) == Some(last) {
                return;
            }
            ::tokio::task::yield_now().await;
        }
    }

    #[test]
    fn a_cancelled_exit_finishes_its_flush_and_sync_on_the_runtime() {
        let (file, log) = RecordingFile::new();
        let reports = reports_of(|| {
            runtime().block_on(async {
                file.exit_cancelled();
                yield_until(&log, "sync_all", 100).await;
            });
        });
        assert_eq!(lines(&log), ["flush", "sync_all"]);
        assert!(reports.is_empty(), "{reports:?}");
    }

    #[test]
    fn a_cancelled_exit_that_fails_on_the_runtime_is_reported() {
        let (mut file, log) = RecordingFile::new();
        file.sync_error = Some(io::ErrorKind::StorageFull);
        let reports = reports_of(|| {
            runtime().block_on(async {
                file.exit_cancelled();
                yield_until(&log, "sync_all", 100).await;
                // The task reports once the sync returned.
                ::tokio::task::yield_now().await;
            });
        });
        assert_eq!(lines(&log), ["flush", "sync_all"]);
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(reports[0].contains("StorageFull"), "{reports:?}");
    }

    #[test]
    fn a_cancelled_exit_outside_a_runtime_is_polled_once_and_reported_unfinished() {
        let (file, log) = RecordingFile::new();
        let reports = reports_of(|| file.exit_cancelled());
        assert!(lines(&log).is_empty(), "the flush waits, and nothing polls it again");
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(reports[0].contains("RecordingFile") && reports[0].contains("did not finish"), "{reports:?}");
    }
}
