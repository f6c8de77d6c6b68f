//! Feature `process`: `std::process::Child` and (with `tokio`)
//! `tokio::process::Child` as managers, against real processes. On `Ok`
//! the child is waited for; on every other path it is killed and reaped:
//! no zombie (checked in `/proc`: a reaped child has no entry) and no
//! orphan.
#![cfg(all(feature = "process", target_os = "linux"))]

use managed::{scope, with, Error};
use std::future::Future;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::pin::pin;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::task::{Context, Waker};
use std::time::Duration;

/// Whether `pid` has been reaped: a running or zombie process still has
/// its `/proc` entry (pids are not reused this fast).
fn reaped(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

/// The state letter of `pid` (`Z` for a zombie), if it exists.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// Runs `f` on another thread and waits for it at most `limit`: a scope
/// whose exit waited for `sleep 30` instead of killing it fails here
/// instead of passing slowly.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).expect("receiver"));
    rx.recv_timeout(limit).expect("the scope did not end in time: the child was not killed")
}

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn ok_waits_for_the_child() {
    let dir = tempfile::tempdir().expect("dir");
    let marker = dir.path().join("done");
    let script = format!("sleep 0.2; echo finished > {}", marker.display());
    let pid = scope! {
        let child = with!(Command::new("sh").arg("-c").arg(&script).spawn()?)?;
        Ok::<_, Error>(child.id())
    }
    .expect("waited");
    // The exit waited for the whole script: its last command ran.
    assert_eq!(std::fs::read_to_string(&marker).expect("written before the exit returned"), "finished\n");
    assert!(reaped(pid));
}

#[test]
fn err_through_question_mark_kills_and_reaps() {
    let (pid, result) = within(LIMIT, || {
        let mut pid = 0;
        let result = scope! {
            let child = with!(Command::new("sleep").arg("30").spawn()?)?;
            pid = child.id();
            let n: u32 = "x".parse()?;
            Ok::<_, Error>(n)
        };
        (pid, result.map_err(|e| e.to_string()))
    });
    assert!(result.is_err());
    assert!(reaped(pid), "state {:?}", state(pid));
}

#[test]
fn explicit_return_kills_and_reaps() {
    let pid = within(LIMIT, || {
        let mut pid = 0;
        let result: Result<(), Error> = scope! {
            let child = with!(Command::new("sleep").arg("30").spawn()?)?;
            pid = child.id();
            if pid > 0 {
                return Err(Error::msg("gave up"));
            }
            Ok(())
        };
        assert_eq!(result.expect_err("returned").to_string(), "gave up");
        pid
    });
    assert!(reaped(pid), "state {:?}", state(pid));
}

#[test]
fn panic_kills_reaps_and_resumes() {
    let (pid, message) = within(LIMIT, || {
        let mut pid = 0;
        let caught = catch_unwind(AssertUnwindSafe(|| {
            let _: Result<(), Error> = scope! {
                let child = with!(Command::new("sleep").arg("30").spawn()?)?;
                pid = child.id();
                panic!("test: bug while the child runs");
            };
        }));
        (pid, caught.expect_err("resumes").downcast_ref::<&str>().copied())
    });
    assert_eq!(message, Some("test: bug while the child runs"));
    assert!(reaped(pid), "state {:?}", state(pid));
}

#[test]
fn cancelled_async_scope_kills_and_reaps_a_std_child() {
    let pid = within(LIMIT, || {
        let mut pid = 0;
        {
            let mut scope = pin!(scope!(async {
                let child = with!(Command::new("sleep").arg("30").spawn()?)?;
                pid = child.id();
                std::future::pending::<()>().await;
                Ok::<_, Error>(())
            }));
            assert!(scope.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
        } // dropped: the sync manager's exit runs in place with `Cancelled`
        pid
    });
    assert_ne!(pid, 0);
    assert!(reaped(pid), "state {:?}", state(pid));
}

#[test]
fn ok_closes_stdin_so_a_child_reading_to_the_end_finishes() {
    let out = within(LIMIT, || {
        scope! {
            let child = with!(Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn()?)?;
            child.stdin.as_mut().expect("piped").write_all(b"some input")?;
            // The block leaves stdin open: the exit closes it, or `cat` never ends.
            Ok::<_, Error>(child.id())
        }
        .map_err(|e| e.to_string())
    });
    assert!(reaped(out.expect("waited")));
}

#[test]
fn ok_closes_stdout_so_a_child_writing_more_than_a_pipe_holds_finishes() {
    let out = within(LIMIT, || {
        scope! {
            // About 1 MiB of output nobody reads: with the pipe open the child blocks for ever.
            let child = with!(Command::new("sh").arg("-c").arg("yes | head -c 1000000").stdout(Stdio::piped()).spawn()?)?;
            Ok::<_, Error>(child.id())
        }
        .map_err(|e| e.to_string())
    });
    assert!(reaped(out.expect("waited")));
}

#[test]
fn a_child_that_already_exited_is_not_an_error_on_failure() {
    let result: Result<(), Error> = scope! {
        let child = with!(Command::new("true").spawn()?)?;
        assert!(child.wait()?.success());
        Err(Error::msg("body failed"))
    };
    let error = result.expect_err("body failed");
    assert_eq!(error.to_string(), "body failed");
    assert!(error.suppressed().is_empty(), "{error:#}");
}

#[test]
fn the_block_can_check_the_exit_status() {
    let result = scope! {
        let child = with!(Command::new("false").spawn()?)?;
        let status = child.wait()?;
        if !status.success() {
            return Err(Error::msg(format!("false: {status}")));
        }
        Ok::<_, Error>(())
    };
    assert_eq!(result.expect_err("non-zero").to_string(), "false: exit status: 1");
}

#[cfg(feature = "tokio")]
mod tokio_child {
    use super::{reaped, state};
    use managed::testing::cancel_after;
    use managed::{scope, with, Error, Report};
    use std::sync::Mutex;
    use std::time::Duration;
    use tokio::process::Command;

    /// Waits (at most 10 s, yielding to the runtime) until `pid` is reaped.
    async fn eventually_reaped(pid: u32) -> bool {
        for _ in 0..1000 {
            if reaped(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn ok_awaits_the_child() {
        let dir = tempfile::tempdir().expect("dir");
        let marker = dir.path().join("done");
        let script = format!("sleep 0.2; echo finished > {}", marker.display());
        let pid = scope!(async {
            let child = with!(Command::new("sh").arg("-c").arg(&script).spawn()?)?;
            Ok::<_, Error>(child.id().expect("running"))
        })
        .await
        .expect("awaited");
        assert_eq!(std::fs::read_to_string(&marker).expect("written before the exit returned"), "finished\n");
        assert!(reaped(pid));
    }

    #[tokio::test]
    async fn err_kills_and_reaps() {
        let mut pid = 0;
        let result = tokio::time::timeout(
            Duration::from_secs(20),
            scope!(async {
                let child = with!(Command::new("sleep").arg("30").spawn()?)?;
                pid = child.id().expect("running");
                let n: u32 = "x".parse()?;
                Ok::<_, Error>(n)
            }),
        )
        .await
        .expect("killed, not waited for");
        assert!(result.is_err());
        assert!(reaped(pid), "state {:?}", state(pid));
    }

    #[tokio::test]
    async fn panic_kills_reaps_and_resumes() {
        let pid = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let seen = pid.clone();
        let joined = tokio::spawn(async move {
            let _: Result<(), Error> = scope!(async {
                let child = with!(Command::new("sleep").arg("30").spawn()?)?;
                seen.store(child.id().expect("running"), std::sync::atomic::Ordering::SeqCst);
                panic!("test: bug while the child runs");
            })
            .await;
        })
        .await;
        let payload = joined.expect_err("the task panicked").into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"test: bug while the child runs"));
        let pid = pid.load(std::sync::atomic::Ordering::SeqCst);
        assert!(reaped(pid), "state {:?}", state(pid));
    }

    static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    fn record(report: &Report<'_>) {
        if let Ok(mut reports) = REPORTS.lock() {
            reports.push(report.to_string());
        }
    }

    /// Cancelled: killed at once, awaited on a spawned task, nothing
    /// reported. Without its `exit_cancelled` the default policy would poll
    /// the exit once, find the wait unfinished and report it.
    #[tokio::test]
    async fn cancelled_scope_kills_and_reaps_without_a_report() {
        let previous = managed::set_error_hook(record);
        let mut pid = 0;
        let cancelled = cancel_after(
            scope!(async {
                let child = with!(Command::new("sleep").arg("30").spawn()?)?;
                pid = child.id().expect("running");
                std::future::pending::<()>().await;
                Ok::<_, Error>(())
            }),
            1,
        )
        .await;
        assert!(cancelled.is_none());
        assert_ne!(pid, 0);
        let gone = eventually_reaped(pid).await;
        managed::set_error_hook(previous);
        assert!(gone, "state {:?}", state(pid));
        let reports = REPORTS.lock().expect("reports").clone();
        assert!(reports.iter().all(|r| !r.contains("Child")), "{reports:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_scope_over_a_tokio_child_is_send() {
        let status = tokio::spawn(scope!(async move {
            let child = with!(Command::new("true").spawn()?)?;
            tokio::task::yield_now().await;
            Ok::<_, Error>(child.wait().await?)
        }))
        .await
        .expect("task")
        .expect("scope");
        assert!(status.success());
    }
}
