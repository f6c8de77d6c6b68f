//! Shared helpers of the integration tests: a scriptable manager that
//! journals what happens to it, and a per-thread capture of the error hook.
#![allow(dead_code, reason = "each test binary uses a different part")]

use managed::{Manage, Outcome};
use std::cell::RefCell;
use std::rc::Rc;

/// What a probe does at enter or exit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Succeed,
    Fail,
    Panic,
}

/// A journal shared by the probes of one test.
#[derive(Clone, Default)]
pub struct Journal(Rc<RefCell<Vec<String>>>);

impl Journal {
    pub fn new() -> Self {
        Journal::default()
    }
    pub fn push(&self, line: impl Into<String>) {
        self.0.borrow_mut().push(line.into());
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
    /// A probe named `name` that succeeds at enter and exit.
    pub fn probe(&self, name: &'static str) -> Probe {
        Probe { name, journal: self.clone(), enter: Act::Succeed, exit: Act::Succeed }
    }
}

/// A manager that writes `enter NAME` / `exit NAME OUTCOME` to its journal
/// and fails or panics where told. Its error type is `managed::Error`.
pub struct Probe {
    pub name: &'static str,
    pub journal: Journal,
    pub enter: Act,
    pub exit: Act,
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
        match self.enter {
            Act::Succeed => Ok(self),
            Act::Fail => Err(managed::Error::msg(format!("enter {} failed", self.name))),
            Act::Panic => panic!("enter {} panicked", self.name),
        }
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), managed::Error> {
        self.journal.push(format!("exit {} {}", self.name, describe(outcome)));
        match self.exit {
            Act::Succeed => Ok(()),
            Act::Fail => Err(managed::Error::msg(format!("exit {} failed", self.name))),
            Act::Panic => panic!("exit {} panicked", self.name),
        }
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
    managed::set_error_hook(capture);
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
