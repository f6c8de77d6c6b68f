//! Feature `tokio`: the tokio writers as async managers (their flush and
//! write errors come back from the scope), and `spawn_cancelled_exit` for
//! cleanup that must be awaited after a cancellation.
#![cfg(feature = "tokio")]

use managed::prelude::*;
use managed::{Error, SendAsyncManage};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

#[tokio::test]
async fn a_tokio_file_is_flushed_and_synced_at_exit() {
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

std::thread_local! {
    static REPORTS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn capture(report: &managed::Report<'_>) {
    REPORTS.with(|r| r.borrow_mut().push(format!("{:?}", report.error())));
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
    // Left installed: the hook is global and the tests run in parallel;
    // each thread's reports go to its own list.
    managed::set_error_hook(capture);
    REPORTS.with(|r| r.borrow_mut().clear());
    drop(runtime);
    REPORTS.with(|r| std::mem::take(&mut *r.borrow_mut()))
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

#[test]
fn a_cancelled_scope_over_a_tokio_file_finishes_its_flush_and_sync_on_the_runtime() {
    let dir = std::env::temp_dir().join(format!("managed-async-file-cancel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("out.txt");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    managed::set_error_hook(capture);
    REPORTS.with(|r| r.borrow_mut().clear());
    runtime.block_on(async {
        let timed_out = tokio::time::timeout(
            Duration::from_millis(20),
            scope!(async {
                let file = with!(tokio::fs::File::create(&path).await?)?;
                file.write_all(b"written before the cancellation").await?;
                std::future::pending::<()>().await;
                Ok::<_, Error>(())
            }),
        )
        .await;
        assert!(timed_out.is_err(), "the timeout cancels the scope");
        // The spawned exit runs (its `sync_all` on the blocking pool).
        for _ in 0..2000 {
            if tokio::runtime::Handle::current().metrics().num_alive_tasks() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    drop(runtime);
    let reports = REPORTS.with(|r| std::mem::take(&mut *r.borrow_mut()));
    // The flush and `sync_all` finished (on the blocking pool) instead of
    // being dropped after one poll and reported as unfinished.
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(std::fs::read(&path).expect("read back"), b"written before the cancellation");
    std::fs::remove_dir_all(dir).expect("cleanup");
}
