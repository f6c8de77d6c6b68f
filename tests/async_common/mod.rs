//! Helpers of the async tests: a scriptable async manager that journals
//! what happens to it (thread-safe, so scopes over it are `Send`), a
//! runtime-free `block_on`, a future that is pending a given number of
//! times, and a harness that cancels a future after N polls.
#![allow(dead_code, reason = "each test binary uses a different part")]

use managed::{Outcome, SendAsyncManage};
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// What a probe does at enter or exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Succeed,
    Fail,
    Panic,
}

/// A journal shared by the probes of one test (`Send + Sync`).
#[derive(Clone, Default)]
pub struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    pub fn new() -> Self {
        Journal::default()
    }
    pub fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line.into());
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
    /// A probe named `name` that succeeds at enter and exit, each after
    /// `pending` polls that return `Pending`.
    pub fn probe(&self, name: &'static str) -> AsyncProbe {
        AsyncProbe { name, journal: self.clone(), enter: Act::Succeed, exit: Act::Succeed, pending: 1 }
    }
}

/// An async manager that writes `enter NAME`, `entered NAME`,
/// `exit NAME OUTCOME`, `exited NAME` to its journal, is pending `pending`
/// times in enter and in exit (each an `.await` point of the scope), and
/// fails or panics where told. Error type: `managed::Error`.
pub struct AsyncProbe {
    pub name: &'static str,
    pub journal: Journal,
    pub enter: Act,
    pub exit: Act,
    pub pending: usize,
}

impl AsyncProbe {
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
}

/// How an outcome is written in the journal.
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

impl SendAsyncManage for AsyncProbe {
    type Target = AsyncProbe;
    type Error = managed::Error;

    async fn enter(&mut self) -> Result<&mut AsyncProbe, managed::Error> {
        self.journal.push(format!("enter {}", self.name));
        Pending(self.pending).await;
        match self.enter {
            Act::Succeed => {
                self.journal.push(format!("entered {}", self.name));
                Ok(self)
            }
            Act::Fail => Err(managed::Error::msg(format!("enter {} failed", self.name))),
            Act::Panic => panic!("enter {} panicked", self.name),
        }
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
        match self.exit {
            Act::Succeed => Ok(()),
            Act::Fail => Err(managed::Error::msg(format!("exit {} failed", self.name))),
            Act::Panic => panic!("exit {} panicked", self.name),
        }
    }
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

/// Polls `future` at most `n` times, then drops it (cancels it) if it has
/// not finished. `Some(output)` if it finished.
pub fn poll_n_then_drop<F: Future>(future: F, n: usize) -> Option<F::Output> {
    let mut future = Box::pin(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..n {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return Some(value);
        }
    }
    drop(future);
    None
}

thread_local! {
    static REPORTS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn capture(report: &managed::Report<'_>) {
    REPORTS.with(|r| r.borrow_mut().push(format!("{:?}: {:?}", report.kind(), report.error())));
}

/// Runs `f` with the error hook capturing this thread's reports.
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
