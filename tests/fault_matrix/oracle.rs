//! The oracle: what DESIGN.md (sections 3 to 5 and 11, with the departures
//! in ARCHITECTURE.md) says a plan's run does, computed without the
//! library.
//!
//! An interpreter walks the plan as the constructs would, writing the
//! journal a run writes. The cleanups of each construct keep a [`Ledger`]:
//! the list of what each cleanup did, in the order they ran (a failure, or
//! a suppression), after the outcome the construct was given. Everything
//! the contract derives from failures is a function of that whole list:
//! what the next cleanup sees, what the construct returns, what goes to
//! the error hook and what a construct dropped half-way still carries. The
//! library merges two results at a time instead; the two shapes meet only
//! through the contract.

use std::collections::BTreeSet;

use managed::testing::{Event, Seen};

use crate::plan::*;

/// A failure: its labels, the primary one first and then those attached
/// to it in exit order (depth first, as `Error`'s `Debug` lists them), and
/// whether it is a panic.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Failure {
    labels: Vec<String>,
    panic: bool,
}

impl Failure {
    fn seen(&self) -> Seen {
        if self.panic {
            // No label: a panic whose payload is not available, as a stack
            // dropped while unwinding shows its exits.
            Seen::Panic(self.labels.first().cloned())
        } else {
            Seen::Err(self.labels[0].clone())
        }
    }

    /// Errors as one: the first is primary, the others are attached to it.
    fn joined(errors: &[&Failure]) -> Option<Failure> {
        (!errors.is_empty())
            .then(|| Failure { labels: errors.iter().flat_map(|f| f.labels.iter().cloned()).collect(), panic: false })
    }
}

/// The outcome a construct's cleanups start from.
#[derive(Clone, Debug)]
enum Given {
    Ok,
    Failed(Failure),
    Cancelled,
}

impl Given {
    fn seen(&self) -> Seen {
        match self {
            Given::Ok => Seen::Ok,
            Given::Failed(f) => f.seen(),
            Given::Cancelled => Seen::Cancelled,
        }
    }

    /// The outcome a nested construct is given: only what it sees matters,
    /// since it does not own it.
    fn from_seen(seen: &Seen) -> Given {
        match seen {
            Seen::Ok => Given::Ok,
            Seen::Err(label) => Given::Failed(Failure { labels: vec![label.clone()], panic: false }),
            Seen::Panic(label) => Given::Failed(Failure { labels: label.iter().cloned().collect(), panic: true }),
            Seen::Cancelled => Given::Cancelled,
        }
    }
}

/// What one cleanup did, as its construct's ledger keeps it.
#[derive(Debug)]
enum Ev {
    Failed(Failure),
    /// An exit returned `Ok(true)` while the current outcome was an error.
    Suppressed,
}

/// The cleanups of one construct, as a list, and the rules of DESIGN
/// section 3 (and section 5 for stacks) read off it.
#[derive(Debug)]
struct Ledger {
    given: Given,
    /// Whether the given failure is this construct's to return or report
    /// (a stack's `run` owns its body's result; a stack or struct exiting
    /// under a scope does not own the scope's; a scope's ledger starts
    /// with its body's failure as its own first event).
    owns_given: bool,
    /// Whether later errors are attached to the first (`managed::Error`),
    /// or go to the hook (a scope of another error type).
    attaches: bool,
    events: Vec<Ev>,
}

impl Ledger {
    fn new(given: Given, owns_given: bool) -> Self {
        Ledger { given, owns_given, attaches: true, events: Vec::new() }
    }

    fn given_failure(&self) -> Option<&Failure> {
        match &self.given {
            Given::Failed(f) => Some(f),
            _ => None,
        }
    }

    fn given_panic(&self) -> Option<&Failure> {
        self.given_failure().filter(|f| f.panic)
    }

    /// An exit suppressed the given error in the first `upto` events
    /// (suppression only ever happens while the outcome is an error, and
    /// the given one comes first).
    fn given_suppressed_in(&self, upto: usize) -> bool {
        self.given_failure().is_some_and(|f| !f.panic)
            && self.events[..upto].iter().any(|e| matches!(e, Ev::Suppressed))
    }

    fn given_suppressed(&self) -> bool {
        self.given_suppressed_in(self.events.len())
    }

    fn given_active(&self) -> bool {
        !matches!(self.given, Given::Ok) && !self.given_suppressed()
    }

    fn failure(&self, at: usize) -> Option<&Failure> {
        match &self.events[at] {
            Ev::Failed(f) => Some(f),
            Ev::Suppressed => None,
        }
    }

    /// Where the first panic of a cleanup is, unless the given outcome is
    /// a panic (the cleanups' panics then only go to the hook: the first
    /// one stays).
    fn own_panic_at(&self) -> Option<usize> {
        if self.given_panic().is_some() {
            return None;
        }
        (0..self.events.len()).find(|&at| self.failure(at).is_some_and(|f| f.panic))
    }

    fn own_panic(&self) -> Option<&Failure> {
        self.own_panic_at().and_then(|at| self.failure(at))
    }

    /// The cleanups' errors in the first `upto` events, since the last
    /// suppression.
    fn live_errors_in(&self, upto: usize) -> Vec<&Failure> {
        let start = self.events[..upto].iter().rposition(|e| matches!(e, Ev::Suppressed)).map_or(0, |i| i + 1);
        (start..upto).filter_map(|at| self.failure(at)).filter(|f| !f.panic).collect()
    }

    /// What the next cleanup sees: the primary failure so far (a panic
    /// before anything; then the given failure; then the first error
    /// since the last suppression).
    fn seen(&self) -> Seen {
        if let Some(p) = self.given_panic().or_else(|| self.own_panic()) {
            return p.seen();
        }
        if self.given_active() {
            return self.given.seen();
        }
        self.live_errors_in(self.events.len()).first().map_or(Seen::Ok, |f| f.seen())
    }

    /// The failures the construct holds as errors after the first `upto`
    /// events: the given one if it is its own and was not suppressed, then
    /// the cleanups' errors since the last suppression (only the first,
    /// when its error type cannot hold the others).
    fn held_in(&self, upto: usize) -> Vec<&Failure> {
        let mut errors = Vec::new();
        if self.owns_given && !self.given_suppressed_in(upto) {
            errors.extend(self.given_failure().filter(|f| !f.panic));
        }
        errors.extend(self.live_errors_in(upto));
        if !self.attaches {
            errors.truncate(1);
        }
        errors
    }

    fn held_errors(&self) -> Vec<&Failure> {
        self.held_in(self.events.len())
    }

    /// What the construct returns once every cleanup ran: its panic (a
    /// cleanup's, or the given one it owns), or its errors as one.
    fn result(&self) -> Result<(), Failure> {
        if let Some(p) = self.own_panic() {
            return Err(p.clone());
        }
        if let Some(p) = self.given_panic().filter(|_| self.owns_given) {
            return Err(p.clone());
        }
        Failure::joined(&self.held_errors()).map_or(Ok(()), Err)
    }

    /// What the construct still carries when it is dropped half-way.
    fn carried(&self) -> Vec<String> {
        let mut out = match (self.own_panic(), self.given_panic().filter(|_| self.owns_given)) {
            (Some(p), _) => return p.labels.clone(),
            (None, Some(p)) => p.labels.clone(),
            (None, None) => Vec::new(),
        };
        out.extend(self.held_errors().into_iter().flat_map(|f| f.labels.iter().cloned()));
        out
    }

    /// What the construct sends to the error hook (DESIGN section 3):
    /// - the errors it holds when a cleanup first panics are replaced by
    ///   that panic (`ReplacedByPanic`); a given error it does not own is
    ///   its owner's to report, seeing the panic;
    /// - once a panic is carried, a later failure cannot be returned
    ///   (`FailedWhileUnwinding`), except an error after a given panic: it
    ///   is returned with the construct's result when the panic is not the
    ///   construct's own, and reported once the construct finished when it
    ///   is (until then it is carried);
    /// - an error after the first, when the error type cannot hold it
    ///   (`SuppressedNotAttached`), as it happens.
    fn hooked(&self, finished: bool) -> Vec<(&'static str, &Failure)> {
        let mut out = Vec::new();
        let errors_before = |upto: usize| (0..upto).filter_map(|at| self.failure(at)).filter(|f| !f.panic);
        let panic_at = match (self.given_panic(), self.own_panic_at()) {
            (Some(_), _) => {
                for f in (0..self.events.len()).filter_map(|at| self.failure(at)) {
                    if f.panic || (self.owns_given && finished) {
                        out.push(("FailedWhileUnwinding", f));
                    }
                }
                return out;
            }
            (None, Some(at)) => {
                out.extend(self.held_in(at).into_iter().map(|f| ("ReplacedByPanic", f)));
                out.extend(
                    (at + 1..self.events.len()).filter_map(|at| self.failure(at)).map(|f| ("FailedWhileUnwinding", f)),
                );
                at
            }
            (None, None) => self.events.len(),
        };
        if !self.attaches {
            out.extend(errors_before(panic_at).skip(1).map(|f| ("SuppressedNotAttached", f)));
        }
        out
    }
}

/// A stack's type, for `covered`.
fn stack_kind(st: &StackPlan) -> &'static str {
    match (st.flavor, st.send) {
        (Flavor::Sync, _) => "Sync",
        (Flavor::Async, false) => "Async",
        (Flavor::Async, true) => "SendAsync",
    }
}

/// An outcome's kind, for `covered`.
fn seen_kind(seen: &Seen) -> &'static str {
    match seen {
        Seen::Ok => "Ok",
        Seen::Err(_) => "an error",
        Seen::Panic(_) => "a panic",
        Seen::Cancelled => "Cancelled",
    }
}

/// Signals that the run was dropped at the current await point; each
/// construct on the way out has done its cancellation by then.
struct Dropped;

type Flow<T> = Result<T, Dropped>;

/// A cleanup registered by a scope, in order.
enum Cleanup<'p> {
    Probe(&'p ProbePlan, Mode),
    Defer(usize, Form, bool),
    Stack(Stacked<'p>),
    Struct(&'p StructPlan),
}

/// An entered stack and what was registered on it.
struct Stacked<'p> {
    flavor: Flavor,
    regs: Vec<Reg<'p>>,
}

/// One registered entry of a stack.
enum Reg<'p> {
    Probe(&'p ProbePlan, Mode),
    Push(usize, PushAct, bool),
    Callback(usize, bool, bool),
    Stack(Stacked<'p>),
}

/// What a stack's entry did.
enum Ran {
    Done,
    Suppressed,
    Failed(Failure),
}

/// What the oracle predicts for a plan.
pub struct Expected {
    pub run: Run,
    /// Every failure that happened (each once), sorted: what the run must
    /// make visible exactly once.
    pub happened: Vec<String>,
    /// The await points the run passed (all of them, when not cancelled).
    pub awaits: usize,
    /// What the run went through, in words (for the generator's coverage
    /// test): the paths it took, and where it was dropped.
    pub covered: BTreeSet<String>,
}

/// The oracle for `top`, dropped at its `cancel_at`-th pending poll.
pub fn expect(top: &Top, cancel_at: Option<usize>) -> Expected {
    let mut sim = Sim {
        journal: Vec::new(),
        reports: Vec::new(),
        happened: Vec::new(),
        awaits: 0,
        cancel_at,
        within: Vec::new(),
        covered: BTreeSet::new(),
    };
    let ended = match top {
        Top::Program(p) => sim.program(p).map(|r| r.map(|()| 7)),
        Top::Stack(st) => {
            sim.cover(format!("{} stack's run at the top", stack_kind(st)));
            sim.run(st).map(|r| r.map(|kept| if kept { 7 } else { 0 }))
        }
        Top::Struct(s) => sim
            .scope(ScopeError::Managed, |sim, cleanups| {
                if let Some(f) = sim.enter_struct(s)? {
                    return Ok(Some(f));
                }
                cleanups.push(Cleanup::Struct(s));
                Ok(sim.program(&s.body)?.err())
            })
            .map(|r| r.map(|()| 7)),
    };
    let cancelled = ended.is_err();
    let end = match ended {
        Err(Dropped) => End::Panic("cancelled".into()),
        Ok(Ok(v)) => End::Ok(v),
        Ok(Err(f)) if f.panic => End::Panic(f.labels[0].clone()),
        Ok(Err(f)) => End::Err { primary: f.labels[0].clone(), suppressed: f.labels[1..].to_vec() },
    };
    for (kind, _) in &sim.reports {
        sim.covered.insert(format!("report {kind}"));
    }
    sim.reports.sort();
    sim.happened.sort();
    let polls = (top.flavor() == Flavor::Async && !cancelled).then_some(sim.awaits);
    Expected {
        run: Run { journal: sim.journal, end, reports: sim.reports, polls, cancelled },
        happened: sim.happened,
        awaits: sim.awaits,
        covered: sim.covered,
    }
}

struct Sim {
    journal: Vec<Event>,
    reports: Vec<(String, String)>,
    happened: Vec<String>,
    awaits: usize,
    cancel_at: Option<usize>,
    /// The constructs' phases the interpreter is in, innermost last (only
    /// for `covered`; a dropped run leaves it as it was).
    within: Vec<&'static str>,
    covered: BTreeSet<String>,
}

impl Sim {
    /// An await that is pending once: where the run may be dropped.
    fn await_point(&mut self, at: &str) -> Flow<()> {
        self.awaits += 1;
        if self.cancel_at != Some(self.awaits) {
            return Ok(());
        }
        let within = self.within.last().copied().unwrap_or("a body");
        self.cover(format!("dropped at {at} in {within}"));
        Err(Dropped)
    }

    fn cover(&mut self, what: impl Into<String>) {
        self.covered.insert(what.into());
    }

    fn note(&mut self, text: impl Into<String>) {
        self.journal.push(Event::Note(text.into()));
    }

    /// A scripted failure happens.
    fn happen(&mut self, (label, panic): (String, bool)) -> Failure {
        self.happened.push(label.clone());
        Failure { labels: vec![label], panic }
    }

    fn hook(&mut self, kind: &str, labels: &[String]) {
        self.reports.extend(labels.iter().map(|l| (kind.to_string(), l.clone())));
    }

    /// A cancelled cleanup that was interrupted or could not finish.
    fn hook_marker(&mut self, marker: &str) {
        self.reports.push(("Cancelled".into(), marker.into()));
    }

    fn settle(&mut self, ledger: &Ledger, finished: bool) {
        for (kind, f) in ledger.hooked(finished) {
            self.hook(kind, &f.labels);
        }
    }

    // ------------------------------------------------------------ probes

    fn enter_probe(&mut self, p: &ProbePlan, mode: Mode) -> Flow<Option<Failure>> {
        if mode.awaits() {
            self.await_point("an enter")?;
        }
        self.journal.push(enter_event(p));
        let failure = probe_failure(p, "enter").map(|f| self.happen(f));
        if let Some(f) = &failure {
            self.cover(format!("a {mode:?} enter {}", if f.panic { "panics" } else { "fails" }));
        }
        Ok(failure)
    }

    fn exit_probe(&mut self, p: &ProbePlan, mode: Mode, seen: &Seen) -> Flow<Option<Failure>> {
        self.journal.push(Event::Exit(probe_name(p.id), seen.clone()));
        if mode.awaits() {
            self.await_point("an exit")?;
        }
        let failure = probe_failure(p, "exit").map(|f| self.happen(f));
        if let Some(f) = &failure {
            self.cover(format!(
                "a {mode:?} exit {} seeing {}",
                if f.panic { "panics" } else { "fails" },
                seen_kind(seen)
            ));
        }
        Ok(failure)
    }

    /// An entered probe whose construct is dropped: a sync manager's exit
    /// runs with `seen` (`Cancelled`, or a panic when an async stack is
    /// dropped while unwinding); an async one gets `exit_cancelled` (the
    /// default policy polls the exit once: a probe that waits when
    /// cancelled does not finish, and its act never happens; the override
    /// acts in place). Failures go to the hook as `kind`.
    fn cancel_probe(&mut self, p: &ProbePlan, mode: Mode, seen: &Seen, kind: &'static str) {
        let seen = if mode.awaits() { Seen::Cancelled } else { seen.clone() };
        self.journal.push(Event::Exit(probe_name(p.id), seen));
        self.cover(match (mode, p.override_cancel, p.pending_when_cancelled) {
            (Mode::Sync | Mode::SyncFn, ..) => "a sync manager's cancelled exit",
            (Mode::AsyncFn, _, 0) => "a #[managed] async fn's cancelled exit finishes in place",
            (Mode::AsyncFn, _, _) => "a #[managed] async fn's cancelled exit cannot finish an exit that waits",
            (Mode::Async, true, 0) => "exit_cancelled overridden",
            (Mode::Async, true, _) => "exit_cancelled overridden for an exit that waits",
            (Mode::Async, false, 0) => "the default exit_cancelled finishes in place",
            (Mode::Async, false, _) => "the default exit_cancelled cannot finish an exit that waits",
        });
        // A `#[managed] async fn` polls the code after its `yield_!` once,
        // whatever the probe's own `exit_cancelled` would do.
        let overridden = mode == Mode::Async && p.override_cancel;
        if mode.awaits() && !overridden && p.pending_when_cancelled > 0 {
            self.hook_marker("exit unfinished");
        } else if let Some(f) = probe_failure(p, "exit") {
            self.cancelled_failure(f, kind);
        }
    }

    /// A cancelled exit's failure happens and goes to the hook as `kind`:
    /// it cannot be returned, nor resumed (a cancelling drop never unwinds).
    fn cancelled_failure(&mut self, failure: (String, bool), kind: &'static str) {
        let f = self.happen(failure);
        self.cover(format!("a cancelled exit's {} reported as {kind}", if f.panic { "panic" } else { "error" }));
        self.hook(kind, &f.labels);
    }

    // ------------------------------------------------------------ scopes

    /// A scope: its body registers cleanups and ends (with a failure or
    /// not); the cleanups run newest first. Dropped in the body, every
    /// entered manager is cancelled, newest first, and no defer runs;
    /// dropped in a cleanup, the interruption and what the scope carried
    /// are reported, then the older managers are cancelled.
    fn scope<'p>(
        &mut self,
        error: ScopeError,
        body: impl FnOnce(&mut Self, &mut Vec<Cleanup<'p>>) -> Flow<Option<Failure>>,
    ) -> Flow<Result<(), Failure>> {
        let mut cleanups = Vec::new();
        let ended = body(self, &mut cleanups);
        let mut ledger = Ledger::new(Given::Ok, true);
        ledger.attaches = error == ScopeError::Managed;
        match ended {
            Err(Dropped) => {
                self.cancel_cleanups(cleanups);
                return Err(Dropped);
            }
            Ok(failure) => ledger.events.extend(failure.map(Ev::Failed)),
        }
        self.within.push("a scope's cleanups");
        while let Some(cleanup) = cleanups.pop() {
            let marker = if matches!(cleanup, Cleanup::Defer(..)) { "defer interrupted" } else { "exit interrupted" };
            let seen = ledger.seen();
            let Ok(failure) = self.cleanup(cleanup, &seen) else {
                self.hook_marker(marker);
                self.hook("Cancelled", &ledger.carried());
                self.settle(&ledger, false);
                self.cancel_cleanups(cleanups);
                return Err(Dropped);
            };
            ledger.events.extend(failure.map(Ev::Failed));
        }
        self.within.pop();
        self.settle(&ledger, true);
        Ok(ledger.result())
    }

    fn cleanup(&mut self, cleanup: Cleanup<'_>, seen: &Seen) -> Flow<Option<Failure>> {
        match cleanup {
            Cleanup::Probe(p, mode) => self.exit_probe(p, mode, seen),
            Cleanup::Defer(id, form, panics) => {
                if !form.runs_for(seen) {
                    self.cover(format!("a defer {form:?} skipped by its filter"));
                    return Ok(None);
                }
                self.cover(format!("a defer {form:?} ran{}", if panics { " and panicked" } else { "" }));
                self.note(if form == Form::Closure { format!("d{id} saw {seen:?}") } else { format!("d{id}") });
                if form.is_async() {
                    self.await_point("an async defer")?;
                }
                Ok(panics.then(|| self.happen((defer_panic(id), true))))
            }
            Cleanup::Stack(stack) => Ok(self.close(stack, Given::from_seen(seen), false)?.result().err()),
            Cleanup::Struct(s) => self.exit_struct(s, Given::from_seen(seen)),
        }
    }

    fn cancel_cleanups(&mut self, cleanups: Vec<Cleanup<'_>>) {
        for cleanup in cleanups.into_iter().rev() {
            match cleanup {
                Cleanup::Probe(p, mode) => self.cancel_probe(p, mode, &Seen::Cancelled, "Cancelled"),
                // On cancellation only managers' exits run (DESIGN section 11).
                Cleanup::Defer(..) => {}
                Cleanup::Stack(stack) => self.cancel_stack(stack, &Seen::Cancelled, "Cancelled"),
                Cleanup::Struct(s) => self.cancel_struct(s),
            }
        }
    }

    fn program(&mut self, prog: &Program) -> Flow<Result<(), Failure>> {
        self.scope(prog.error, |sim, cleanups| sim.steps(prog, cleanups))
    }

    /// A program's body: its statements until one leaves.
    fn steps<'p>(&mut self, prog: &'p Program, cleanups: &mut Vec<Cleanup<'p>>) -> Flow<Option<Failure>> {
        self.cover(match (prog.flavor, prog.error, prog.split_frames) {
            (Flavor::Sync, ScopeError::Managed, _) => "a sync scope",
            (Flavor::Sync, ScopeError::Plain, _) => "a sync scope of another error type",
            (Flavor::Async, ScopeError::Plain, _) => "an async scope of another error type",
            (Flavor::Async, ScopeError::Managed, false) => "an async scope, one frame",
            (Flavor::Async, ScopeError::Managed, true) => "an async scope, a frame per statement",
        });
        for (at, step) in prog.steps.iter().enumerate() {
            let left = self.step(prog.flavor, step, cleanups)?;
            if left.is_some() {
                if prog.steps[at + 1..].iter().any(|s| matches!(s, Step::Defer { .. })) {
                    self.cover("a defer after the point where the body left");
                }
                return Ok(left);
            }
        }
        Ok(None)
    }

    /// One statement: `Some` when the body leaves there.
    fn step<'p>(&mut self, flavor: Flavor, step: &'p Step, cleanups: &mut Vec<Cleanup<'p>>) -> Flow<Option<Failure>> {
        self.cover(match step {
            Step::With { mode, .. } => format!("with!(..)? of a {mode:?} manager in a {flavor:?} scope"),
            Step::Unchecked { mode, then, .. } => {
                format!("with!(..) of a {mode:?} manager, then {then:?}, in a {flavor:?} scope")
            }
            Step::Defer { form, .. } => format!("defer {form:?}"),
            Step::Point { point: Point::Yield(_), .. } => "point Yield".into(),
            Step::Point { point, .. } => format!("point {point:?}"),
            Step::Guard { exits: true, .. } => "a Guard exited by hand".into(),
            Step::Guard { exits: false, .. } => "a Guard dropped unexited".into(),
            Step::Block { on_panic, end: Point::Pass, .. } => {
                format!("a drop guard (on panic: {on_panic}), block ends Ok")
            }
            Step::Block { on_panic, end: Point::Panic, .. } => {
                format!("a drop guard (on panic: {on_panic}), block panics")
            }
            Step::Block { on_panic, .. } => format!("a drop guard (on panic: {on_panic}), block leaves with `?`"),
            Step::Scope(sub) => format!("a {:?} scope in a {flavor:?} scope", sub.flavor),
            Step::Stack(st) => format!("{} stack, {:?}, in a {flavor:?} scope", stack_kind(st), st.how),
        });
        match step {
            Step::With { probe, mode } => match self.enter_probe(probe, *mode)? {
                Some(f) => return Ok(Some(f)),
                None => cleanups.push(Cleanup::Probe(probe, *mode)),
            },
            Step::Unchecked { probe, mode, then } => match self.enter_probe(probe, *mode)? {
                None => cleanups.push(Cleanup::Probe(probe, *mode)),
                Some(f) if f.panic || *then == Inspect::Propagate => return Ok(Some(f)),
                Some(f) => {
                    self.cover(format!("a failed enter without `?`, {then:?}, the body goes on"));
                    // The body took the error: it is the body's, not a lost failure.
                    self.happened.retain(|l| *l != f.labels[0]);
                    if *then == Inspect::Note {
                        self.note(format!("saw {}", f.labels[0]));
                    }
                }
            },
            Step::Defer { id, form, panics } => cleanups.push(Cleanup::Defer(*id, *form, *panics)),
            Step::Point { id, point } => {
                self.note(format!("b{id}"));
                match point {
                    Point::Pass => {}
                    Point::Question | Point::Return | Point::HiddenReturn => {
                        return Ok(Some(self.happen((body_error(*id), false))))
                    }
                    Point::Panic => return Ok(Some(self.happen((body_panic(*id), true)))),
                    Point::Yield(n) => {
                        for _ in 0..*n {
                            self.await_point("a yield")?;
                        }
                    }
                }
            }
            Step::Guard { probe, exits } => {
                if let Some(f) = self.enter_probe(probe, Mode::Sync)? {
                    return Ok(Some(f));
                }
                if *exits {
                    if let Some(f) = self.exit_probe(probe, Mode::Sync, &Seen::Ok)? {
                        return Ok(Some(f));
                    }
                } else {
                    // Dropped unexited: nobody said the block succeeded.
                    self.journal.push(Event::Exit(probe_name(probe.id), Seen::Cancelled));
                    if let Some(f) = probe_failure(probe, "exit") {
                        let f = self.happen(f);
                        self.hook("GuardDropped", &f.labels);
                    }
                }
            }
            Step::Block { guard, on_panic, panics, point, end } => {
                self.note(format!("b{point}"));
                let left = match end {
                    Point::Question => Some(self.happen((body_error(*point), false))),
                    Point::Panic => Some(self.happen((body_panic(*point), true))),
                    _ => None,
                };
                // The guard runs at the end of the block, however it ends;
                // the panic form only while unwinding, where its own panic
                // is caught and reported.
                let unwinding = left.as_ref().is_some_and(|f| f.panic);
                if !on_panic || unwinding {
                    self.note(format!("g{guard}"));
                    if *panics {
                        let f = self.happen((guard_panic(*guard), true));
                        self.hook("FailedWhileUnwinding", &f.labels);
                    }
                }
                if left.is_some() {
                    return Ok(left);
                }
            }
            Step::Scope(sub) => {
                if let Err(f) = self.program(sub)? {
                    return Ok(Some(f));
                }
            }
            Step::Stack(st) => {
                if let Err(f) = self.stack(st)? {
                    return Ok(Some(f));
                }
            }
        }
        Ok(None)
    }

    // ------------------------------------------------------------ stacks

    fn stack(&mut self, st: &StackPlan) -> Flow<Result<(), Failure>> {
        match st.how {
            StackUse::Managed => self.scope(ScopeError::Managed, |sim, cleanups| {
                cleanups.push(Cleanup::Stack(Stacked { flavor: st.flavor, regs: Vec::new() }));
                let Some(Cleanup::Stack(stack)) = cleanups.last_mut() else { unreachable!() };
                if let Some(f) = sim.fill(&st.entries, st.flavor, &mut stack.regs)? {
                    return Ok(Some(f));
                }
                Ok(sim.program(&st.body)?.err())
            }),
            StackUse::Dropped => self.dropped(st),
            StackUse::Run => Ok(match self.run(st)? {
                Ok(kept) => {
                    if !kept {
                        self.note("suppressed");
                    }
                    Ok(())
                }
                Err(f) => Err(f),
            }),
        }
    }

    /// A stack dropped unclosed after its program: its exits see
    /// `Cancelled` (nobody said the block succeeded), or a panic without
    /// payload while the body's panic unwinds; the body's result stays
    /// (see `drop_stack`).
    fn dropped(&mut self, st: &StackPlan) -> Flow<Result<(), Failure>> {
        let (stack, body) = self.stack_body(st)?;
        let seen = if body.as_ref().is_some_and(|f| f.panic) { Seen::Panic(None) } else { Seen::Cancelled };
        self.cover(format!("a {:?} stack dropped unclosed, its exits seeing {}", st.flavor, seen_kind(&seen)));
        self.drop_stack(stack, &seen);
        Ok(body.map_or(Ok(()), Err))
    }

    /// The drop of an unclosed stack, the cancellation path of every
    /// flavor: each entry, newest first, is cancelled seeing `seen`; every
    /// failure, a panic too, goes to the hook (`StackDropped` for an
    /// `ExitStack`, `Cancelled` for the async stacks), so a drop never
    /// unwinds and the result of the block that dropped the stack is kept.
    fn drop_stack(&mut self, stack: Stacked<'_>, seen: &Seen) {
        let kind = match stack.flavor {
            Flavor::Sync => "StackDropped",
            Flavor::Async => "Cancelled",
        };
        for reg in stack.regs.into_iter().rev() {
            self.cancel_reg(reg, seen, kind);
        }
    }

    /// Registers a stack's entries in order, entering its managers, until
    /// an enter fails.
    fn fill<'p>(&mut self, entries: &'p [Entry], flavor: Flavor, regs: &mut Vec<Reg<'p>>) -> Flow<Option<Failure>> {
        for entry in entries {
            self.cover(match entry {
                Entry::Enter(_, mode) => format!("a {mode:?} manager in a {flavor:?} stack"),
                Entry::Push { act, awaits, .. } => format!("push {act:?} (awaits: {awaits}) on a {flavor:?} stack"),
                Entry::Callback { panics, awaits, .. } => {
                    format!("callback (panics: {panics}, awaits: {awaits}) on a {flavor:?} stack")
                }
                Entry::Stack(_) => format!("a {flavor:?} stack in a stack"),
            });
            match entry {
                Entry::Enter(p, mode) => match self.enter_probe(p, *mode)? {
                    Some(f) => return Ok(Some(f)),
                    None => regs.push(Reg::Probe(p, *mode)),
                },
                Entry::Push { id, act, awaits } => regs.push(Reg::Push(*id, *act, *awaits)),
                Entry::Callback { id, panics, awaits } => regs.push(Reg::Callback(*id, *panics, *awaits)),
                Entry::Stack(inner) => {
                    regs.push(Reg::Stack(Stacked { flavor, regs: Vec::new() }));
                    let Some(Reg::Stack(nested)) = regs.last_mut() else { unreachable!() };
                    if let Some(f) = self.fill(inner, flavor, &mut nested.regs)? {
                        return Ok(Some(f));
                    }
                }
            }
        }
        Ok(None)
    }

    /// The body of a stack that is not entered with `with!`: its entries
    /// registered, then its program; the stack, and how the body ended. A
    /// stack dropped in its body cancels what was registered.
    fn stack_body<'p>(&mut self, st: &'p StackPlan) -> Flow<(Stacked<'p>, Option<Failure>)> {
        let mut regs = Vec::new();
        let body = match self.fill(&st.entries, st.flavor, &mut regs) {
            Ok(None) => self.program(&st.body).map(Result::err),
            ended => ended,
        };
        let stack = Stacked { flavor: st.flavor, regs };
        let Ok(body) = body else {
            self.drop_stack(stack, &Seen::Cancelled);
            return Err(Dropped);
        };
        Ok((stack, body))
    }

    /// A stack's `run`: filled, its program run as the body, then closed
    /// with the body's outcome, which it owns. `Ok(false)`: an exit
    /// suppressed the body's error (`run` returns `None`).
    fn run(&mut self, st: &StackPlan) -> Flow<Result<bool, Failure>> {
        let (stack, body) = self.stack_body(st)?;
        let ledger = self.close(stack, body.map_or(Given::Ok, Given::Failed), true)?;
        if ledger.result().is_ok() && ledger.given_suppressed() {
            self.cover("run returns None: an exit suppressed the body's error");
        }
        Ok(ledger.result().map(|()| !ledger.given_suppressed()))
    }

    /// A stack's close: its entries newest first, each seeing what the
    /// ledger says so far. Dropped while an async entry is awaited, the
    /// interruption and what the close carried are reported, and the
    /// entries not run yet are cancelled.
    fn close(&mut self, stack: Stacked<'_>, given: Given, owns_given: bool) -> Flow<Ledger> {
        self.within.push("a stack's close");
        let mut ledger = Ledger::new(given, owns_given);
        let mut regs = stack.regs;
        while let Some(reg) = regs.pop() {
            let seen = ledger.seen();
            match self.run_reg(reg, &seen) {
                Ok(Ran::Done) => {}
                Ok(Ran::Suppressed) => {
                    // `Ok(true)` suppresses an error, never a panic nor a
                    // cancellation. What it suppresses is gone by the user's
                    // choice, not lost.
                    self.cover(format!("Ok(true) seeing {}", seen_kind(&seen)));
                    if matches!(seen, Seen::Err(_)) {
                        for label in ledger.held_errors().into_iter().flat_map(|f| &f.labels) {
                            if let Some(at) = self.happened.iter().position(|l| l == label) {
                                self.happened.remove(at);
                            }
                        }
                        ledger.events.push(Ev::Suppressed);
                    }
                }
                Ok(Ran::Failed(f)) => ledger.events.push(Ev::Failed(f)),
                Err(Dropped) => {
                    self.hook_marker("exit interrupted");
                    self.hook("Cancelled", &ledger.carried());
                    self.settle(&ledger, false);
                    for reg in regs.into_iter().rev() {
                        self.cancel_reg(reg, &Seen::Cancelled, "Cancelled");
                    }
                    return Err(Dropped);
                }
            }
        }
        self.within.pop();
        self.settle(&ledger, true);
        Ok(ledger)
    }

    fn run_reg(&mut self, reg: Reg<'_>, seen: &Seen) -> Flow<Ran> {
        Ok(match reg {
            Reg::Probe(p, mode) => self.exit_probe(p, mode, seen)?.map_or(Ran::Done, Ran::Failed),
            Reg::Push(id, act, awaits) => {
                self.note(format!("s{id} saw {seen:?}"));
                if awaits {
                    self.await_point("an async exit function")?;
                }
                match (act, push_failure(id, act)) {
                    (PushAct::Suppress, _) => Ran::Suppressed,
                    (_, None) => Ran::Done,
                    (_, Some(f)) => Ran::Failed(self.happen(f)),
                }
            }
            Reg::Callback(id, panics, awaits) => {
                self.note(format!("s{id}"));
                if awaits {
                    self.await_point("an async callback")?;
                }
                if panics {
                    Ran::Failed(self.happen((callback_panic(id), true)))
                } else {
                    Ran::Done
                }
            }
            Reg::Stack(nested) => match self.close(nested, Given::from_seen(seen), false)?.result() {
                Ok(()) => Ran::Done,
                Err(f) => Ran::Failed(f),
            },
        })
    }

    /// A stack as a manager whose construct is dropped (which reports its
    /// failures as `kind`): an `AsyncExitStack` cancels each entry, newest
    /// first (its sync exits see `seen`: `Cancelled`, or a panic while
    /// unwinding); an `ExitStack` (a sync manager) is closed with `seen`,
    /// and what it returns, or the panic it resumes, goes to the hook.
    fn cancel_stack(&mut self, stack: Stacked<'_>, seen: &Seen, kind: &'static str) {
        match stack.flavor {
            Flavor::Async => {
                for reg in stack.regs.into_iter().rev() {
                    self.cancel_reg(reg, seen, kind);
                }
            }
            Flavor::Sync => {
                let Ok(ledger) = self.close(stack, Given::from_seen(seen), false) else {
                    unreachable!("a sync stack has no await point")
                };
                if let Err(f) = ledger.result() {
                    self.hook(kind, &f.labels);
                }
            }
        }
    }

    /// One entry of a dropped stack, or of a stack in a dropped construct:
    /// sync exits run with `seen`, async managers get `exit_cancelled`,
    /// async functions are polled once (ours await once, so they never
    /// finish: their act never happens). Failures go to the hook as `kind`.
    fn cancel_reg(&mut self, reg: Reg<'_>, seen: &Seen, kind: &'static str) {
        match reg {
            Reg::Probe(p, mode) => self.cancel_probe(p, mode, seen, kind),
            Reg::Push(id, act, awaits) => {
                // An async exit function is called with `Cancelled` itself.
                self.note(format!("s{id} saw {:?}", if awaits { &Seen::Cancelled } else { seen }));
                if awaits {
                    self.hook_marker("exit unfinished");
                    return;
                }
                if act == PushAct::Suppress {
                    // A cancellation is not an error to suppress.
                    self.cover(format!("Ok(true) seeing {}", seen_kind(seen)));
                }
                if let Some(f) = push_failure(id, act) {
                    self.cancelled_failure(f, kind);
                }
            }
            Reg::Callback(id, panics, awaits) => {
                self.note(format!("s{id}"));
                if awaits {
                    self.hook_marker("exit unfinished");
                } else if panics {
                    self.cancelled_failure((callback_panic(id), true), kind);
                }
            }
            Reg::Stack(nested) => self.cancel_stack(nested, seen, kind),
        }
    }

    // ------------------------------------------------------------ structs

    /// A struct's enter: its fields in order; when one fails, the entered
    /// ones exit newest first (a rollback, whose ledger starts with the
    /// enter's failure). Dropped half-way, the fields still entered are
    /// cancelled and what the rollback carried is reported.
    fn enter_struct(&mut self, s: &StructPlan) -> Flow<Option<Failure>> {
        self.cover(format!("a {:?} struct{}", s.flavor, if s.mixed { " of mixed fields" } else { "" }));
        self.within.push("a struct's enter");
        let mut entered = Vec::new();
        for (i, field) in s.fields.iter().enumerate() {
            let Ok(failed) = self.enter_probe(field, s.mode(i)) else {
                self.cancel_fields(s, &entered);
                return Err(Dropped);
            };
            let Some(failure) = failed else {
                entered.push(i);
                continue;
            };
            self.within.push("a struct's rollback");
            let mut ledger = Ledger::new(Given::Ok, true);
            ledger.events.push(Ev::Failed(failure));
            while let Some(i) = entered.pop() {
                let seen = ledger.seen();
                let Ok(failure) = self.exit_probe(&s.fields[i], s.mode(i), &seen) else {
                    self.hook("Cancelled", &ledger.carried());
                    self.settle(&ledger, false);
                    self.cancel_fields(s, &entered);
                    return Err(Dropped);
                };
                ledger.events.extend(failure.map(Ev::Failed));
            }
            self.within.truncate(self.within.len() - 2);
            self.settle(&ledger, true);
            return Ok(ledger.result().err());
        }
        self.within.pop();
        Ok(None)
    }

    /// A struct's exit: the hook, then the fields newest first, under the
    /// outcome of the scope (not the struct's own). Dropped half-way, what
    /// it carried is reported and the fields not exited yet are cancelled.
    fn exit_struct(&mut self, s: &StructPlan, given: Given) -> Flow<Option<Failure>> {
        self.within.push("a struct's exit");
        let mut ledger = Ledger::new(given, false);
        let seen = ledger.seen();
        self.note(format!("hook h{} saw {seen:?}", s.hook.0));
        if let Some(f) = hook_failure(s.hook.0, s.hook.1) {
            self.cover(format!("the exit hook {} seeing {}", if f.1 { "panics" } else { "fails" }, seen_kind(&seen)));
            let f = self.happen(f);
            ledger.events.push(Ev::Failed(f));
        }
        for i in (0..s.fields.len()).rev() {
            let seen = ledger.seen();
            let Ok(failure) = self.exit_probe(&s.fields[i], s.mode(i), &seen) else {
                self.hook("Cancelled", &ledger.carried());
                self.settle(&ledger, false);
                self.cancel_fields(s, &(0..i).collect::<Vec<_>>());
                return Err(Dropped);
            };
            ledger.events.extend(failure.map(Ev::Failed));
        }
        self.within.pop();
        self.settle(&ledger, true);
        Ok(ledger.result().err())
    }

    /// An entered struct whose scope is dropped: the hook sees
    /// `Cancelled`, then each field is cancelled, newest first.
    fn cancel_struct(&mut self, s: &StructPlan) {
        self.cover("an entered struct cancelled");
        self.note(format!("hook h{} saw Cancelled", s.hook.0));
        if let Some(f) = hook_failure(s.hook.0, s.hook.1) {
            let f = self.happen(f);
            self.hook("Cancelled", &f.labels);
        }
        self.cancel_fields(s, &(0..s.fields.len()).collect::<Vec<_>>());
    }

    fn cancel_fields(&mut self, s: &StructPlan, entered: &[usize]) {
        for &i in entered.iter().rev() {
            self.cancel_probe(&s.fields[i], s.mode(i), &Seen::Cancelled, "Cancelled");
        }
    }
}
