//! Feature `tokio`: `managed::tokio::TaskGroup`, Python's
//! `asyncio.TaskGroup`, tested with the cases of CPython's
//! `Lib/test/test_asyncio/test_taskgroups.py` that apply (each test names
//! the case it ports), plus the Rust-only paths (panics, `Send`, the error
//! hook).
//!
//! Python's `ExceptionGroup` is, here, the first failure with the later
//! ones attached as suppressed; a task's `CancelledError` is an abort; the
//! parent task's cancellation is the scope's future being dropped.
//!
//! Cases that do not apply, and why:
//! - `cancel_children_on_child_error` (its `runner_cancel` part), `13`,
//!   `15`, `16`, `19` (the body cancelled by a failing task): a manager
//!   cannot cancel the block it manages; the body runs on and can look at
//!   `TaskGroup::has_failed` (ported that way where the rest applies).
//! - `18` (the body turns its cancellation into an error) and `08`/`11`/
//!   `12`'s `finally: 1 / 0` (code that runs while cancelled): a dropped
//!   future runs no code but destructors; a panicking destructor of an
//!   aborted task is ported instead (`cancelled_tasks_that_panic_while_dropped_are_reported`).
//! - `20`, `20a`, `21a` (`KeyboardInterrupt`, `BaseException`): ported as
//!   panics, which are Rust's non-`Exception` failures.
//! - `task_name`, `task_context`: tokio tasks have no names on stable and
//!   Rust has no context variables (a task captures what it needs).
//! - `already_entered`, `double_enter`: entering moves the group into the
//!   scope and the exit consumes it: a second enter does not compile.
//! - `not_entered`: spawning before the group is entered is allowed (on
//!   the current runtime); a group dropped without its exit aborts its
//!   tasks (`a_group_dropped_without_its_exit_aborts_and_reports`).
//! - `cancelling_level_preserved`, `nested_groups_both_cancelled`'s
//!   `cancelling()` counts, `error_and_cancel`: Python's bookkeeping of
//!   pending cancel requests, which Rust's cancellation (a drop) does not
//!   have; the error parts of `nested_groups_both_cancelled` are ported.
#![cfg(feature = "tokio")]

use managed::testing::cancel_after;
use managed::tokio::TaskGroup;
use managed::{scope, with, Error, Manage, Outcome, Report, ReportKind};
use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::sleep;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Adds one to a counter when dropped: a task that was aborted (its future
/// dropped) or that finished.
struct OnDrop(Arc<AtomicUsize>);
impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A task that would run for a long time; counts its drop, and counts in
/// `finished` only if it ran to its end.
fn long_task(
    dropped: &Arc<AtomicUsize>,
    finished: &Arc<AtomicUsize>,
) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
    let guard = OnDrop(dropped.clone());
    let finished = finished.clone();
    async move {
        let _guard = guard;
        sleep(Duration::from_secs(30)).await;
        finished.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn counters() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

/// The error hook is global: tests that read it hold this lock and filter
/// the reports by a marker of their own.
static HOOK_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static REPORTS: Mutex<Vec<(ReportKind, String)>> = Mutex::new(Vec::new());
fn record(report: &Report<'_>) {
    if let Ok(mut reports) = REPORTS.lock() {
        reports.push((report.kind(), format!("{:?}", report.error())));
    }
}
/// Sets the recording hook with no report recorded yet; returns the previous hook.
fn record_reports() -> managed::ErrorHook {
    REPORTS.lock().expect("reports").clear();
    managed::set_error_hook(record)
}
fn reports_with(marker: &str) -> Vec<(ReportKind, String)> {
    REPORTS.lock().expect("reports").iter().filter(|(_, e)| e.contains(marker)).cloned().collect()
}

/// Yields to the runtime until `done` holds (at most 10 s).
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if done() {
            return true;
        }
        sleep(ms(10)).await;
    }
    false
}

// test_taskgroup_01
#[tokio::test(start_paused = true)]
async fn exit_awaits_every_task_and_their_values_are_kept() {
    let (t1, t2) = scope!(async {
        let g = with!(TaskGroup::new())?;
        let t1 = g.spawn(async {
            sleep(ms(100)).await;
            Ok::<_, Error>(42)
        });
        let t2 = g.spawn(async {
            sleep(ms(200)).await;
            Ok::<_, Error>(11)
        });
        Ok::<_, Error>((t1, t2))
    })
    .await
    .expect("no failure");
    assert_eq!((t1.await, t2.await), (Some(42), Some(11)));
}

// test_taskgroup_02
#[tokio::test(start_paused = true)]
async fn tasks_spawned_later_in_the_body_are_awaited_too() {
    let (t1, t2) = scope!(async {
        let g = with!(TaskGroup::new())?;
        let t1 = g.spawn(async {
            sleep(ms(100)).await;
            Ok::<_, Error>(42)
        });
        sleep(ms(150)).await;
        let t2 = g.spawn(async {
            sleep(ms(200)).await;
            Ok::<_, Error>(11)
        });
        Ok::<_, Error>((t1, t2))
    })
    .await
    .expect("no failure");
    assert_eq!((t1.await, t2.await), (Some(42), Some(11)));
}

// test_taskgroup_03
#[tokio::test(start_paused = true)]
async fn aborting_one_task_is_not_a_failure() {
    let (t1, t2) = scope!(async {
        let g = with!(TaskGroup::new())?;
        let t1 = g.spawn(async {
            sleep(ms(1000)).await;
            Ok::<_, Error>(42)
        });
        sleep(ms(150)).await;
        t1.abort();
        let t2 = g.spawn(async {
            sleep(ms(200)).await;
            Ok::<_, Error>(11)
        });
        Ok::<_, Error>((t1, t2))
    })
    .await
    .expect("an aborted task is not a failure");
    assert_eq!(t1.await, None);
    assert_eq!(t2.await, Some(11));
}

// test_taskgroup_04
#[tokio::test]
async fn a_failing_task_aborts_the_others_and_is_the_scopes_error() {
    let (dropped, finished) = counters();
    let mut after_the_group = 0;
    let run = async {
        scope!(async {
            let g = with!(TaskGroup::new())?;
            g.spawn(async {
                sleep(ms(10)).await;
                Err::<(), _>(Error::msg("division by zero"))
            });
            let t2 = g.spawn(long_task(&dropped, &finished));
            Ok::<_, Error>(t2)
        })
        .await?;
        after_the_group += 10;
        Ok::<_, Error>(())
    };
    let error =
        tokio::time::timeout(Duration::from_secs(20), run).await.expect("aborted, not awaited").expect_err("fails");
    assert_eq!(error.to_string(), "division by zero");
    assert!(error.suppressed().is_empty());
    assert_eq!(after_the_group, 0);
    assert_eq!((dropped.load(Ordering::SeqCst), finished.load(Ordering::SeqCst)), (1, 0));
}

// test_cancel_children_on_child_error (the body is not cancelled: it waits for the failure)
#[tokio::test]
async fn failing_children_abort_the_rest_and_one_of_their_errors_is_the_scopes() {
    let (dropped, finished) = counters();
    let error = scope!(async {
        let g = with!(TaskGroup::new())?;
        let gate = Arc::new(tokio::sync::Barrier::new(3));
        for n in 0..3 {
            let gate = gate.clone();
            g.spawn(async move {
                gate.wait().await; // all three fail together
                Err::<(), _>(Error::msg(format!("task {n} failed")))
            });
        }
        g.spawn(long_task(&dropped, &finished));
        while !g.has_failed() {
            tokio::task::yield_now().await;
        }
        Ok::<_, Error>(())
    })
    .await
    .expect_err("fails");
    let all: Vec<String> =
        std::iter::once(error.to_string()).chain(error.suppressed().iter().map(ToString::to_string)).collect();
    assert!(!all.is_empty() && all.len() <= 3, "{all:?}");
    assert!(all.iter().all(|e| e.starts_with("task ") && e.ends_with(" failed")), "{all:?}");
    assert_eq!((dropped.load(Ordering::SeqCst), finished.load(Ordering::SeqCst)), (1, 0));
}

// test_cancellation, test_taskgroup_07, test_taskgroup_17, test_taskgroup_22
#[tokio::test]
async fn cancelling_the_scope_aborts_every_task_without_a_report() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let (dropped, finished) = counters();
    let body_dropped = Arc::new(AtomicUsize::new(0));
    let cancelled = cancel_after(
        scope!(async {
            let g = with!(TaskGroup::new())?;
            for _ in 0..5 {
                g.spawn(long_task(&dropped, &finished));
            }
            let _body = OnDrop(body_dropped.clone());
            tokio::task::yield_now().await; // the tasks start
            sleep(Duration::from_secs(10)).await; // cancelled here
            Ok::<_, Error>(())
        }),
        2,
    )
    .await;
    assert!(cancelled.is_none());
    assert_eq!(body_dropped.load(Ordering::SeqCst), 1);
    let all_aborted = eventually(|| dropped.load(Ordering::SeqCst) == 5).await;
    managed::set_error_hook(previous);
    assert!(all_aborted, "{} of 5 tasks aborted", dropped.load(Ordering::SeqCst));
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    assert_eq!(*REPORTS.lock().expect("reports"), []);
}

// test_taskgroup_08, adapted: what the aborted tasks' cleanup raises is not lost
#[tokio::test]
async fn cancelled_tasks_that_panic_while_dropped_are_reported() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let cancelled = cancel_after(
        scope!(async {
            let g = with!(TaskGroup::new())?;
            for _ in 0..5 {
                g.spawn(async {
                    let _cleanup = PanicOnDrop("test: cleanup of an aborted task fails");
                    pending::<Result<(), Error>>().await
                });
            }
            tokio::task::yield_now().await; // the tasks start
            pending::<()>().await; // cancelled here
            Ok::<_, Error>(())
        }),
        2,
    )
    .await;
    assert!(cancelled.is_none());
    let all = eventually(|| reports_with("cleanup of an aborted task fails").len() == 5).await;
    managed::set_error_hook(previous);
    assert!(all, "{:?}", REPORTS.lock().expect("reports"));
}

// test_taskgroup_09, test_taskgroup_10
#[tokio::test]
async fn a_failing_body_aborts_every_task() {
    for wait_first in [true, false] {
        let (dropped, finished) = counters();
        let mut tasks = None;
        let error = scope!(async {
            let g = with!(TaskGroup::new())?;
            let t1 = g.spawn(async {
                sleep(Duration::from_secs(30)).await;
                Ok::<_, Error>(42)
            });
            let t2 = g.spawn(long_task(&dropped, &finished));
            tasks = Some(t1);
            if wait_first {
                sleep(ms(20)).await;
            }
            drop(t2);
            Err::<(), _>(Error::msg("division by zero"))
        })
        .await
        .expect_err("the body fails");
        assert_eq!(error.to_string(), "division by zero");
        assert!(error.suppressed().is_empty());
        assert_eq!(tasks.expect("spawned").await, None);
        assert_eq!((dropped.load(Ordering::SeqCst), finished.load(Ordering::SeqCst)), (1, 0));
    }
}

// test_taskgroup_12, adapted (no failing cleanup): nested groups, both cancelled
#[tokio::test]
async fn cancelling_nested_groups_aborts_the_tasks_of_both() {
    let (dropped, finished) = counters();
    let cancelled = cancel_after(
        scope!(async {
            let g1 = with!(TaskGroup::new())?;
            g1.spawn(long_task(&dropped, &finished));
            scope!(async {
                let g2 = with!(TaskGroup::new())?;
                for _ in 0..5 {
                    g2.spawn(long_task(&dropped, &finished));
                }
                tokio::task::yield_now().await; // the tasks start
                sleep(Duration::from_secs(10)).await; // cancelled here
                Ok::<_, Error>(())
            })
            .await
        }),
        2,
    )
    .await;
    assert!(cancelled.is_none());
    assert!(eventually(|| dropped.load(Ordering::SeqCst) == 6).await, "{}", dropped.load(Ordering::SeqCst));
    assert_eq!(finished.load(Ordering::SeqCst), 0);
}

// test_taskgroup_14
#[tokio::test]
async fn an_inner_group_failing_fails_the_outer_body_which_aborts_the_outer_tasks() {
    let (dropped, finished) = counters();
    let error = scope!(async {
        let g1 = with!(TaskGroup::new())?;
        g1.spawn(long_task(&dropped, &finished));
        scope!(async {
            let g2 = with!(TaskGroup::new())?;
            g2.spawn(async {
                sleep(ms(10)).await;
                Err::<(), _>(Error::msg("ValueError"))
            });
            Ok::<_, Error>(())
        })
        .await?;
        Ok::<_, Error>(())
    })
    .await
    .expect_err("fails");
    assert_eq!(error.to_string(), "ValueError");
    assert_eq!((dropped.load(Ordering::SeqCst), finished.load(Ordering::SeqCst)), (1, 0));
}

// test_taskgroup_19, adapted: the body fails after a task failed; both errors are kept
#[tokio::test]
async fn the_bodys_error_is_primary_and_the_groups_is_attached() {
    let error = scope!(async {
        let g = with!(TaskGroup::new())?;
        g.spawn(async {
            sleep(ms(10)).await;
            Err::<(), _>(Error::msg("ZeroDivisionError"))
        });
        while !g.has_failed() {
            sleep(ms(1)).await;
        }
        Err::<(), _>(Error::msg("MyExc"))
    })
    .await
    .expect_err("fails");
    assert_eq!(error.to_string(), "MyExc");
    assert_eq!(error.suppressed().len(), 1);
    assert_eq!(error.suppressed()[0].to_string(), "ZeroDivisionError");
}

// test_taskgroup_20, test_taskgroup_20a: the body "raises a BaseException" (panics)
#[tokio::test]
async fn a_panicking_body_aborts_the_tasks_resumes_and_reports_their_failure() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let (dropped, finished) = counters();
    let (d, f) = (dropped.clone(), finished.clone());
    let joined = tokio::spawn(async move {
        let _: Result<(), Error> = scope!(async {
            let g = with!(TaskGroup::new())?;
            g.spawn(async { Err::<(), _>(Error::msg("test-20: ZeroDivisionError")) });
            g.spawn(long_task(&d, &f));
            while !g.has_failed() {
                tokio::task::yield_now().await;
            }
            panic!("test-20: KeyboardInterrupt");
        })
        .await;
    })
    .await;
    managed::set_error_hook(previous);
    let payload = joined.expect_err("panicked").into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"test-20: KeyboardInterrupt"));
    assert_eq!((dropped.load(Ordering::SeqCst), finished.load(Ordering::SeqCst)), (1, 0));
    let reports = reports_with("test-20: ZeroDivisionError");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::FailedWhileUnwinding);
}

// test_taskgroup_21a: a task "raises a BaseException" (panics), the body fails
#[tokio::test]
async fn a_panicking_task_resumes_after_the_rest_are_done() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let (dropped, finished) = counters();
    let (d, f) = (dropped.clone(), finished.clone());
    let joined = tokio::spawn(async move {
        let _: Result<(), Error> = scope!(async {
            let g = with!(TaskGroup::new())?;
            g.spawn(async {
                sleep(ms(10)).await;
                panic!("test-21a: MyBaseExc");
                #[allow(unreachable_code)]
                Ok::<_, Error>(())
            });
            g.spawn(long_task(&d, &f));
            while !g.has_failed() {
                sleep(ms(1)).await;
            }
            Err(Error::msg("test-21a: TypeError"))
        })
        .await;
    })
    .await;
    managed::set_error_hook(previous);
    let payload = joined.expect_err("the task's panic resumed").into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"test-21a: MyBaseExc"));
    // Resumed after the rest were done: the other task was aborted and awaited.
    assert_eq!((dropped.load(Ordering::SeqCst), finished.load(Ordering::SeqCst)), (1, 0));
    // The body's error was replaced by the panic: reported, not lost.
    let reports = reports_with("test-21a: TypeError");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::ReplacedByPanic);
}

/// Two tasks fail while both are running (on two worker threads): the
/// first failure is the scope's error, the second is attached to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_failures_are_one_error_with_the_others_suppressed() {
    let error = scope!(async {
        let g = with!(TaskGroup::new())?;
        let running = Arc::new(AtomicUsize::new(0));
        for n in 0..2 {
            let running = running.clone();
            g.spawn(async move {
                // No `.await` from here on: the abort cannot stop this poll.
                running.fetch_add(1, Ordering::SeqCst);
                let started = std::time::Instant::now();
                while running.load(Ordering::SeqCst) < 2 && started.elapsed() < Duration::from_secs(10) {
                    std::hint::spin_loop();
                }
                Err::<(), _>(Error::msg(format!("task {n} failed")))
            });
        }
        Ok::<_, Error>(())
    })
    .await
    .expect_err("fails");
    let mut all: Vec<String> =
        std::iter::once(error.to_string()).chain(error.suppressed().iter().map(ToString::to_string)).collect();
    all.sort();
    assert_eq!(all, ["task 0 failed", "task 1 failed"]);
}

/// Panics outside a task's poll: the destructor of an aborted task.
struct PanicOnDrop(&'static str);
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[tokio::test]
async fn a_panic_wins_over_an_earlier_task_error_which_goes_to_the_hook() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let joined = tokio::spawn(async {
        let _: Result<(), Error> = scope!(async {
            let g = with!(TaskGroup::new())?;
            g.spawn(async {
                let _cleanup = PanicOnDrop("test-panic-wins: the aborted task's cleanup panicked");
                pending::<Result<(), Error>>().await
            });
            g.spawn(async { Err::<(), _>(Error::msg("test-panic-wins: an error first")) });
            Ok(())
        })
        .await;
    })
    .await;
    managed::set_error_hook(previous);
    let payload = joined.expect_err("the later panic resumes").into_panic();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("test-panic-wins: the aborted task's cleanup panicked")
    );
    let reports = reports_with("test-panic-wins: an error first");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::SuppressedNotAttached);
}

#[tokio::test]
async fn the_first_panic_resumes_with_its_payload_and_a_later_one_is_reported() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let joined = tokio::spawn(async {
        scope!(async {
            let g = with!(TaskGroup::new())?;
            g.spawn(async {
                let _cleanup = PanicOnDrop("test-payload: a later panic");
                pending::<Result<(), Error>>().await
            });
            g.spawn(async {
                std::panic::panic_any(String::from("test-payload: the first panic"));
                #[allow(unreachable_code)]
                Ok::<(), Error>(())
            });
            Ok::<_, Error>(())
        })
        .await
    })
    .await;
    managed::set_error_hook(previous);
    let payload = joined.expect_err("resumed").into_panic();
    assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("test-payload: the first panic"));
    let reports = reports_with("test-payload: a later panic");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::SuppressedNotAttached);
}

// test_taskgroup_23
#[tokio::test(start_paused = true)]
async fn finished_tasks_are_not_kept() {
    scope!(async {
        let g = with!(TaskGroup::new())?;
        for count in 0..10 {
            sleep(ms(100)).await;
            g.spawn(async {
                sleep(ms(300)).await;
                Ok::<_, Error>(())
            });
            if count == 5 {
                assert!(g.running() < 5, "{}", g.running());
            }
        }
        sleep(ms(1350)).await;
        assert_eq!(g.running(), 0);
        Ok::<_, Error>(())
    })
    .await
    .expect("no failure");
}

// test_taskgroup_24
#[tokio::test(start_paused = true)]
async fn a_task_spawns_siblings_and_the_exit_awaits_them() {
    let done = Arc::new(AtomicUsize::new(0));
    let counted = done.clone();
    scope!(async {
        let g = with!(TaskGroup::new())?;
        let spawner = g.spawner();
        g.spawn(async move {
            sleep(ms(100)).await;
            for delay in [100, 200] {
                let counted = counted.clone();
                spawner.spawn(async move {
                    sleep(ms(delay)).await;
                    counted.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, Error>(())
                });
            }
            Ok::<_, Error>(())
        });
        Ok::<_, Error>(())
    })
    .await
    .expect("no failure");
    assert_eq!(done.load(Ordering::SeqCst), 2);
}

// test_taskgroup_25
#[tokio::test]
async fn hydras_and_hercules() {
    // Not an `async fn`: the future is recursive (a hydra spawns hydras),
    // which an `async fn` cannot be without boxing.
    #[allow(clippy::manual_async_fn)]
    fn hydra(
        g: managed::tokio::Spawner,
        heads: Arc<AtomicUsize>,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        async move {
            heads.fetch_add(1, Ordering::SeqCst);
            sleep(ms(10)).await;
            g.spawn(hydra(g.clone(), heads.clone()));
            g.spawn(hydra(g.clone(), heads.clone()));
            Ok(())
        }
    }
    let heads = Arc::new(AtomicUsize::new(0));
    let error = scope!(async {
        let g = with!(TaskGroup::new())?;
        g.spawn(hydra(g.spawner(), heads.clone()));
        let counted = heads.clone();
        g.spawn(async move {
            while counted.load(Ordering::SeqCst) < 10 {
                sleep(ms(15)).await;
            }
            Err::<(), _>(Error::msg("ZeroDivisionError"))
        });
        Ok::<_, Error>(())
    })
    .await
    .expect_err("hercules fails");
    assert_eq!(error.to_string(), "ZeroDivisionError");
    assert!(heads.load(Ordering::SeqCst) >= 10);
}

// test_taskgroup_no_create_task_after_failure, test_taskgroup_finished, test_coro_closed_when_tg_closed
#[tokio::test]
async fn spawning_into_a_failed_or_finished_group_does_not_run_the_future() {
    let ran = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let job = |ran: &Arc<AtomicUsize>, dropped: &Arc<AtomicUsize>| {
        let (ran, guard) = (ran.clone(), OnDrop(dropped.clone()));
        async move {
            let _guard = guard;
            ran.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Error>("ran")
        }
    };
    let mut late = None;
    let error = scope!(async {
        let g = with!(TaskGroup::new())?;
        g.spawn(async { Err::<(), _>(Error::msg("ZeroDivisionError")) });
        while !g.has_failed() {
            tokio::task::yield_now().await;
        }
        late = Some(g.spawn(job(&ran, &dropped)));
        Ok::<_, Error>(g.spawner())
    })
    .await
    .expect_err("fails");
    assert_eq!(error.to_string(), "ZeroDivisionError");
    assert_eq!(late.expect("spawned").await, None);

    let spawner = scope!(async {
        let g = with!(TaskGroup::new())?;
        Ok::<_, Error>(g.spawner())
    })
    .await
    .expect("empty group");
    assert_eq!(spawner.spawn(job(&ran, &dropped)).await, None); // the group is finished
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_eq!(dropped.load(Ordering::SeqCst), 2, "the futures were dropped, not kept");
}

/// A manager whose exit fails, as the `database()` context manager of the
/// CPython case does.
struct FailingExit;
impl Manage for FailingExit {
    type Target = Self;
    type Error = Error;
    fn enter(&mut self) -> Result<&mut Self, Error> {
        Ok(self)
    }
    fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
        Err(Error::msg("CustomException from the exit"))
    }
}

// test_taskgroup_context_manager_exit_raises (python/cpython#95289)
#[tokio::test]
async fn an_inner_exit_error_and_a_task_error_are_both_kept() {
    let error = scope!(async {
        let g = with!(TaskGroup::new())?;
        with!(FailingExit)?;
        g.spawn(async { Err::<(), _>(Error::msg("CustomException from a task")) });
        sleep(ms(10)).await;
        Ok::<_, Error>(())
    })
    .await
    .expect_err("fails");
    assert_eq!(error.to_string(), "CustomException from the exit");
    let suppressed: Vec<String> = error.suppressed().iter().map(ToString::to_string).collect();
    assert_eq!(suppressed, ["CustomException from a task"]);
}

// test_nested_groups_both_cancelled (its errors)
#[tokio::test]
async fn an_inner_groups_error_handled_by_the_body_and_the_outer_groups_error() {
    let error = scope!(async {
        let outer = with!(TaskGroup::new())?;
        let inner: Result<(), Error> = scope!(async {
            let inner = with!(TaskGroup::new())?;
            inner.spawn(async { Err::<(), _>(Error::msg("RuntimeError")) });
            outer.spawn(async { Err::<(), _>(Error::msg("ValueError")) });
            Ok(())
        })
        .await;
        assert_eq!(inner.expect_err("inner fails").to_string(), "RuntimeError");
        Ok::<_, Error>(())
    })
    .await
    .expect_err("outer fails");
    assert_eq!(error.to_string(), "ValueError");
}

// test_taskgroup_without_parent_task
#[test]
fn entering_outside_a_tokio_runtime_is_an_error() {
    let result = futures::executor::block_on(scope!(async {
        let g = with!(TaskGroup::new())?;
        Ok::<_, Error>(g.running())
    }));
    assert!(result.expect_err("no runtime").to_string().contains("inside a tokio runtime"));
}

#[test]
fn spawning_outside_a_runtime_is_a_failure_of_the_group_not_a_panic() {
    let _hook = HOOK_LOCK.blocking_lock();
    let previous = record_reports();
    let g = TaskGroup::new();
    let task = g.spawn(async { Ok::<_, Error>(1) });
    assert!(g.has_failed());
    drop(g);
    managed::set_error_hook(previous);
    assert_eq!(futures::executor::block_on(task), None);
    let reports = reports_with("outside a tokio runtime");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::Cancelled);
}

// test_taskgroup_not_entered, adapted
#[tokio::test]
async fn a_group_dropped_without_its_exit_aborts_and_reports() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let (dropped, finished) = counters();
    let g = TaskGroup::new();
    g.spawn(long_task(&dropped, &finished));
    g.spawn(async { Err::<(), _>(Error::msg("test-dropped-group: failed")) });
    tokio::task::yield_now().await;
    drop(g);
    let aborted = eventually(|| dropped.load(Ordering::SeqCst) == 1).await;
    managed::set_error_hook(previous);
    assert!(aborted);
    assert_eq!(finished.load(Ordering::SeqCst), 0);
    assert_eq!(reports_with("test-dropped-group: failed").len(), 1);
}

#[tokio::test]
async fn a_failure_recorded_before_cancellation_is_reported() {
    let _hook = HOOK_LOCK.lock().await;
    let previous = record_reports();
    let cancelled = cancel_after(
        scope!(async {
            let g = with!(TaskGroup::new())?;
            g.spawn(async { Err::<(), _>(Error::msg("test-before-cancel: failed")) });
            tokio::task::yield_now().await; // the task runs and fails
            pending::<()>().await; // cancelled here
            Ok::<_, Error>(())
        }),
        2,
    )
    .await;
    assert!(cancelled.is_none());
    let reported = eventually(|| !reports_with("test-before-cancel: failed").is_empty()).await;
    managed::set_error_hook(previous);
    assert!(reported);
    let reports = reports_with("test-before-cancel: failed");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].0, ReportKind::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_over_a_task_group_is_send_and_runs_on_many_threads() {
    let total = tokio::spawn(scope!(async move {
        let g = with!(TaskGroup::new())?;
        let tasks: Vec<_> = (1..=100u64)
            .map(|n| {
                g.spawn(async move {
                    tokio::task::yield_now().await;
                    Ok::<_, Error>(n)
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("succeeded");
        }
        Ok::<_, Error>(total)
    }))
    .await
    .expect("task")
    .expect("scope");
    assert_eq!(total, 5050);
}
