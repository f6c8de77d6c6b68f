//! Shared helpers of the integration tests: a scriptable manager (sync and
//! async) that journals what happens to it, a per-thread capture of the
//! error hook, panic helpers, and for the async tests a runtime-free
//! `block_on` (and `poll_in_place`, which allocates nothing), a future
//! that is pending a given number of times, and a harness that cancels a
//! future after N polls.
#![allow(dead_code, reason = "each test binary uses a different part")]

use managed::{Manage, Outcome};
use std::cell::RefCell;
use std::future::Future;
use std::io::Write as _;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// What a probe does at enter or exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Succeed,
    Fail,
    Panic,
}

/// A journal shared by the probes of one test (`Send + Sync`, so async
/// scopes over probes are `Send`).
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub fn new() -> Self {
        Journal::default()
    }
    pub fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(line.into());
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
    /// A probe named `name` that succeeds at enter and exit (as an async
    /// manager, each after one pending poll).
    pub fn probe(&self, name: &'static str) -> Probe {
        Probe { name, journal: self.clone(), enter: Act::Succeed, exit: Act::Succeed, pending: 1 }
    }
}

/// A manager that writes `enter NAME` / `exit NAME OUTCOME` to its journal
/// and fails or panics where told. Its error type is `managed::Error`.
///
/// It is also an async manager (an async scope picks that impl), which
/// writes `enter NAME`, `entered NAME`, `exit NAME OUTCOME`, `exited NAME`
/// and is pending `pending` times in enter and in exit (each an `.await`
/// point of the scope).
pub struct Probe {
    pub name: &'static str,
    pub journal: Journal,
    pub enter: Act,
    pub exit: Act,
    pub pending: usize,
}

impl Probe {
    pub fn failing_enter(mut self) -> Self {
        self.enter = Act::Fail;
        self
    }
    pub fn panicking_enter(mut self) -> Self {
        self.enter = Act::Panic;
        self
    }
    pub fn failing_exit(mut self) -> Self {
        self.exit = Act::Fail;
        self
    }
    pub fn panicking_exit(mut self) -> Self {
        self.exit = Act::Panic;
        self
    }
    pub fn pending(mut self, n: usize) -> Self {
        self.pending = n;
        self
    }

    /// The scripted enter act, after the journal line(s).
    fn enter_act(&self) -> Result<(), managed::Error> {
        match self.enter {
            Act::Succeed => Ok(()),
            Act::Fail => Err(managed::Error::msg(format!("enter {} failed", self.name))),
            Act::Panic => panic!("enter {} panicked", self.name),
        }
    }

    /// The scripted exit act, after the journal line(s).
    fn exit_act(&self) -> Result<(), managed::Error> {
        match self.exit {
            Act::Succeed => Ok(()),
            Act::Fail => Err(managed::Error::msg(format!("exit {} failed", self.name))),
            Act::Panic => panic!("exit {} panicked", self.name),
        }
    }
}

/// How an outcome is written in the journal: `ok`, `err(MESSAGE)`,
/// `panic(MESSAGE)`, `cancelled`.
pub fn describe(outcome: &Outcome<'_>) -> String {
    match outcome {
        Outcome::Ok => "ok".into(),
        Outcome::Err(_) => match (outcome.error::<managed::Error>(), outcome.error::<String>()) {
            (Some(e), _) => format!("err({e})"),
            (None, Some(s)) => format!("err({s})"),
            (None, None) => format!("err({outcome:?})"),
        },
        Outcome::Panic(_) => format!("panic({})", outcome.panic_message().unwrap_or("?")),
        Outcome::Cancelled => "cancelled".into(),
    }
}

impl Manage for Probe {
    type Target = Probe;
    type Error = managed::Error;
    fn enter(&mut self) -> Result<&mut Probe, managed::Error> {
        self.journal.push(format!("enter {}", self.name));
        self.enter_act()?;
        Ok(self)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), managed::Error> {
        self.journal.push(format!("exit {} {}", self.name, describe(outcome)));
        self.exit_act()
    }
}

#[cfg(feature = "async")]
impl managed::SendAsyncManage for Probe {
    type Target = Probe;
    type Error = managed::Error;

    async fn enter(&mut self) -> Result<&mut Probe, managed::Error> {
        self.journal.push(format!("enter {}", self.name));
        Pending(self.pending).await;
        self.enter_act()?;
        self.journal.push(format!("entered {}", self.name));
        Ok(self)
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), managed::Error> {
        self.journal.push(format!("exit {} {}", self.name, describe(outcome)));
        // A cancelled exit runs in place with one poll: not waiting there
        // lets the default policy finish it (the waiting case is tested
        // separately).
        if !outcome.is_cancelled() {
            Pending(self.pending).await;
        }
        self.journal.push(format!("exited {}", self.name));
        self.exit_act()
    }
}

thread_local! {
    static REPORTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn capture(report: &managed::Report<'_>) {
    REPORTS.with(|r| r.borrow_mut().push(format!("{:?}: {:?}", report.kind(), report.error())));
}

/// Runs `f` with the error hook capturing this thread's reports, and
/// returns them. (The hook is global; other threads' reports go to their
/// own thread-local list, so parallel tests do not see each other's.)
pub fn reports_of<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let _previous = managed::set_error_hook(capture);
    REPORTS.with(|r| r.borrow_mut().clear());
    let out = f();
    let reports = REPORTS.with(|r| std::mem::take(&mut *r.borrow_mut()));
    (out, reports)
}

/// The panic message of a caught panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string>".into())
}

/// Whether this is CI: `CI` set (to anything but empty, `0` or `false`),
/// as CI services and `.ci/run` do. There nothing a test needs may be
/// missing.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// For a test that cannot run because `missing` is missing: fails it in CI;
/// elsewhere says on the terminal that it skips, and why (written past the
/// test harness, which hides what a passing test prints).
#[track_caller]
pub fn skip_outside_ci(missing: &str) {
    assert!(!in_ci(), "{missing}, and CI must run every test");
    let _ = writeln!(std::io::stderr(), "\nskipped: {missing}");
}

/// Whether `python3` runs; if not, [`skip_outside_ci`].
#[track_caller]
pub fn python3_or_skip_outside_ci() -> bool {
    let runs = std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !runs {
        skip_outside_ci("python3 is not installed (the CPython cross-check needs it)");
    }
    runs
}

/// A JSON array of `items` (which need no escaping), for the `CPython`
/// cross-checks' plan files.
pub fn json_strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let quoted: Vec<String> = items.into_iter().map(|s| format!("\"{}\"", s.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

/// Silences the default panic output of the panics the tests provoke.
pub fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
            let owned = info.payload().downcast_ref::<String>().map_or("", String::as_str);
            if !(msg.contains("panicked") || owned.contains("panicked") || msg.starts_with("test:")) {
                default(info);
            }
        }));
    });
}

/// A future that returns `Pending` `n` times (waking itself), then `()`.
pub struct Pending(pub usize);

impl Future for Pending {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread, no runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::park();
    }
}

/// Polls `future` at most `n` times with a no-op waker, then drops it
/// (cancels it) if it has not finished. `Some(output)` if it finished.
/// Allocates nothing (the future stays on the stack).
pub fn poll_n_then_drop<F: Future>(future: F, n: usize) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..n {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return Some(value);
        }
    }
    None
}

/// Polls `future` to its end on the stack with a no-op waker: unlike
/// [`block_on`], allocates nothing (its waker is not an `Arc`).
pub fn poll_in_place<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}
