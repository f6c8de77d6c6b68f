//! Feature `tokio`: the tokio writers as async managers (their flush and
//! write errors come back from the scope), and `spawn_cancelled_exit` for
//! cleanup that must be awaited after a cancellation.
//!
//! A real file's flush and sync cannot be watched without a race (tokio
//! finishes a background write anyway); what can be watched is a write that
//! fails in the background (to `/dev/full`): only the manager's exit brings
//! its error back. That the exit also calls `sync_all`, and in which order,
//! is tested in `managed-core/src/tokio.rs` on a recording file that shares
//! the `File` manager's code.
#![cfg(feature = "tokio")]

mod common;

use common::{panic_message, quiet_panics, reports_of};
use managed::prelude::*;
use managed::{Error, SendAsyncManage};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// A sink that accepts writes and fails every flush, as a closed pipe does.
struct BrokenPipe;

impl AsyncWrite for BrokenPipe {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A sink that records what reaches it: the writes a `BufWriter` hands on,
/// and its flushes.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn note(&self, line: String) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(line);
    }
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.note(format!("write {}", String::from_utf8_lossy(buf)));
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.note("flush".to_owned());
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.note("shutdown".to_owned());
        Poll::Ready(Ok(()))
    }
}

/// How a scope's body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Ok,
    Question,
    Return,
    Panic,
    Cancelled,
}

const ENDS: [End; 5] = [End::Ok, End::Question, End::Return, End::Panic, End::Cancelled];

fn fails() -> Result<(), Error> {
    Err(Error::msg("the body failed"))
}

/// Runs, on a current-thread runtime, a scope that enters `manager`, lets
/// `write` write to its target, and ends as `end` says (`Cancelled`: a
/// timeout drops it at a pending await). What the scope spawned (a cancelled
/// exit) then gets the time to finish. Returns what the scope returned (`None` when it
/// panicked or was cancelled; the panic is checked here) and the reports.
fn run_scope<M>(
    manager: M,
    end: End,
    write: impl for<'t> AsyncFnOnce(&'t mut M::Target) -> std::io::Result<()>,
) -> (Option<Result<(), Error>>, Vec<String>)
where
    M: SendAsyncManage<Error = std::io::Error>,
{
    quiet_panics();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    reports_of(move || {
        let returned = runtime.block_on(async {
            let scope = std::panic::AssertUnwindSafe(scope!(async {
                let target = with!(manager)?;
                write(target).await?;
                match end {
                    End::Ok => {}
                    End::Question => fails()?,
                    End::Return => return Err(Error::msg("the body failed")),
                    End::Panic => panic!("test: the body panicked"),
                    End::Cancelled => std::future::pending::<()>().await,
                }
                Ok::<_, Error>(())
            }));
            let scope = futures::FutureExt::catch_unwind(scope);
            let ran = if end == End::Cancelled {
                tokio::time::timeout(Duration::from_millis(20), scope).await
            } else {
                Ok(scope.await)
            };
            // What the scope spawned (a cancelled exit) runs to its end.
            for _ in 0..2000 {
                if tokio::runtime::Handle::current().metrics().num_alive_tasks() == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            match (end, ran) {
                (End::Cancelled, Err(_elapsed)) => None,
                (End::Panic, Ok(Err(payload))) => {
                    assert_eq!(panic_message(&*payload), "test: the body panicked");
                    None
                }
                (End::Ok | End::Question | End::Return, Ok(Ok(result))) => Some(result),
                (end, Ok(Ok(_))) => panic!("{end:?}: the scope returned"),
                (end, Ok(Err(_))) => panic!("{end:?}: the scope panicked"),
                (end, Err(_)) => panic!("{end:?}: the scope did not finish"),
            }
        });
        // Within the capture: a task still running is reported as dropped.
        drop(runtime);
        returned
    })
}

#[tokio::test]
async fn a_tokio_bufwriter_flush_error_is_returned_not_lost() {
    let r: Result<(), Error> = scope!(async {
        let out = with!(tokio::io::BufWriter::new(BrokenPipe))?;
        out.write_all(b"buffered, flushed at exit").await?;
        Ok(())
    })
    .await;
    let e = r.expect_err("the flush at exit fails");
    assert_eq!(e.downcast_ref::<std::io::Error>().map(std::io::Error::kind), Some(std::io::ErrorKind::BrokenPipe));
}

#[test]
fn a_tokio_bufwriter_hands_its_buffer_on_and_flushes_on_every_way_out() {
    for end in ENDS {
        let sink = Recorder::default();
        let (returned, reports) =
            run_scope(tokio::io::BufWriter::new(sink.clone()), end, async |out| out.write_all(b"buffered").await);
        assert_eq!(sink.lines(), ["write buffered", "flush"], "{end:?}");
        assert!(reports.is_empty(), "{end:?}: {reports:?}");
        match end {
            End::Ok => assert!(matches!(returned, Some(Ok(()))), "{returned:?}"),
            End::Question | End::Return => {
                let e = returned.expect("returned").expect_err("the body's error");
                assert_eq!((e.to_string().as_str(), e.suppressed().len()), ("the body failed", 0));
            }
            End::Panic | End::Cancelled => assert!(returned.is_none()),
        }
    }
}

fn storage_full(e: &Error) -> bool {
    e.downcast_ref::<std::io::Error>().map(std::io::Error::kind) == Some(std::io::ErrorKind::StorageFull)
}

/// `/dev/full` accepts the write, tokio reports success and writes in the
/// background, and the write fails there: only an exit that waits for it
/// (the flush) sees the error.
#[cfg(target_os = "linux")]
#[test]
fn a_tokio_file_s_background_write_error_comes_back_on_every_way_out() {
    for end in ENDS {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let (returned, reports) = run_scope(tokio::fs::File::from_std(full), end, async |file| {
            file.write_all(b"lost without the exit").await
        });
        match end {
            End::Ok => {
                let e = returned.expect("returned").expect_err("the write's error");
                assert!(storage_full(&e) && e.suppressed().is_empty(), "{e:?}");
                assert!(reports.is_empty(), "{reports:?}");
            }
            End::Question | End::Return => {
                let e = returned.expect("returned").expect_err("the body's error");
                assert_eq!(e.to_string(), "the body failed");
                assert!(matches!(e.suppressed(), [later] if storage_full(later)), "{e:?}");
                assert!(reports.is_empty(), "{reports:?}");
            }
            // The panic resumes; the exit's error goes to the hook. A
            // cancelled exit is spawned and reports its error from the
            // runtime.
            End::Panic | End::Cancelled => {
                assert!(returned.is_none());
                let kind = if end == End::Panic { "FailedWhileUnwinding: " } else { "Cancelled: " };
                assert!(
                    matches!(&reports[..], [one] if one.starts_with(kind) && one.contains("No space left on device")),
                    "{end:?}: {reports:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn what_a_scope_wrote_to_a_tokio_file_is_in_the_file_after_it() {
    let dir = std::env::temp_dir().join(format!("managed-async-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("out.txt");
    let r: Result<(), Error> = scope!(async {
        let file = with!(tokio::fs::File::create(&path).await?)?;
        file.write_all(b"written in the background, checked at exit").await?;
        Ok(())
    })
    .await;
    r.expect("written");
    assert_eq!(std::fs::read(&path).expect("read back"), b"written in the background, checked at exit");
    std::fs::remove_dir_all(dir).expect("cleanup");
}

/// A manager whose cleanup must be awaited even when cancelled (a
/// `ROLLBACK` over the network): it overrides `exit_cancelled` with
/// `spawn_cancelled_exit`.
struct RemoteLock {
    released: Arc<AtomicUsize>,
    cancelled: Arc<AtomicUsize>,
}

impl SendAsyncManage for RemoteLock {
    type Target = Self;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Self, Error> {
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if outcome.is_cancelled() {
            self.cancelled.fetch_add(1, Ordering::SeqCst);
        }
        self.released.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn exit_cancelled(self) {
        managed::tokio::spawn_cancelled_exit(self);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_scope_spawns_the_awaited_exit_and_it_completes() {
    let released = Arc::new(AtomicUsize::new(0));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let lock = RemoteLock { released: released.clone(), cancelled: cancelled.clone() };
    let timed_out = tokio::time::timeout(
        Duration::from_millis(20),
        scope!(async move {
            with!(lock)?;
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, Error>(())
        }),
    )
    .await;
    assert!(timed_out.is_err(), "the timeout cancels the scope");
    for _ in 0..200 {
        if released.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!((released.load(Ordering::SeqCst), cancelled.load(Ordering::SeqCst)), (1, 1));
}

#[test]
fn outside_a_runtime_spawn_cancelled_exit_falls_back_to_one_poll_in_place() {
    struct Quick(Arc<AtomicUsize>);
    impl SendAsyncManage for Quick {
        type Target = Self;
        type Error = Error;
        async fn enter(&mut self) -> Result<&mut Self, Error> {
            Ok(self)
        }
        async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
            assert!(outcome.is_cancelled());
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    let done = Arc::new(AtomicUsize::new(0));
    assert!(managed::tokio::spawn_cancelled_exit(Quick(done.clone())).is_none());
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

/// Counts its exits; its exit finishes without awaiting, and its cancelled
/// exit is spawned (as a manager whose cleanup must wait would do).
struct SpawnsItsExit {
    exits: Arc<AtomicUsize>,
    cancelled: Arc<AtomicUsize>,
    /// What the exit awaits first.
    wait: Wait,
}

#[derive(Clone, Copy)]
enum Wait {
    Nothing,
    Once,
    Forever,
}

impl SendAsyncManage for SpawnsItsExit {
    type Target = Self;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Self, Error> {
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        match self.wait {
            Wait::Nothing => {}
            Wait::Once => tokio::task::yield_now().await,
            Wait::Forever => std::future::pending().await,
        }
        self.cancelled.fetch_add(usize::from(outcome.is_cancelled()), Ordering::SeqCst);
        self.exits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn exit_cancelled(self) {
        managed::tokio::spawn_cancelled_exit(self);
    }
}

/// Drops a current-thread runtime whose task is inside a scope over `m`:
/// the shutdown cancels the scope, whose manager spawns its exit onto the
/// runtime being dropped. Returns what the error hook got on this thread.
/// With `abort_first`, the task is aborted before (its exit task then
/// starts before the shutdown).
fn shut_down_with_a_scope_over(m: SpawnsItsExit, abort_first: bool) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let task = tokio::spawn(scope!(async move {
            with!(m)?;
            std::future::pending::<()>().await;
            Ok::<_, Error>(())
        }));
        tokio::task::yield_now().await; // the task enters `m`
        if abort_first {
            task.abort();
            for _ in 0..3 {
                tokio::task::yield_now().await; // the scope is dropped, its exit task starts
            }
        }
    });
    reports_of(|| drop(runtime)).1
}

#[test]
fn an_exit_spawned_onto_a_runtime_shutting_down_still_runs_in_place() {
    let (exits, cancelled) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let m = SpawnsItsExit { exits: exits.clone(), cancelled: cancelled.clone(), wait: Wait::Nothing };
    let reports = shut_down_with_a_scope_over(m, false);
    // The runtime dropped the spawned task before it ran: the exit got the
    // default policy instead of being dropped with the task.
    assert_eq!((exits.load(Ordering::SeqCst), cancelled.load(Ordering::SeqCst)), (1, 1));
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn an_unfinished_exit_dropped_by_a_runtime_shutting_down_is_reported() {
    let (exits, cancelled) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let m = SpawnsItsExit { exits: exits.clone(), cancelled: cancelled.clone(), wait: Wait::Once };
    let reports = shut_down_with_a_scope_over(m, false);
    assert_eq!(exits.load(Ordering::SeqCst), 0, "the exit waits, and nothing can wake it any more");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("SpawnsItsExit") && reports[0].contains("did not finish"), "{reports:?}");
    // Not "override `exit_cancelled`": it is overridden already.
    assert!(reports[0].contains("runtime was shutting down"), "{reports:?}");

    // Spawned earlier, the exit task was running (awaiting) when the
    // runtime dropped it.
    let m = SpawnsItsExit { exits: exits.clone(), cancelled: cancelled.clone(), wait: Wait::Forever };
    let reports = shut_down_with_a_scope_over(m, true);
    assert_eq!(exits.load(Ordering::SeqCst), 0);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].contains("SpawnsItsExit") && reports[0].contains("dropped unfinished by its runtime"),
        "{reports:?}"
    );
}
