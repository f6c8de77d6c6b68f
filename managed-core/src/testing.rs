//! Test helpers for cleanup paths (feature `testing`): a scriptable
//! [`Probe`] manager that journals every enter and exit and the outcome each
//! exit saw, and assertions over the journal.
//!
//! ```
//! use managed::testing::{Journal, Seen};
//! use managed::{scope, with, Error};
//!
//! let journal = Journal::new();
//! let result: Result<(), Error> = scope! {
//!     let _db = with!(journal.probe("db"))?;
//!     let _tx = with!(journal.probe("tx").fail_exit())?;
//!     Ok(())
//! };
//! assert_eq!(result.unwrap_err().to_string(), "probe tx failed at exit");
//! journal.assert_all_exited();
//! assert_eq!(journal.exit_order(), ["tx", "db"]);
//! assert_eq!(journal.seen_by("db"), Some(Seen::Err("probe tx failed at exit".into())));
//! ```
//!
//! # Testing your own manager
//!
//! Put probes around your manager to check where its exit runs, what it
//! does with each outcome, and that a failure next to it loses nothing
//! (for an async manager, the same in `scope!(async ..)`, and
//! [`cancel_after`] to cancel the scope at each of its await points):
//!
//! ```
//! use managed::testing::{Event, Journal, Seen};
//! use managed::{scope, with, Error, Manage, Outcome};
//!
//! /// The manager under test: commits on Ok, rolls back otherwise.
//! struct Tx<'j>(&'j Journal);
//! impl Manage for Tx<'_> {
//!     type Target = Self;
//!     type Error = Error;
//!     fn enter(&mut self) -> Result<&mut Self, Error> { self.0.note("BEGIN"); Ok(self) }
//!     fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
//!         self.0.note(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" });
//!         Ok(())
//!     }
//! }
//!
//! for (fail_inner, expected) in [(false, "COMMIT"), (true, "ROLLBACK")] {
//!     let journal = Journal::new();
//!     let inner = journal.probe("inner");
//!     let inner = if fail_inner { inner.fail_exit() } else { inner };
//!     let result: Result<(), Error> = scope! {
//!         let _outer = with!(journal.probe("outer"))?;
//!         let _tx = with!(Tx(&journal))?;
//!         let _inner = with!(inner)?;        // fails at exit when asked to
//!         Ok(())
//!     };
//!     journal.assert_all_exited();
//!     // The transaction saw the inner failure, and ended before `outer`.
//!     let events = journal.events();
//!     let at = |e: &Event| events.iter().position(|x| x == e).unwrap();
//!     assert!(at(&Event::Note(expected.into())) < at(&Event::Exit("outer".into(), journal.seen_by("outer").unwrap())));
//!     assert_eq!(result.is_err(), fail_inner);
//!     if fail_inner {
//!         assert_eq!(journal.seen_by("outer"), Some(Seen::Err("probe inner failed at exit".into())));
//!     }
//! }
//! ```

use std::fmt;
use std::string::{String, ToString};
use std::sync::{Arc, Mutex, PoisonError};
use std::vec::Vec;

use crate::{Manage, Outcome};

/// What a probe does at enter or at exit ([`Probe::at_enter`],
/// [`Probe::at_exit`]; [`Probe::fail_exit`] and friends are shorthands).
///
/// ```
/// use managed::testing::{Act, Journal, ProbeError, Stage};
/// use managed::{scope, with};
///
/// let journal = Journal::new();
/// let result: Result<(), ProbeError> = scope! {
///     let _db = with!(journal.probe("db").at_enter(Act::Fail))?;
///     Ok(())
/// };
/// assert_eq!(result, Err(ProbeError { probe: "db".into(), stage: Stage::Enter }));
/// journal.assert_all_exited(); // a failed enter is not exited
/// assert_eq!(journal.exit_order(), Vec::<String>::new());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Act {
    /// Succeed.
    #[default]
    Succeed,
    /// Return a [`ProbeError`].
    Fail,
    /// Panic with the message `probe NAME panicked at STAGE`.
    Panic,
}

/// Enter or exit: where a [`ProbeError`] happened. Displays as `enter` /
/// `exit`.
///
/// ```
/// use managed::testing::Stage;
/// assert_eq!(format!("{} then {}", Stage::Enter, Stage::Exit), "enter then exit");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `Manage::enter`.
    Enter,
    /// `Manage::exit` (or `exit_cancelled`).
    Exit,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Enter => "enter",
            Stage::Exit => "exit",
        })
    }
}

/// The error a failing probe returns: `probe NAME failed at STAGE`.
///
/// ```
/// let e = managed::testing::ProbeError { probe: "db".into(), stage: managed::testing::Stage::Exit };
/// assert_eq!(e.to_string(), "probe db failed at exit");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeError {
    /// The probe's name.
    pub probe: String,
    /// Where it failed.
    pub stage: Stage,
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "probe {} failed at {}", self.probe, self.stage)
    }
}

impl std::error::Error for ProbeError {}

/// The outcome an exit saw, as text that tests can compare.
///
/// ```
/// use managed::testing::Seen;
/// assert_eq!(Seen::of(&managed::Outcome::Ok), Seen::Ok);
/// assert_eq!(Seen::of(&managed::Outcome::err(&"e")), Seen::Err("\"e\"".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// [`Outcome::Ok`].
    Ok,
    /// [`Outcome::Err`]: the error's `Display` when it is a `managed::Error`,
    /// a [`ProbeError`], a `String`, a `std::io::Error` or (feature
    /// `anyhow`) an `anyhow::Error`, else its `Debug`.
    Err(String),
    /// [`Outcome::Panic`]: the panic message, if it was a string.
    Panic(Option<String>),
    /// [`Outcome::Cancelled`].
    Cancelled,
}

impl Seen {
    /// Describes `outcome`.
    ///
    /// ```
    /// # use managed::testing::Seen;
    /// assert_eq!(Seen::of(&managed::Outcome::Cancelled), Seen::Cancelled);
    /// ```
    pub fn of(outcome: &Outcome<'_>) -> Seen {
        match outcome {
            Outcome::Ok => Seen::Ok,
            Outcome::Err(view) => {
                let text = if let Some(e) = outcome.error::<crate::Error>() {
                    e.to_string()
                } else if let Some(e) = outcome.error::<ProbeError>() {
                    e.to_string()
                } else if let Some(s) = outcome.error::<String>() {
                    s.clone()
                } else if let Some(e) = outcome.error::<std::io::Error>() {
                    e.to_string()
                } else if let Some(e) = anyhow_text(outcome) {
                    // Not its `Debug`: that adds a backtrace when
                    // `RUST_BACKTRACE` is set, so the text would depend on
                    // the environment the test runs in.
                    e
                } else {
                    std::format!("{view:?}")
                };
                Seen::Err(text)
            }
            Outcome::Panic(view) => Seen::Panic(view.message().map(ToString::to_string)),
            Outcome::Cancelled => Seen::Cancelled,
        }
    }
}

/// The `Display` of an `anyhow::Error` outcome.
#[cfg(feature = "anyhow")]
fn anyhow_text(outcome: &Outcome<'_>) -> Option<String> {
    outcome.error::<anyhow::Error>().map(ToString::to_string)
}

#[cfg(not(feature = "anyhow"))]
fn anyhow_text(_: &Outcome<'_>) -> Option<String> {
    None
}

/// One line of a [`Journal`].
///
/// ```
/// use managed::testing::{Event, Journal, Seen};
/// use managed::{scope, with, Error};
///
/// let journal = Journal::new();
/// scope! {
///     let _db = with!(journal.probe("db"))?;
///     journal.note("body");
///     Ok::<_, Error>(())
/// }?;
/// assert_eq!(
///     journal.events(),
///     [Event::Enter("db".into()), Event::Note("body".into()), Event::Exit("db".into(), Seen::Ok)],
/// );
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The probe's enter was called. The name is followed by
    /// ` (enter failed)` when the probe was scripted to fail or panic there
    /// (so [`Journal::assert_all_exited`] expects no exit for it).
    Enter(String),
    /// The probe's exit was called, seeing this outcome.
    Exit(String, Seen),
    /// A note written by the test with [`Journal::note`].
    Note(String),
}

/// A shared, thread-safe record of what a test's probes went through.
/// Cloning shares it.
///
/// ```
/// let journal = managed::testing::Journal::new();
/// journal.note("start");
/// assert_eq!(journal.events().len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Journal {
    events: Arc<Mutex<Vec<Event>>>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.events()).finish()
    }
}

impl Journal {
    /// An empty journal.
    ///
    /// ```
    /// assert!(managed::testing::Journal::new().events().is_empty());
    /// ```
    pub fn new() -> Self {
        Journal::default()
    }

    /// A probe that writes here and succeeds at enter and exit; script it
    /// with [`Probe::fail_enter`], [`Probe::panic_exit`] and friends.
    ///
    /// ```
    /// let journal = managed::testing::Journal::new();
    /// let probe = journal.probe("db").fail_exit();
    /// assert_eq!(probe.name(), "db");
    /// ```
    pub fn probe(&self, name: impl Into<String>) -> Probe {
        Probe {
            name: name.into(),
            journal: self.clone(),
            enter: Act::Succeed,
            exit: Act::Succeed,
            pending_when_cancelled: 0,
            own_exit_cancelled: false,
        }
    }

    /// Writes a note (to check where the body ran relative to exits).
    ///
    /// ```
    /// # let journal = managed::testing::Journal::new();
    /// journal.note("body");
    /// assert_eq!(journal.events(), [managed::testing::Event::Note("body".into())]);
    /// ```
    pub fn note(&self, text: impl Into<String>) {
        self.push(Event::Note(text.into()));
    }

    fn push(&self, event: Event) {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(event);
    }

    /// Everything recorded so far, in order.
    ///
    /// ```
    /// # let journal = managed::testing::Journal::new();
    /// assert!(journal.events().is_empty());
    /// ```
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Names of the probes whose enter was called, in order (with
    /// ` (enter failed)` after a scripted failure, as in [`Event::Enter`]).
    ///
    /// ```
    /// # let journal = managed::testing::Journal::new();
    /// assert!(journal.enter_order().is_empty());
    /// ```
    pub fn enter_order(&self) -> Vec<String> {
        self.events().into_iter().filter_map(|e| if let Event::Enter(n) = e { Some(n) } else { None }).collect()
    }

    /// Names of the probes whose exit was called, in order.
    ///
    /// ```
    /// # let journal = managed::testing::Journal::new();
    /// assert!(journal.exit_order().is_empty());
    /// ```
    pub fn exit_order(&self) -> Vec<String> {
        self.events().into_iter().filter_map(|e| if let Event::Exit(n, _) = e { Some(n) } else { None }).collect()
    }

    /// The outcome the exit of `probe` saw (the first, if it exited twice).
    ///
    /// ```
    /// # let journal = managed::testing::Journal::new();
    /// assert_eq!(journal.seen_by("nobody"), None);
    /// ```
    pub fn seen_by(&self, probe: &str) -> Option<Seen> {
        self.events().into_iter().find_map(|e| match e {
            Event::Exit(n, seen) if n == probe => Some(seen),
            _ => None,
        })
    }

    /// Checks the promise of every construct: each probe whose enter
    /// succeeded exited exactly once, newest first (an exit is always that
    /// of the newest probe still entered), and no other probe exited.
    /// Several scopes run one after another (or nested) may share the
    /// journal; scopes that run concurrently need a journal each. Panics
    /// with what went wrong and the journal, one event a line.
    ///
    /// A probe scripted to fail or panic at enter counts as not entered.
    ///
    /// ```
    /// use managed::testing::Journal;
    /// use managed::{scope, with, Error};
    ///
    /// let journal = Journal::new();
    /// for name in ["first", "second"] {
    ///     scope! {
    ///         let _outer = with!(journal.probe(name))?;
    ///         let _inner = with!(journal.probe("inner"))?;
    ///         Ok::<_, Error>(())
    ///     }?;
    /// }
    /// journal.assert_all_exited();
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Panics
    /// When the journal breaks the promise, e.g.
    ///
    /// ```should_panic
    /// let journal = managed::testing::Journal::new();
    /// let mut guard = managed::Guard::new(journal.probe("leaked"));
    /// guard.enter()?;
    /// std::mem::forget(guard); // never exited
    /// journal.assert_all_exited(); // panics: probe `leaked` (entered at event 0) never exited
    /// # Ok::<(), managed::testing::ProbeError>(())
    /// ```
    pub fn assert_all_exited(&self) {
        let events = self.events();
        if let Err(broken) = check_exits(&events) {
            panic!("probes must exit exactly once, newest first: {broken}\njournal:{}", JournalLines(&events));
        }
    }
}

/// The first way `events` breaks the exit promise.
fn check_exits(events: &[Event]) -> Result<(), String> {
    let mut open: Vec<(usize, &str)> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::Enter(n) if !n.ends_with(FAILED_ENTER) => open.push((i, n)),
            Event::Exit(n, _) => match open.last() {
                Some((_, newest)) if newest == n => {
                    open.pop();
                }
                Some((at, newest)) => {
                    return Err(if open.iter().any(|(_, o)| o == n) {
                        std::format!("probe `{n}` exited (event {i}) while `{newest}`, entered after it (event {at}), was still entered")
                    } else {
                        std::format!("probe `{n}` exited (event {i}) but was not entered, or had exited already")
                    });
                }
                None => {
                    return Err(std::format!(
                        "probe `{n}` exited (event {i}) but was not entered, or had exited already"
                    ));
                }
            },
            _ => {}
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        let never: Vec<String> = open.iter().map(|(at, n)| std::format!("`{n}` (entered at event {at})")).collect();
        Err(std::format!("probe {} never exited", never.join(", ")))
    }
}

/// The events of a journal, one a line, as the panic of
/// `assert_all_exited` lists them.
struct JournalLines<'e>(&'e [Event]);

impl fmt::Display for JournalLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, event) in self.0.iter().enumerate() {
            write!(f, "\n  {i:>3}: ")?;
            match event {
                Event::Enter(n) => write!(f, "enter {n}")?,
                Event::Exit(n, seen) => write!(f, "exit {n}, saw {seen:?}")?,
                Event::Note(text) => write!(f, "note: {text}")?,
            }
        }
        Ok(())
    }
}

/// Marks a failed or panicked enter in the journal, so that
/// `assert_all_exited` does not expect an exit for it.
const FAILED_ENTER: &str = " (enter failed)";

/// A scriptable manager for tests of cleanup paths. Its target is itself;
/// its error is [`ProbeError`] (which converts into `managed::Error`).
///
/// ```
/// use managed::testing::Journal;
///
/// let journal = Journal::new();
/// let mut guard = managed::Guard::new(journal.probe("file"));
/// guard.enter()?;
/// guard.exit(&managed::Outcome::Ok)?;
/// journal.assert_all_exited();
/// # Ok::<(), managed::testing::ProbeError>(())
/// ```
#[derive(Debug)]
pub struct Probe {
    name: String,
    journal: Journal,
    enter: Act,
    exit: Act,
    /// As an async manager: how many times its exit is pending when it
    /// sees `Outcome::Cancelled` ([`Probe::pending_when_cancelled`]).
    pending_when_cancelled: usize,
    /// As an async manager: `exit_cancelled` runs the exit in place
    /// ([`Probe::override_exit_cancelled`]).
    own_exit_cancelled: bool,
}

impl Probe {
    /// The probe's name.
    ///
    /// ```
    /// assert_eq!(managed::testing::Journal::new().probe("x").name(), "x");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Scripts what enter does.
    ///
    /// ```
    /// use managed::testing::{Act, Journal};
    /// let p = Journal::new().probe("p").at_enter(Act::Fail);
    /// # let _ = p;
    /// ```
    #[must_use]
    pub fn at_enter(mut self, act: Act) -> Self {
        self.enter = act;
        self
    }

    /// Scripts what exit does.
    ///
    /// ```
    /// use managed::testing::{Act, Journal};
    /// let p = Journal::new().probe("p").at_exit(Act::Panic);
    /// # let _ = p;
    /// ```
    #[must_use]
    pub fn at_exit(mut self, act: Act) -> Self {
        self.exit = act;
        self
    }

    /// Enter returns an error.
    ///
    /// ```
    /// let p = managed::testing::Journal::new().probe("p").fail_enter();
    /// # let _ = p;
    /// ```
    #[must_use]
    pub fn fail_enter(self) -> Self {
        self.at_enter(Act::Fail)
    }

    /// Enter panics.
    ///
    /// ```
    /// let p = managed::testing::Journal::new().probe("p").panic_enter();
    /// # let _ = p;
    /// ```
    #[must_use]
    pub fn panic_enter(self) -> Self {
        self.at_enter(Act::Panic)
    }

    /// Exit returns an error.
    ///
    /// ```
    /// let p = managed::testing::Journal::new().probe("p").fail_exit();
    /// # let _ = p;
    /// ```
    #[must_use]
    pub fn fail_exit(self) -> Self {
        self.at_exit(Act::Fail)
    }

    /// Exit panics.
    ///
    /// ```
    /// let p = managed::testing::Journal::new().probe("p").panic_exit();
    /// # let _ = p;
    /// ```
    #[must_use]
    pub fn panic_exit(self) -> Self {
        self.at_exit(Act::Panic)
    }

    /// As an async manager, its exit is pending `polls` times (each time
    /// waking itself) before it acts when it sees [`Outcome::Cancelled`];
    /// by default it does not wait then (`polls` = 0). The journal gets the
    /// exit before the first wait, as for any exit.
    ///
    /// With `polls` > 0 the default cancellation policy of
    /// [`AsyncManage::exit_cancelled`](crate::AsyncManage::exit_cancelled),
    /// which polls the exit once in place, cannot finish it: it reports the
    /// unfinished exit through the error hook (and the exit's scripted
    /// failure never happens). That is the path of a manager whose cleanup
    /// must wait; [`override_exit_cancelled`](Probe::override_exit_cancelled)
    /// is the way out.
    ///
    /// ```
    /// use managed::testing::{cancel_after, Journal, Seen};
    /// use managed::{scope, with, Error, Report, ReportKind};
    ///
    /// static UNFINISHED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    /// fn count(report: &Report<'_>) {
    ///     if report.kind() == ReportKind::Cancelled && format!("{:?}", report.error()).contains("did not finish") {
    ///         UNFINISHED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ///     }
    /// }
    ///
    /// let journal = Journal::new();
    /// let scope = scope!(async {
    ///     let _db = with!(journal.probe("db").pending_when_cancelled(1))?; // enter: one await
    ///     std::future::pending::<()>().await; // the body never finishes
    ///     Ok::<_, Error>(())
    /// });
    /// let previous = managed::set_error_hook(count);
    /// // Poll twice (the enter's await, then the body), then drop: cancelled in the body.
    /// let finished = futures::executor::block_on(cancel_after(scope, 2));
    /// managed::set_error_hook(previous);
    /// assert!(finished.is_none());
    /// assert_eq!(journal.seen_by("db"), Some(Seen::Cancelled));
    /// assert_eq!(UNFINISHED.load(std::sync::atomic::Ordering::Relaxed), 1);
    /// ```
    #[must_use]
    pub fn pending_when_cancelled(mut self, polls: usize) -> Self {
        self.pending_when_cancelled = polls;
        self
    }

    /// As an async manager, overrides
    /// [`AsyncManage::exit_cancelled`](crate::AsyncManage::exit_cancelled)
    /// the way a manager whose cleanup can run without waiting does: the
    /// cancelled exit is journaled with [`Seen::Cancelled`] and its
    /// scripted act runs in place, whatever
    /// [`pending_when_cancelled`](Probe::pending_when_cancelled) says. A
    /// scripted failure is sent to the error hook as
    /// [`ReportKind::Cancelled`](crate::ReportKind::Cancelled) (there is no
    /// caller to return it to); a scripted panic escapes `exit_cancelled`
    /// (the scope or stack that calls it catches and reports it).
    ///
    /// ```
    /// use managed::testing::{cancel_after, Journal, Seen};
    /// use managed::{scope, with, Error, Report, ReportKind};
    ///
    /// static CANCELLED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    /// fn record(report: &Report<'_>) {
    ///     if let Ok(mut seen) = CANCELLED.lock() {
    ///         seen.push(format!("{:?}: {:?}", report.kind(), report.error()));
    ///     }
    /// }
    ///
    /// let journal = Journal::new();
    /// let db = journal.probe("db").pending_when_cancelled(3).fail_exit().override_exit_cancelled();
    /// let scope = scope!(async {
    ///     let _db = with!(db)?;
    ///     std::future::pending::<()>().await;
    ///     Ok::<_, Error>(())
    /// });
    /// let previous = managed::set_error_hook(record);
    /// assert!(futures::executor::block_on(cancel_after(scope, 2)).is_none());
    /// managed::set_error_hook(previous);
    /// assert_eq!(journal.seen_by("db"), Some(Seen::Cancelled));
    /// // The exit ran to its end in place: its failure was reported, not an unfinished exit.
    /// assert_eq!(*CANCELLED.lock().unwrap(), [r#"Cancelled: ProbeError { probe: "db", stage: Exit }"#]);
    /// ```
    #[must_use]
    pub fn override_exit_cancelled(mut self) -> Self {
        self.own_exit_cancelled = true;
        self
    }

    /// Runs the scripted act of `stage` (shared by the sync and async impls).
    fn act(&self, stage: Stage, act: Act) -> Result<(), ProbeError> {
        match act {
            Act::Succeed => Ok(()),
            Act::Fail => Err(ProbeError { probe: self.name.clone(), stage }),
            Act::Panic => std::panic::panic_any(std::format!("probe {} panicked at {stage}", self.name)),
        }
    }

    /// Records an enter, then runs the enter act.
    pub(crate) fn do_enter(&mut self) -> Result<(), ProbeError> {
        let label =
            if self.enter == Act::Succeed { self.name.clone() } else { std::format!("{}{FAILED_ENTER}", self.name) };
        self.journal.push(Event::Enter(label));
        self.act(Stage::Enter, self.enter)
    }

    /// Records an exit with its outcome, then runs the exit act.
    pub(crate) fn do_exit(&self, outcome: &Outcome<'_>) -> Result<(), ProbeError> {
        self.journal.push(Event::Exit(self.name.clone(), Seen::of(outcome)));
        self.act(Stage::Exit, self.exit)
    }
}

#[diagnostic::do_not_recommend]
impl Manage for Probe {
    type Target = Probe;
    type Error = ProbeError;
    fn enter(&mut self) -> Result<&mut Probe, ProbeError> {
        self.do_enter()?;
        Ok(self)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), ProbeError> {
        self.do_exit(outcome)
    }
}

/// Polls `future` at most `polls` times, then drops it if it has not
/// finished: a cancellation at a chosen `.await` (what a timeout or a lost
/// `select!` does at an unknown one). Resolves to `Some(output)` if the
/// future finished first, `None` if it was dropped.
///
/// A future itself, with no runtime of its own: await it where the future
/// under test can run (`#[tokio::test]` for one that uses tokio's timers or
/// I/O, `futures::executor::block_on` otherwise); only the polls of the
/// wrapped future count, not how long they wait. Counting polls up from 0
/// until the result is `Some` cancels a scope at each of its await points
/// in turn: the way to test a manager's `exit_cancelled` and what a
/// cancellation leaves behind.
///
/// It never hangs on a future that returns `Pending` without arranging a
/// wake-up (neither waking nor keeping the waker it was polled with, such
/// as `std::future::pending()`, or a manager whose await never resolves):
/// under any executor that future would never be polled again, so
/// `cancel_after` wakes itself and polls it again at once, and each such
/// poll counts as one of the `polls`. The future is dropped after `polls`
/// polls, at the await that never wakes. A future that keeps the waker is
/// polled again only when woken, as under any executor: one that is never
/// woken (waiting for an event that never comes) waits; put a timeout
/// around it.
///
/// ```
/// use managed::testing::{cancel_after, Journal, Seen};
/// use managed::{scope, with, Error};
///
/// # futures::executor::block_on(async {
/// for polls in 0.. {
///     let journal = Journal::new();
///     let scope = scope!(async {
///         let _db = with!(journal.probe("db"))?; // each probe's enter and exit await once
///         let _tx = with!(journal.probe("tx"))?;
///         Ok::<_, Error>(())
///     });
///     let finished = cancel_after(scope, polls).await;
///     journal.assert_all_exited(); // however far it got
///     if let Some(result) = finished {
///         result?;
///         assert_eq!(journal.seen_by("db"), Some(Seen::Ok));
///         break;
///     }
///     if journal.seen_by("tx") != Some(Seen::Ok) {
///         // Dropped before the exits started: each entered probe got its cancelled exit.
///         assert!(journal.exit_order().iter().all(|p| journal.seen_by(p) == Some(Seen::Cancelled)));
///     }
/// }
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
#[cfg(feature = "async")]
pub fn cancel_after<F: core::future::Future>(future: F, polls: usize) -> CancelAfter<F> {
    CancelAfter { future: Some(std::boxed::Box::pin(future)), polls_left: polls }
}

/// The future of [`cancel_after`].
///
/// ```
/// # futures::executor::block_on(async {
/// let never_polled = managed::testing::cancel_after(async { 1 }, 0);
/// assert_eq!(never_polled.await, None);
/// assert_eq!(managed::testing::cancel_after(async { 1 }, 1).await, Some(1));
/// # });
/// ```
#[cfg(feature = "async")]
#[must_use = "futures do nothing unless awaited"]
pub struct CancelAfter<F> {
    /// `None` once finished or dropped.
    future: Option<core::pin::Pin<std::boxed::Box<F>>>,
    polls_left: usize,
}

#[cfg(feature = "async")]
impl<F: core::future::Future> core::future::Future for CancelAfter<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<Self::Output> {
        let this = &mut *self;
        let Some(future) = this.future.as_mut() else {
            return core::task::Poll::Ready(None);
        };
        if this.polls_left == 0 {
            this.future = None; // the cancellation
            return core::task::Poll::Ready(None);
        }
        this.polls_left -= 1;
        let tracker = std::sync::Arc::new(WakeTracker {
            outer: cx.waker().clone(),
            woken: core::sync::atomic::AtomicBool::new(false),
        });
        let waker = core::task::Waker::from(tracker.clone());
        let polled = future.as_mut().poll(&mut core::task::Context::from_waker(&waker));
        drop(waker);
        match polled {
            core::task::Poll::Ready(output) => {
                this.future = None;
                core::task::Poll::Ready(Some(output))
            }
            core::task::Poll::Pending if this.polls_left == 0 => {
                this.future = None;
                core::task::Poll::Ready(None)
            }
            core::task::Poll::Pending => {
                if !tracker.arranged_a_wake_up() {
                    // Nothing will ever wake this task for that future: poll
                    // it again, which counts as a poll.
                    cx.waker().wake_by_ref();
                }
                core::task::Poll::Pending
            }
        }
    }
}

/// The waker [`CancelAfter`] polls its future with, once per poll: it wakes
/// the task's waker and tells whether the future woke it or kept a clone
/// (a fresh one per poll, so a future that kept an earlier poll's waker
/// finds this one different in `will_wake` and clones it).
#[cfg(feature = "async")]
struct WakeTracker {
    outer: core::task::Waker,
    woken: core::sync::atomic::AtomicBool,
}

#[cfg(feature = "async")]
impl WakeTracker {
    /// Called once the waker given to the poll is dropped: a clone still
    /// alive is one the future kept.
    fn arranged_a_wake_up(self: &std::sync::Arc<Self>) -> bool {
        self.woken.load(core::sync::atomic::Ordering::SeqCst) || std::sync::Arc::strong_count(self) > 1
    }
}

#[cfg(feature = "async")]
impl std::task::Wake for WakeTracker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, core::sync::atomic::Ordering::SeqCst);
        self.outer.wake_by_ref();
    }
}

#[cfg(feature = "async")]
impl<F> fmt::Debug for CancelAfter<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelAfter")
            .field("running", &self.future.is_some())
            .field("polls_left", &self.polls_left)
            .finish()
    }
}

/// A future that is pending once (waking itself), then ready: the probe's
/// await point, so that tests can cancel a scope inside an enter or an exit.
#[cfg(feature = "async")]
struct YieldOnce(bool);

#[cfg(feature = "async")]
impl core::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<()> {
        if self.0 {
            core::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            core::task::Poll::Pending
        }
    }
}

/// The probe as an async manager (an async scope picks this impl): enter
/// awaits once, then records and acts as the sync enter does; exit records,
/// awaits once, then acts. When the exit sees [`Outcome::Cancelled`] it
/// awaits [`pending_when_cancelled`](Probe::pending_when_cancelled) times
/// instead (none by default, so that the cancellation policy's single poll
/// finishes it); `exit_cancelled` is the default policy unless
/// [`override_exit_cancelled`](Probe::override_exit_cancelled) was asked
/// for. Each await is a point where a test may drop the scope.
///
/// ```
/// use managed::testing::Journal;
/// use managed::{scope, with, Error};
///
/// let journal = Journal::new();
/// let scope = async {
///     scope!(async {
///         let _db = with!(journal.probe("db"))?;
///         Ok::<_, Error>(())
///     })
///     .await
/// };
/// drop(scope); // never polled: nothing entered, nothing exited
/// journal.assert_all_exited();
/// ```
#[cfg(feature = "async")]
#[diagnostic::do_not_recommend]
impl crate::SendAsyncManage for Probe {
    type Target = Probe;
    type Error = ProbeError;
    async fn enter(&mut self) -> Result<&mut Probe, ProbeError> {
        YieldOnce(false).await;
        self.do_enter()?;
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), ProbeError> {
        self.journal.push(Event::Exit(self.name.clone(), Seen::of(outcome)));
        let waits = if outcome.is_cancelled() { self.pending_when_cancelled } else { 1 };
        for _ in 0..waits {
            YieldOnce(false).await;
        }
        self.act(Stage::Exit, self.exit)
    }

    fn exit_cancelled(self) {
        if !self.own_exit_cancelled {
            // The default policy, spelled out: a trait's default body cannot
            // be called from an override.
            let exit = crate::SendAsyncManage::exit(self, &Outcome::Cancelled);
            crate::async_manage::poll_exit_once(
                exit,
                core::any::type_name::<Self>(),
                crate::async_manage::Hint::Manager,
            );
            return;
        }
        self.journal.push(Event::Exit(self.name.clone(), Seen::Cancelled));
        if let Err(error) = self.act(Stage::Exit, self.exit) {
            crate::report(crate::ReportKind::Cancelled, &error);
        }
    }
}
