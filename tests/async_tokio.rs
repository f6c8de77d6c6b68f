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
