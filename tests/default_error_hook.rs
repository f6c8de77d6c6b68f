//! Where the default error hook sends a report: standard error, or a
//! `tracing` event when (feature `tracing`) a subscriber records it, never
//! nowhere and never both.
//!
//! Each test runs itself again as a child process (the environment
//! variable below says which role it plays) and reads the child's standard
//! error: the parent checks what reached it, the child makes the reports
//! and checks what its subscriber recorded. A child has its own process,
//! so each installs the subscribers it needs.

use std::process::Command;

use managed::{scope, with, Error, Guard, Manage, Outcome, SendAsyncManage};

const CHILD: &str = "MANAGED_DEFAULT_ERROR_HOOK_CHILD";

/// The line the default hook prints for a dropped guard whose exit failed.
const GUARD_REPORT: &str = "managed: entered guard dropped without exit; its exit failed: Custom";

/// The line it prints for a scope cancelled by a runtime shutting down.
const CANCEL_REPORT: &str = "managed: cleanup of a cancelled scope failed or did not finish";

/// Whether this process is the child of the test `name`.
fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` in a child process and returns its standard error,
/// after checking that the child passed.
fn stderr_of_child(name: &str) -> String {
    output_of_child(name).1
}

/// Runs the test `name` in a child process and returns its standard output
/// and error, after checking that the child passed.
fn output_of_child(name: &str) -> (String, String) {
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "the child failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(stdout.contains("1 passed"), "the child ran the test\n--- stdout\n{stdout}");
    (stdout, stderr)
}

/// A manager whose exit fails.
struct FlushFails(());

impl Manage for FlushFails {
    type Target = ();
    type Error = std::io::Error;
    fn enter(&mut self) -> Result<&mut (), std::io::Error> {
        Ok(&mut self.0)
    }
    fn exit(self, _: &Outcome<'_>) -> Result<(), std::io::Error> {
        Err(std::io::Error::other("flush failed"))
    }
}

/// Enters a guard and drops it without exit: one `GuardDropped` report.
fn drop_an_entered_guard() {
    let mut guard = Guard::new(FlushFails(()));
    guard.enter().expect("enter");
    drop(guard);
}

/// An async manager whose exit fails, also when the scope is cancelled.
struct RollbackFails;

impl SendAsyncManage for RollbackFails {
    type Target = Self;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Self, Error> {
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        Err(Error::msg(format!("rollback failed ({outcome:?})")))
    }
}

/// Drops a multi-thread runtime whose task waits inside a scope over
/// `RollbackFails`: the shutdown cancels the scope on a runtime thread,
/// and the failed cancelled exit is reported there.
fn shut_down_a_runtime_inside_a_scope() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().expect("runtime");
    let (entered, was_entered) = std::sync::mpsc::channel();
    runtime.spawn(scope!(async move {
        with!(RollbackFails)?;
        entered.send(()).expect("the test waits");
        std::future::pending::<()>().await;
        Ok::<_, Error>(())
    }));
    was_entered.recv().expect("the task entered the scope");
    drop(runtime);
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn without_a_subscriber_a_dropped_guard_is_reported_on_stderr() {
    if is_child() {
        drop_an_entered_guard();
        return;
    }
    let stderr = stderr_of_child("without_a_subscriber_a_dropped_guard_is_reported_on_stderr");
    assert_eq!(count(&stderr, GUARD_REPORT), 1, "{stderr}");
    assert!(stderr.contains("flush failed"), "{stderr}");
}

#[test]
fn without_a_subscriber_a_runtime_shutting_down_reports_on_stderr() {
    if is_child() {
        shut_down_a_runtime_inside_a_scope();
        return;
    }
    let stderr = stderr_of_child("without_a_subscriber_a_runtime_shutting_down_reports_on_stderr");
    assert_eq!(count(&stderr, CANCEL_REPORT), 1, "{stderr}");
    assert!(stderr.contains("rollback failed (Cancelled)"), "{stderr}");
}

#[cfg(feature = "tracing")]
mod with_tracing {
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Metadata, Subscriber};

    use super::{
        count, drop_an_entered_guard, is_child, output_of_child, shut_down_a_runtime_inside_a_scope, stderr_of_child,
    };
    use super::{CANCEL_REPORT, GUARD_REPORT};

    /// A subscriber that records the events up to `max` (as
    /// `LEVEL target field=value ..`) and ignores spans.
    #[derive(Clone)]
    struct Recorder {
        max: Level,
        events: Arc<Mutex<Vec<String>>>,
    }

    impl Recorder {
        fn up_to(max: Level) -> Self {
            Recorder { max, events: Arc::default() }
        }
        fn events(&self) -> Vec<String> {
            self.events.lock().expect("not poisoned").clone()
        }
    }

    struct Fields(String);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            use std::fmt::Write as _;
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            // A greater level is more verbose.
            *metadata.level() <= self.max
        }
        fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
            Some(self.max.into())
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut fields = Fields(format!("{} {}", event.metadata().level(), event.metadata().target()));
            event.record(&mut fields);
            self.events.lock().expect("not poisoned").push(fields.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    #[test]
    fn a_global_subscriber_records_the_reports_and_nothing_goes_to_stderr() {
        if is_child() {
            let recorder = Recorder::up_to(Level::TRACE);
            tracing::subscriber::set_global_default(recorder.clone()).expect("the child's only subscriber");
            drop_an_entered_guard();
            shut_down_a_runtime_inside_a_scope(); // reported on a runtime thread: the global default sees it
            let events = recorder.events();
            let reports: Vec<_> = events.iter().filter(|e| e.starts_with("WARN managed_core::hook")).collect();
            assert_eq!(reports.len(), 2, "{events:?}");
            assert!(reports[0].contains("kind=GuardDropped") && reports[0].contains("flush failed"), "{reports:?}");
            assert!(reports[1].contains("kind=Cancelled") && reports[1].contains("rollback failed"), "{reports:?}");
            return;
        }
        let stderr =
            stderr_of_child("with_tracing::a_global_subscriber_records_the_reports_and_nothing_goes_to_stderr");
        assert!(!stderr.contains("managed:"), "recorded, so not printed as well:\n{stderr}");
    }

    #[test]
    fn a_thread_default_subscriber_records_the_reports_of_its_thread_only() {
        if is_child() {
            let recorder = Recorder::up_to(Level::TRACE);
            tracing::subscriber::with_default(recorder.clone(), || {
                drop_an_entered_guard();
                // Another thread has no subscriber: its report goes to stderr.
                std::thread::spawn(drop_an_entered_guard).join().expect("no panic");
            });
            let events = recorder.events();
            assert_eq!(events.len(), 1, "{events:?}");
            assert!(
                events[0].starts_with("WARN managed_core::hook") && events[0].contains("GuardDropped"),
                "{events:?}"
            );
            return;
        }
        let stderr =
            stderr_of_child("with_tracing::a_thread_default_subscriber_records_the_reports_of_its_thread_only");
        assert_eq!(count(&stderr, GUARD_REPORT), 1, "only the other thread's report:\n{stderr}");
    }

    /// The runtime's worker thread, not this one, drops the task while the
    /// runtime shuts down; whichever thread reports, the report is recorded
    /// or printed, once.
    #[test]
    fn a_runtime_shutting_down_under_a_thread_default_reports_once() {
        if is_child() {
            let recorder = Recorder::up_to(Level::TRACE);
            tracing::subscriber::with_default(recorder.clone(), shut_down_a_runtime_inside_a_scope);
            let cancelled = recorder.events().iter().filter(|e| e.contains("kind=Cancelled")).count();
            println!("recorded: {cancelled}");
            return;
        }
        let (stdout, stderr) =
            output_of_child("with_tracing::a_runtime_shutting_down_under_a_thread_default_reports_once");
        let recorded = usize::from(stdout.contains("recorded: 1"));
        assert!(recorded == 1 || stdout.contains("recorded: 0"), "{stdout}");
        assert_eq!(recorded + count(&stderr, CANCEL_REPORT), 1, "--- stdout\n{stdout}\n--- stderr\n{stderr}");
    }

    #[test]
    fn a_subscriber_that_does_not_enable_warn_leaves_the_report_to_stderr() {
        if is_child() {
            let recorder = Recorder::up_to(Level::ERROR);
            tracing::subscriber::set_global_default(recorder.clone()).expect("the child's only subscriber");
            drop_an_entered_guard();
            assert_eq!(recorder.events(), Vec::<String>::new());
            return;
        }
        let stderr =
            stderr_of_child("with_tracing::a_subscriber_that_does_not_enable_warn_leaves_the_report_to_stderr");
        assert_eq!(count(&stderr, GUARD_REPORT), 1, "{stderr}");
    }
}
