//! The fault-injection matrix: random plans of probes (each may fail or
//! panic at enter or at exit) under a body that ends every way a body can,
//! run through each construct and checked against an oracle written from
//! DESIGN.md's rules, independently of the implementation.
//!
//! Constructs: flat and nested `scope!`, `ExitStack`, a `#[managed]`
//! struct; async: `scope!(async ..)`, `AsyncExitStack::run` (async or mixed
//! sync/async entries) and an async `#[managed]` struct (async or mixed
//! fields, with an exit hook), each also dropped at a random await (in an
//! enter, the body, an exit or a rollback). Besides the journal, the end and
//! the kinds of report, every run checks that each failure that happened
//! can still be seen (returned, resumed or reported): nothing is lost.
//!
//! `MANAGED_MATRIX_CASES=N` runs N cases per construct (default 2,000).
//! `cross_check_with_cpython` runs an exhaustive set of small plans through
//! `CPython`'s `contextlib.ExitStack` (`tests/contextlib_crosscheck.py`) and
//! compares which exits ran and in which order.

use managed::testing::{Act, Event, Journal, Seen};
use managed::{managed, scope, with, Error, ExitStack, Slot};
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyEnd {
    Ok,
    Question,
    Return,
    HiddenReturn,
    Panic,
}

#[derive(Clone, Debug)]
struct Plan {
    /// (enter act, exit act) per probe, in entering order.
    probes: Vec<(Act, Act)>,
    body: BodyEnd,
}

/// How a run ended, in comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
enum End {
    Ok(u32),
    Err { primary: String, suppressed: Vec<String> },
    Panic(String),
}

/// Everything the oracle predicts and the run observes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Observed {
    journal: Vec<Event>,
    end: End,
    /// The kind of each report, in order.
    reports: Vec<String>,
    /// Every failure (enter, body or exit; error or panic) that can still
    /// be seen: in the returned error (primary or suppressed), as the panic
    /// that resumed, or in a report. Nothing is lost when this is exactly
    /// the set of failures that happened, however the constructs group
    /// them into errors and reports.
    visible: BTreeSet<String>,
}

fn name(i: usize) -> String {
    format!("p{i}")
}

// ---------------------------------------------------------------- oracle

/// The oracle for a run that is not cancelled (see [`oracle_async`]).
fn oracle(plan: &Plan) -> Observed {
    // The sync rules are the async ones without awaits to cancel at.
    oracle_async(plan, AsyncPlan { yields: 0, cancel_at: None }, Shape::FLAT).0
}

/// The failures of a plan's text (an error's `Display` or `Debug`, a panic
/// message), by their labels: `probe pN failed at STAGE` (a `ProbeError`
/// shows as `ProbeError { probe: "pN", stage: Stage }` in `Debug`),
/// `probe pN panicked at STAGE`, `body error`, `body panicked`.
fn failures_in(text: &str, out: &mut BTreeSet<String>) {
    for i in 0..8 {
        for (stage, debug) in [("enter", "Enter"), ("exit", "Exit")] {
            let failed = format!("probe p{i} failed at {stage}");
            let failed_debug = format!("ProbeError {{ probe: \"p{i}\", stage: {debug} }}");
            if text.contains(&failed) || text.contains(&failed_debug) {
                out.insert(failed);
            }
            let panicked = format!("probe p{i} panicked at {stage}");
            if text.contains(&panicked) {
                out.insert(panicked);
            }
        }
    }
    for body in ["body error", "body panicked"] {
        if text.contains(body) {
            out.insert(body.to_string());
        }
    }
}

/// What can still be seen of a run's failures (see [`Observed::visible`]).
fn visible(end: &End, reports: &[(String, String)]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match end {
        End::Ok(_) => {}
        End::Err { primary, suppressed } => {
            failures_in(primary, &mut out);
            for s in suppressed {
                failures_in(s, &mut out);
            }
        }
        End::Panic(message) => failures_in(message, &mut out),
    }
    for (_, error) in reports {
        failures_in(error, &mut out);
    }
    out
}

// ---------------------------------------------------------------- runs

fn probe(plan: &Plan, j: &Journal, i: usize) -> managed::testing::Probe {
    let (enter, exit) = plan.probes[i];
    j.probe(name(i)).at_enter(enter).at_exit(exit)
}

macro_rules! hidden_return {
    () => {
        return Err(Error::msg("body error"))
    };
}

/// The body every construct runs once all its probes entered.
macro_rules! body {
    ($plan:expr, $j:expr) => {{
        $j.note("body");
        match $plan.body {
            BodyEnd::Ok => {}
            BodyEnd::Question => Err(Error::msg("body error"))?,
            BodyEnd::Return => return Err(Error::msg("body error")),
            BodyEnd::HiddenReturn => hidden_return!(),
            BodyEnd::Panic => std::panic::panic_any("body panicked"),
        }
        Ok(7)
    }};
}

/// One flat `scope!` with `N` `with!` statements, for N = 1..=8.
macro_rules! flat_scopes {
    ($($fn_name:ident => [$($i:literal)*];)*) => {
        $(
            fn $fn_name(plan: &Plan, j: &Journal) -> Result<u32, Error> {
                scope! {
                    $( let _p = with!(probe(plan, j, $i))?; )*
                    body!(plan, j)
                }
            }
        )*
        fn run_flat(plan: &Plan, j: &Journal) -> Result<u32, Error> {
            match plan.probes.len() {
                $( n if n == [$($i),*].len() => $fn_name(plan, j), )*
                n => unreachable!("plans have 1..=8 probes, not {n}"),
            }
        }
    };
}

flat_scopes! {
    flat1 => [0];
    flat2 => [0 1];
    flat3 => [0 1 2];
    flat4 => [0 1 2 3];
    flat5 => [0 1 2 3 4];
    flat6 => [0 1 2 3 4 5];
    flat7 => [0 1 2 3 4 5 6];
    flat8 => [0 1 2 3 4 5 6 7];
}

/// One `scope!` per probe, each nested in the previous one's body.
fn run_nested(plan: &Plan, j: &Journal, i: usize) -> Result<u32, Error> {
    scope! {
        let _p = with!(probe(plan, j, i))?;
        if i + 1 < plan.probes.len() {
            return run_nested(plan, j, i + 1);
        }
        body!(plan, j)
    }
}

/// The probes entered one by one into an `ExitStack`, the body run inside
/// `ExitStack::run` (Python's `with ExitStack() as stack:`).
fn run_exit_stack(plan: &Plan, j: &Journal) -> Result<u32, Error> {
    let out = ExitStack::new().run(|stack| {
        for i in 0..plan.probes.len() {
            stack.enter(probe(plan, j, i))?;
        }
        body!(plan, j)
    })?;
    // Nothing in these plans suppresses.
    Ok(out.unwrap_or_else(|| unreachable!("no exit suppresses")))
}

/// `#[managed]` structs with `N` manager fields, entered with one `with!`.
macro_rules! struct_scopes {
    ($($ty:ident $fn_name:ident => [$($field:ident $i:literal)*];)*) => {
        $(
            #[managed]
            struct $ty {
                $( #[managed] $field: managed::testing::Probe, )*
            }
            fn $fn_name(plan: &Plan, j: &Journal) -> Result<u32, Error> {
                scope! {
                    let _all = with!($ty { $( $field: Slot::new(probe(plan, j, $i)), )* })?;
                    body!(plan, j)
                }
            }
        )*
        fn run_struct(plan: &Plan, j: &Journal) -> Result<u32, Error> {
            match plan.probes.len() {
                $( n if n == [$($i),*].len() => $fn_name(plan, j), )*
                n => unreachable!("plans have 1..=8 probes, not {n}"),
            }
        }
    };
}

struct_scopes! {
    S1 struct1 => [a 0];
    S2 struct2 => [a 0 b 1];
    S3 struct3 => [a 0 b 1 c 2];
    S4 struct4 => [a 0 b 1 c 2 d 3];
    S5 struct5 => [a 0 b 1 c 2 d 3 e 4];
    S6 struct6 => [a 0 b 1 c 2 d 3 e 4 f 5];
    S7 struct7 => [a 0 b 1 c 2 d 3 e 4 f 5 g 6];
    S8 struct8 => [a 0 b 1 c 2 d 3 e 4 f 5 g 6 h 7];
}

/// Suppressed errors in exit order, flattened: a struct's own exit error
/// carries the failures of its later fields nested inside it.
fn flatten(e: &Error, out: &mut Vec<String>) {
    for s in e.suppressed() {
        out.push(s.to_string());
        flatten(s, out);
    }
}

thread_local! {
    /// Each report's kind and its failure's `Debug`.
    static REPORTS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

fn capture(report: &managed::Report<'_>) {
    REPORTS.with(|r| r.borrow_mut().push((format!("{:?}", report.kind()), format!("{:?}", report.error()))));
}

/// The reports captured since the last call: their kinds, and what they
/// make visible (with the run's end).
fn take_reports(end: &End) -> (Vec<String>, BTreeSet<String>) {
    let reports = REPORTS.with(|r| std::mem::take(&mut *r.borrow_mut()));
    let visible = visible(end, &reports);
    (reports.into_iter().map(|(kind, _)| kind).collect(), visible)
}

/// How a run ended: its value, its error (suppressed ones flattened), or
/// the message of its panic.
fn end_of(run: std::thread::Result<Result<u32, Error>>) -> End {
    match run {
        Ok(Ok(v)) => End::Ok(v),
        Ok(Err(e)) => {
            let mut suppressed = Vec::new();
            flatten(&e, &mut suppressed);
            End::Err { primary: e.to_string(), suppressed }
        }
        Err(payload) => End::Panic(
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        ),
    }
}

fn observe(plan: &Plan, run: impl FnOnce(&Plan, &Journal) -> Result<u32, Error>) -> Observed {
    quiet_panics();
    managed::set_error_hook(capture);
    REPORTS.with(|r| r.borrow_mut().clear());
    let j = Journal::new();
    let end = end_of(catch_unwind(AssertUnwindSafe(|| run(plan, &j))));
    j.assert_all_exited();
    let (reports, visible) = take_reports(&end);
    Observed { journal: j.events(), end, reports, visible }
}

fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p.downcast_ref::<&str>().copied().or_else(|| p.downcast_ref::<String>().map(String::as_str));
            // Only the panics the plans script; a failing assertion still prints.
            let scripted = msg.is_some_and(|m| m == "body panicked" || (m.starts_with("probe p") && m.len() < 32));
            if !scripted {
                default(info);
            }
        }));
    });
}

// ---------------------------------------------------------------- plans

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![6 => Just(Act::Succeed), 2 => Just(Act::Fail), 1 => Just(Act::Panic)]
}

fn plan() -> impl Strategy<Value = Plan> {
    let body = prop_oneof![
        Just(BodyEnd::Ok),
        Just(BodyEnd::Question),
        Just(BodyEnd::Return),
        Just(BodyEnd::HiddenReturn),
        Just(BodyEnd::Panic)
    ];
    (prop::collection::vec((act(), act()), 1..=8), body).prop_map(|(probes, body)| Plan { probes, body })
}

/// The distinct kinds of report, sorted: for constructs that group several
/// failures into one report (each report still carries all of them).
fn report_kinds(mut reports: Vec<String>) -> Vec<String> {
    reports.sort();
    reports.dedup();
    reports
}

/// The kinds of report to compare for a construct that carries failures
/// and reports them when it is cancelled (a stack, a struct): as
/// [`report_kinds`], except that a cancelled run may report a failure it
/// was still carrying as `Cancelled` where the oracle (a flat scope)
/// reported it at once with its own kind. So, when cancelled, the observed
/// kinds must be among the predicted ones, and `Cancelled` must be in both
/// or in neither; `visible` checks that nothing was lost.
fn carried_kinds(observed: Vec<String>, expected: Vec<String>, cancelled: bool) -> (Vec<String>, Vec<String>) {
    let (observed, mut expected) = (report_kinds(observed), report_kinds(expected));
    if cancelled {
        expected.retain(|k| k == "Cancelled" || observed.contains(k));
    }
    (observed, expected)
}

fn config() -> ProptestConfig {
    let cases = std::env::var("MANAGED_MATRIX_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn flat_scope_matches_the_oracle(plan in plan()) {
        prop_assert_eq!(observe(&plan, run_flat), oracle(&plan), "plan: {:?}", plan);
    }

    #[test]
    fn nested_scopes_match_the_oracle(plan in plan()) {
        prop_assert_eq!(observe(&plan, |p, j| run_nested(p, j, 0)), oracle(&plan), "plan: {:?}", plan);
    }

    #[test]
    fn exit_stack_matches_the_oracle(plan in plan()) {
        // A stack reports each error an exit panic replaces on its own (the
        // block's, then each earlier exit failure); a scope reports the
        // block's error once, with those failures attached to it. Either way
        // nothing is lost: compare the kinds of report, not their count.
        let mut observed = observe(&plan, run_exit_stack);
        let mut expected = oracle(&plan);
        observed.reports = report_kinds(observed.reports);
        expected.reports = report_kinds(expected.reports);
        prop_assert_eq!(observed, expected, "plan: {:?}", plan);
    }

    #[test]
    fn managed_struct_matches_the_oracle(plan in plan()) {
        // The struct's exit reports what fails among its fields before the
        // scope reports what the struct's result replaced: the same reports,
        // in another order.
        // It also reports its fields' failures as one error, with the later
        // ones attached, where a scope reports each: compare kinds of report.
        let mut observed = observe(&plan, run_struct);
        let mut expected = oracle(&plan);
        observed.reports = report_kinds(observed.reports);
        expected.reports = report_kinds(expected.reports);
        prop_assert_eq!(observed, expected, "plan: {:?}", plan);
    }
}

/// The oracle itself is checked on hand-worked cases, so that a wrong
/// oracle cannot make a wrong implementation pass.
#[test]
fn oracle_hand_checked() {
    let plan = Plan { probes: vec![(Act::Succeed, Act::Fail), (Act::Succeed, Act::Panic)], body: BodyEnd::Question };
    let o = oracle(&plan);
    assert_eq!(o.end, End::Panic("probe p1 panicked at exit".into()));
    assert_eq!(o.reports, ["ReplacedByPanic", "FailedWhileUnwinding"]);
    assert_eq!(
        o.journal,
        [
            Event::Enter("p0".into()),
            Event::Enter("p1".into()),
            Event::Note("body".into()),
            Event::Exit("p1".into(), Seen::Err("body error".into())),
            Event::Exit("p0".into(), Seen::Panic(Some("probe p1 panicked at exit".into()))),
        ]
    );
    assert_eq!(
        o.visible.into_iter().collect::<Vec<_>>(),
        ["body error", "probe p0 failed at exit", "probe p1 panicked at exit"]
    );
    let plan = Plan { probes: vec![(Act::Succeed, Act::Fail), (Act::Fail, Act::Succeed)], body: BodyEnd::Ok };
    assert_eq!(
        oracle(&plan).end,
        End::Err { primary: "probe p1 failed at enter".into(), suppressed: vec!["probe p0 failed at exit".into()] }
    );
    // Dropped at its third await (two enters, then p1's exit): p1's exit is
    // interrupted, so its panic never happens (reported as interrupted);
    // p0 gets a cancelled exit whose failure is reported.
    let plan = Plan { probes: vec![(Act::Succeed, Act::Fail), (Act::Succeed, Act::Panic)], body: BodyEnd::Ok };
    let (o, cancelled) = oracle_async(&plan, AsyncPlan { yields: 0, cancel_at: Some(3) }, Shape::FLAT);
    assert!(cancelled);
    assert_eq!(
        o.journal,
        [
            Event::Enter("p0".into()),
            Event::Enter("p1".into()),
            Event::Note("body".into()),
            Event::Exit("p1".into(), Seen::Ok),
            Event::Exit("p0".into(), Seen::Cancelled),
        ]
    );
    assert_eq!(o.reports, ["Cancelled", "Cancelled"]);
    assert_eq!(o.visible.into_iter().collect::<Vec<_>>(), ["probe p0 failed at exit"]);
    // A struct with an exit hook, dropped in its body: the hook sees
    // `Cancelled` first; a sync field (p1) has no await at its enter.
    let shape = Shape { sync_probes: 0b10, exit_hook: true };
    let (o, _) = oracle_async(&plan, AsyncPlan { yields: 1, cancel_at: Some(2) }, shape);
    assert_eq!(
        o.journal,
        [
            Event::Enter("p0".into()),
            Event::Enter("p1".into()),
            Event::Note("hook Cancelled".into()),
            Event::Exit("p1".into(), Seen::Cancelled),
            Event::Exit("p0".into(), Seen::Cancelled),
        ]
    );
}

// ---------------------------------------------------------------- async

/// Where an async run stops: it completes, or it is dropped at its `n`-th
/// pending poll (every probe enter, every body yield, every exit awaits once).
#[derive(Clone, Copy, Debug)]
struct AsyncPlan {
    /// Awaits in the body before it ends.
    yields: usize,
    /// `Some(n)`: the scope's future is dropped when its `n`-th poll is pending.
    cancel_at: Option<usize>,
}

/// What the oracle needs to know of a construct besides the plan.
#[derive(Clone, Copy, Debug, Default)]
struct Shape {
    /// Bit `i` set: probe `i` is entered as a sync manager (no await at its
    /// enter or exit; cancelled, its exit runs with `Outcome::Cancelled`).
    sync_probes: u8,
    /// The probes are the fields of one async `#[managed]` struct whose
    /// `exit` hook notes `hook SEEN`: it runs first in the struct's exit,
    /// and first in its `exit_cancelled` (ARCHITECTURE.md section 4 rows).
    exit_hook: bool,
}

impl Shape {
    const FLAT: Shape = Shape { sync_probes: 0, exit_hook: false };

    /// Every other probe sync (the odd ones).
    const MIXED: u8 = 0b1010_1010;

    fn awaits(self, i: usize) -> bool {
        self.sync_probes & (1 << i) == 0
    }
}

/// The note of a struct's exit hook.
fn hook_note(seen: &Seen) -> Event {
    Event::Note(format!("hook {seen:?}"))
}

/// The failure a run carries so far: the primary one, with the later
/// errors suppressed, or a panic.
enum Cur {
    Ok,
    Err(String, Vec<String>),
    Panic(String),
}

/// DESIGN.md section 3 for probe `i`'s exit doing `act`: the first failure
/// is primary, a later error is suppressed (reported while panicking), a
/// panic replaces an error (reported) and is reported while panicking.
fn after_exit(cur: Cur, i: usize, act: Act, reports: &mut Vec<String>) -> Cur {
    match (act, cur) {
        (Act::Succeed, cur) => cur,
        (Act::Fail, Cur::Ok) => Cur::Err(format!("probe p{i} failed at exit"), vec![]),
        (Act::Fail, Cur::Err(primary, mut suppressed)) => {
            suppressed.push(format!("probe p{i} failed at exit"));
            Cur::Err(primary, suppressed)
        }
        (Act::Fail | Act::Panic, cur @ Cur::Panic(_)) => {
            reports.push("FailedWhileUnwinding".into());
            cur
        }
        (Act::Panic, Cur::Err(..)) => {
            reports.push("ReplacedByPanic".into());
            Cur::Panic(format!("probe p{i} panicked at exit"))
        }
        (Act::Panic, Cur::Ok) => Cur::Panic(format!("probe p{i} panicked at exit")),
    }
}

/// The oracle, DESIGN.md section 3 executed by hand: enters in order until
/// one fails; the body runs only if all entered; exits newest first, each
/// seeing the primary failure so far; later exit errors are suppressed (in
/// exit order); a failure during a panic is reported; a panic in an exit
/// replaces an error (reported) or becomes the outcome. Async adds DESIGN
/// section 11's cancellation:
/// the scope is dropped at its `n`-th await; every entered probe that has
/// not exited gets `exit_cancelled`, newest first (our probes' cancelled
/// exit finishes in one poll; its failure or panic is reported); an exit
/// interrupted at its own await is reported, not run again, and so is the
/// failure carried at that point; defers and the rest of the body never
/// run. Every failure that happens stays visible (`Observed::visible`).
fn oracle_async(plan: &Plan, a: AsyncPlan, shape: Shape) -> (Observed, bool) {
    let seen = |c: &Cur| match c {
        Cur::Ok => Seen::Ok,
        Cur::Err(m, _) => Seen::Err(m.clone()),
        Cur::Panic(m) => Seen::Panic(Some(m.clone())),
    };
    let mut pendings = 0;
    let mut pending = || {
        pendings += 1;
        a.cancel_at == Some(pendings)
    };
    let exit_failure = |i: usize| match plan.probes[i].1 {
        Act::Succeed => None,
        Act::Fail => Some(format!("probe p{i} failed at exit")),
        Act::Panic => Some(format!("probe p{i} panicked at exit")),
    };
    let mut journal = Vec::new();
    let mut reports: Vec<String> = Vec::new();
    let mut happened = BTreeSet::new();
    // The entered probes that have not exited get `exit_cancelled`, after
    // the struct's exit hook when the struct is entered and its exit has
    // not started (`hook`).
    let cancelled = |mut journal: Vec<Event>,
                     mut reports: Vec<String>,
                     mut happened: BTreeSet<String>,
                     open: &[usize],
                     hook: bool| {
        if hook {
            journal.push(hook_note(&Seen::Cancelled));
        }
        for &i in open.iter().rev() {
            journal.push(Event::Exit(name(i), Seen::Cancelled));
            if let Some(failure) = exit_failure(i) {
                reports.push("Cancelled".into());
                happened.insert(failure);
            }
        }
        (Observed { journal, end: End::Panic("cancelled".into()), reports, visible: happened }, true)
    };
    let mut cur = Cur::Ok;
    let mut entered = Vec::new();
    for (i, (enter, _)) in plan.probes.iter().enumerate() {
        if shape.awaits(i) && pending() {
            return cancelled(journal, reports, happened, &entered, false);
        }
        match enter {
            Act::Succeed => {
                journal.push(Event::Enter(name(i)));
                entered.push(i);
            }
            Act::Fail => {
                journal.push(Event::Enter(format!("p{i} (enter failed)")));
                cur = Cur::Err(format!("probe p{i} failed at enter"), vec![]);
                break;
            }
            Act::Panic => {
                journal.push(Event::Enter(format!("p{i} (enter failed)")));
                cur = Cur::Panic(format!("probe p{i} panicked at enter"));
                break;
            }
        }
    }
    let all_entered = entered.len() == plan.probes.len();
    if all_entered {
        // The body awaits, then notes itself and ends (`async_body!`).
        for _ in 0..a.yields {
            if pending() {
                return cancelled(journal, reports, happened, &entered, shape.exit_hook);
            }
        }
        journal.push(Event::Note("body".into()));
        cur = match plan.body {
            BodyEnd::Ok => Cur::Ok,
            BodyEnd::Question | BodyEnd::Return | BodyEnd::HiddenReturn => Cur::Err("body error".into(), vec![]),
            BodyEnd::Panic => Cur::Panic("body panicked".into()),
        };
    }
    match &cur {
        Cur::Ok => {}
        Cur::Err(m, _) | Cur::Panic(m) => {
            happened.insert(m.clone());
        }
    }
    if all_entered && shape.exit_hook {
        journal.push(hook_note(&seen(&cur)));
    }
    for (k, &i) in entered.iter().rev().enumerate() {
        journal.push(Event::Exit(name(i), seen(&cur)));
        if shape.awaits(i) && pending() {
            // The exit in progress is dropped and reported, not run again,
            // and so is the failure the run carried (nothing is lost).
            reports.push("Cancelled".into());
            if !matches!(cur, Cur::Ok) {
                reports.push("Cancelled".into());
            }
            return cancelled(journal, reports, happened, &entered[..entered.len() - 1 - k], false);
        }
        happened.extend(exit_failure(i));
        cur = after_exit(cur, i, plan.probes[i].1, &mut reports);
    }
    let end = match cur {
        Cur::Ok => End::Ok(7),
        Cur::Err(primary, suppressed) => End::Err { primary, suppressed },
        Cur::Panic(m) => End::Panic(m),
    };
    (Observed { journal, end, reports, visible: happened }, false)
}

/// Resolves after being pending once: an await point of the body.
struct Yield(bool);
impl std::future::Future for Yield {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

macro_rules! async_body {
    ($plan:expr, $a:expr, $j:expr) => {{
        for _ in 0..$a.yields {
            Yield(false).await;
        }
        body!($plan, $j)
    }};
}

macro_rules! async_scopes {
    ($($fn_name:ident => [$($i:literal)*];)*) => {
        $(
            async fn $fn_name(plan: &Plan, a: AsyncPlan, j: &Journal) -> Result<u32, Error> {
                scope!(async {
                    $( let _p = with!(probe(plan, j, $i))?; )*
                    async_body!(plan, a, j)
                })
                .await
            }
        )*
        fn run_async<'r>(plan: &'r Plan, a: AsyncPlan, j: &'r Journal) -> AsyncFuture<'r> {
            match plan.probes.len() {
                $( n if n == [$($i),*].len() => Box::pin($fn_name(plan, a, j)), )*
                n => unreachable!("plans have 1..=8 probes, not {n}"),
            }
        }
    };
}

async_scopes! {
    async1 => [0];
    async2 => [0 1];
    async3 => [0 1 2];
    async4 => [0 1 2 3];
    async5 => [0 1 2 3 4];
    async6 => [0 1 2 3 4 5];
    async7 => [0 1 2 3 4 5 6];
    async8 => [0 1 2 3 4 5 6 7];
}

/// The future of one async run.
type AsyncFuture<'r> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, Error>> + 'r>>;

/// The probes entered into an `AsyncExitStack` (with `enter_async`, or
/// with the sync `enter` for the probes `sync_probes` marks), the body run
/// inside `AsyncExitStack::run`.
fn stack_run<'r>(plan: &'r Plan, a: AsyncPlan, j: &'r Journal, sync_probes: u8) -> AsyncFuture<'r> {
    let shape = Shape { sync_probes, exit_hook: false };
    Box::pin(async move {
        let out = managed::AsyncExitStack::new()
            .run(async |stack: &managed::AsyncExitStack<'_>| {
                for i in 0..plan.probes.len() {
                    if shape.awaits(i) {
                        stack.enter_async(probe(plan, j, i)).await?;
                    } else {
                        stack.enter(probe(plan, j, i))?;
                    }
                }
                async_body!(plan, a, j)
            })
            .await?;
        Ok(out.unwrap_or_else(|| unreachable!("no exit suppresses")))
    })
}

fn run_async_exit_stack<'r>(plan: &'r Plan, a: AsyncPlan, j: &'r Journal) -> AsyncFuture<'r> {
    stack_run(plan, a, j, 0)
}

fn run_async_exit_stack_mixed<'r>(plan: &'r Plan, a: AsyncPlan, j: &'r Journal) -> AsyncFuture<'r> {
    stack_run(plan, a, j, Shape::MIXED)
}

/// A struct whose exit hook notes the outcome it saw.
trait Noted {
    fn journal(&self) -> &Journal;
}

fn exit_hook<S: Noted>(this: &mut S, outcome: &managed::Outcome<'_>) {
    this.journal().note(format!("hook {:?}", Seen::of(outcome)));
}

/// Async `#[managed]` structs with `N` probe fields (`(async)` marks the
/// async ones, the others are sync managers) and an exit hook, entered with
/// one `with!` in an async scope.
macro_rules! async_struct_scopes {
    ($run:ident; $($ty:ident $fn_name:ident => [$($field:ident $i:literal $(($mark:tt))?)*];)*) => {
        $(
            #[managed(exit = exit_hook)]
            struct $ty {
                $( #[managed $(($mark))?] $field: managed::testing::Probe, )*
                journal: Journal,
            }
            impl Noted for $ty {
                fn journal(&self) -> &Journal {
                    &self.journal
                }
            }
            async fn $fn_name(plan: &Plan, a: AsyncPlan, j: &Journal) -> Result<u32, Error> {
                scope!(async {
                    let _all = with!($ty { $( $field: Slot::new(probe(plan, j, $i)), )* journal: j.clone() })?;
                    async_body!(plan, a, j)
                })
                .await
            }
        )*
        fn $run<'r>(plan: &'r Plan, a: AsyncPlan, j: &'r Journal) -> AsyncFuture<'r> {
            match plan.probes.len() {
                $( n if n == [$($i),*].len() => Box::pin($fn_name(plan, a, j)), )*
                n => unreachable!("plans have 1..=8 probes, not {n}"),
            }
        }
    };
}

async_struct_scopes! { run_async_struct;
    A1 async_struct1 => [a 0 (async)];
    A2 async_struct2 => [a 0 (async) b 1 (async)];
    A3 async_struct3 => [a 0 (async) b 1 (async) c 2 (async)];
    A4 async_struct4 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async)];
    A5 async_struct5 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async)];
    A6 async_struct6 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async) f 5 (async)];
    A7 async_struct7 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async) f 5 (async) g 6 (async)];
    A8 async_struct8 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async) f 5 (async) g 6 (async) h 7 (async)];
}

// The odd fields sync (`Shape::MIXED`).
async_struct_scopes! { run_async_struct_mixed;
    M1 mixed_struct1 => [a 0 (async)];
    M2 mixed_struct2 => [a 0 (async) b 1];
    M3 mixed_struct3 => [a 0 (async) b 1 c 2 (async)];
    M4 mixed_struct4 => [a 0 (async) b 1 c 2 (async) d 3];
    M5 mixed_struct5 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async)];
    M6 mixed_struct6 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async) f 5];
    M7 mixed_struct7 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async) f 5 g 6 (async)];
    M8 mixed_struct8 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async) f 5 g 6 (async) h 7];
}

/// Polls the async scope with a no-op waker, at most `cancel_at` times
/// (then drops it); a panic escaping a poll ends the run.
fn observe_async(plan: &Plan, a: AsyncPlan) -> (Observed, bool) {
    observe_async_with(plan, a, run_async)
}

type AsyncRun = for<'r> fn(&'r Plan, AsyncPlan, &'r Journal) -> AsyncFuture<'r>;

fn observe_async_with(plan: &Plan, a: AsyncPlan, run: AsyncRun) -> (Observed, bool) {
    quiet_panics();
    managed::set_error_hook(capture);
    REPORTS.with(|r| r.borrow_mut().clear());
    let j = Journal::new();
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut end = None;
    {
        let mut fut = run(plan, a, &j);
        let mut polls = 0;
        while end.is_none() && a.cancel_at.is_none_or(|n| polls < n) {
            polls += 1;
            match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
                Ok(std::task::Poll::Ready(r)) => end = Some(Ok(r)),
                Ok(std::task::Poll::Pending) => {}
                Err(payload) => end = Some(Err(payload)),
            }
        }
        // Dropping an unfinished scope cancels it.
    }
    let cancelled = end.is_none();
    let end = end.map_or_else(|| End::Panic("cancelled".into()), end_of);
    j.assert_all_exited();
    let (mut reports, visible) = take_reports(&end);
    reports.sort();
    (Observed { journal: j.events(), end, reports, visible }, cancelled)
}

fn async_plan() -> impl Strategy<Value = AsyncPlan> {
    (0..3usize, prop::option::weighted(0.6, 1..24usize)).prop_map(|(yields, cancel_at)| AsyncPlan { yields, cancel_at })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn async_scope_matches_the_oracle_also_when_cancelled(plan in plan(), a in async_plan()) {
        let (observed, cancelled) = observe_async(&plan, a);
        let (mut expected, expected_cancelled) = oracle_async(&plan, a, Shape::FLAT);
        expected.reports.sort();
        prop_assert_eq!(cancelled, expected_cancelled, "plan: {:?} {:?}", plan, a);
        prop_assert_eq!(observed, expected, "plan: {:?} {:?}", plan, a);
    }

    #[test]
    fn async_exit_stack_matches_the_oracle_also_when_cancelled(plan in plan(), a in async_plan(), mixed in any::<bool>()) {
        // As `ExitStack`: compare the kinds of report (a stack reports each
        // failure it carried when cancelled; a scope, one error with the
        // later ones attached).
        let (run, sync_probes): (AsyncRun, u8) =
            if mixed { (run_async_exit_stack_mixed, Shape::MIXED) } else { (run_async_exit_stack, 0) };
        let (mut observed, cancelled) = observe_async_with(&plan, a, run);
        let (mut expected, expected_cancelled) = oracle_async(&plan, a, Shape { sync_probes, exit_hook: false });
        (observed.reports, expected.reports) = carried_kinds(observed.reports, expected.reports, cancelled);
        prop_assert_eq!(cancelled, expected_cancelled, "plan: {:?} {:?} mixed: {}", plan, a, mixed);
        prop_assert_eq!(observed, expected, "plan: {:?} {:?} mixed: {}", plan, a, mixed);
    }

    #[test]
    fn async_managed_struct_matches_the_oracle_also_when_cancelled(plan in plan(), a in async_plan(), mixed in any::<bool>()) {
        // As the sync struct: compare the kinds of report.
        let (run, sync_probes): (AsyncRun, u8) =
            if mixed { (run_async_struct_mixed, Shape::MIXED) } else { (run_async_struct, 0) };
        let (mut observed, cancelled) = observe_async_with(&plan, a, run);
        let (mut expected, expected_cancelled) = oracle_async(&plan, a, Shape { sync_probes, exit_hook: true });
        (observed.reports, expected.reports) = carried_kinds(observed.reports, expected.reports, cancelled);
        prop_assert_eq!(cancelled, expected_cancelled, "plan: {:?} {:?} mixed: {}", plan, a, mixed);
        prop_assert_eq!(observed, expected, "plan: {:?} {:?} mixed: {}", plan, a, mixed);
    }
}

// ---------------------------------------------------------------- CPython

fn act_name(a: Act) -> &'static str {
    match a {
        Act::Succeed => "ok",
        Act::Fail => "fail",
        Act::Panic => "panic",
    }
}

/// Every plan of 1 to 3 probes (each act at enter and exit) and every body
/// end: 4,095 plans.
fn all_small_plans() -> Vec<Plan> {
    const ACTS: [Act; 3] = [Act::Succeed, Act::Fail, Act::Panic];
    const BODIES: [BodyEnd; 5] =
        [BodyEnd::Ok, BodyEnd::Question, BodyEnd::Return, BodyEnd::HiddenReturn, BodyEnd::Panic];
    let mut plans = Vec::new();
    for n in 1..=3u32 {
        for code in 0..9usize.pow(n) {
            let probes = (0..n)
                .map(|k| {
                    let digit = code / 9usize.pow(k) % 9;
                    (ACTS[digit / 3], ACTS[digit % 3])
                })
                .collect::<Vec<_>>();
            for body in BODIES {
                plans.push(Plan { probes: probes.clone(), body });
            }
        }
    }
    plans
}

/// One JSON line per plan: the plan, and what our scope did: the journal
/// as `enter N` / `body` / `exit N ok|failure`, and whether it ended in a
/// failure (error or panic).
fn plan_line(plan: &Plan, observed: &Observed) -> String {
    let probes: Vec<String> =
        plan.probes.iter().map(|(e, x)| format!("[\"{}\", \"{}\"]", act_name(*e), act_name(*x))).collect();
    let body = match plan.body {
        BodyEnd::Ok => "ok",
        BodyEnd::Panic => "panic",
        _ => "error",
    };
    let journal: Vec<String> = observed
        .journal
        .iter()
        .map(|e| match e {
            Event::Enter(n) => format!("\"enter {}\"", &n[1..2]),
            Event::Note(_) => "\"body\"".to_string(),
            Event::Exit(n, seen) => {
                format!("\"exit {} {}\"", &n[1..], if *seen == Seen::Ok { "ok" } else { "failure" })
            }
        })
        .collect();
    let failed = !matches!(observed.end, End::Ok(_));
    format!(
        "{{\"probes\": [{}], \"body\": \"{body}\", \"journal\": [{}], \"failed\": {failed}}}",
        probes.join(", "),
        journal.join(", ")
    )
}

#[test]
fn cross_check_with_cpython() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contextlib_crosscheck.py");
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI must have python3 for the CPython cross-check");
        // Past the test harness, which hides what a passing test prints.
        let _ = std::io::Write::write_all(&mut std::io::stderr(), b"\nskipped: python3 is not installed\n");
        return;
    }
    let plans = all_small_plans();
    assert_eq!(plans.len(), 5 * (9 + 81 + 729));
    let mut lines = String::new();
    for plan in &plans {
        let observed = observe(plan, run_flat);
        assert_eq!(observed, oracle(plan), "plan: {plan:?}");
        lines.push_str(&plan_line(plan, &observed));
        lines.push('\n');
    }
    let path = std::env::temp_dir().join(format!("managed-crosscheck-{}.jsonl", std::process::id()));
    std::fs::write(&path, lines).expect("write plans");
    let out = std::process::Command::new("python3").arg(script).arg(&path).output().expect("run python3");
    let _ = std::fs::remove_file(&path);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "CPython disagrees:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("4095 plans agree"), "{report}");
}
