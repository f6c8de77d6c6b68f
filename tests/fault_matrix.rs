//! The fault-injection matrix: random plans of probes (each may fail or
//! panic at enter or at exit) under a body that ends every way a body can,
//! run through each construct and checked against an oracle written from
//! DESIGN.md's rules, independently of the implementation.
//!
//! `MANAGED_MATRIX_CASES=N` runs N cases per construct (default 2,000).
//! `cross_check_with_cpython` runs an exhaustive set of small plans through
//! `CPython`'s `contextlib.ExitStack` (`tests/contextlib_crosscheck.py`) and
//! compares which exits ran and in which order.

use managed::testing::{Act, Event, Journal, Seen};
use managed::{managed, scope, with, Error, ExitStack, Slot};
use proptest::prelude::*;
use std::cell::RefCell;
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
    reports: Vec<String>,
}

fn name(i: usize) -> String {
    format!("p{i}")
}

// ---------------------------------------------------------------- oracle

/// The oracle for a run that is not cancelled (see [`oracle_async`]).
fn oracle(plan: &Plan) -> Observed {
    // The sync rules are the async ones without awaits to cancel at.
    oracle_async(plan, AsyncPlan { yields: 0, cancel_at: None }).0
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
    static REPORTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn capture(report: &managed::Report<'_>) {
    REPORTS.with(|r| r.borrow_mut().push(format!("{:?}", report.kind())));
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
    let reports = REPORTS.with(|r| std::mem::take(&mut *r.borrow_mut()));
    Observed { journal: j.events(), end, reports }
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
    let plan = Plan { probes: vec![(Act::Succeed, Act::Fail), (Act::Fail, Act::Succeed)], body: BodyEnd::Ok };
    assert_eq!(
        oracle(&plan).end,
        End::Err { primary: "probe p1 failed at enter".into(), suppressed: vec!["probe p0 failed at exit".into()] }
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

/// The oracle, DESIGN.md section 3 executed by hand: enters in order until
/// one fails; the body runs only if all entered; exits newest first, each
/// seeing the primary failure so far; later exit errors are suppressed (in
/// exit order); a failure during a panic is reported; a panic in an exit
/// replaces an error (reported) or becomes the outcome. Async adds DESIGN
/// section 11's cancellation:
/// the scope is dropped at its `n`-th await; every entered probe that has
/// not exited gets `exit_cancelled`, newest first (our probes' cancelled
/// exit finishes in one poll; its failure or panic is reported); an exit
/// interrupted at its own await is reported, not run again; defers and the
/// rest of the body never run.
fn oracle_async(plan: &Plan, a: AsyncPlan) -> (Observed, bool) {
    enum Cur {
        Ok,
        Err(String, Vec<String>),
        Panic(String),
    }
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
    let mut journal = Vec::new();
    let mut reports: Vec<String> = Vec::new();
    // The entered probes that have not exited get `exit_cancelled`.
    let cancelled = |mut journal: Vec<Event>, mut reports: Vec<String>, open: &[usize]| {
        for &i in open.iter().rev() {
            journal.push(Event::Exit(name(i), Seen::Cancelled));
            if plan.probes[i].1 != Act::Succeed {
                reports.push("Cancelled".into());
            }
        }
        (Observed { journal, end: End::Panic("cancelled".into()), reports }, true)
    };
    let mut cur = Cur::Ok;
    let mut entered = Vec::new();
    for (i, (enter, _)) in plan.probes.iter().enumerate() {
        if pending() {
            return cancelled(journal, reports, &entered);
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
    if entered.len() == plan.probes.len() {
        // The body awaits, then notes itself and ends (`async_body!`).
        for _ in 0..a.yields {
            if pending() {
                return cancelled(journal, reports, &entered);
            }
        }
        journal.push(Event::Note("body".into()));
        cur = match plan.body {
            BodyEnd::Ok => Cur::Ok,
            BodyEnd::Question | BodyEnd::Return | BodyEnd::HiddenReturn => Cur::Err("body error".into(), vec![]),
            BodyEnd::Panic => Cur::Panic("body panicked".into()),
        };
    }
    for (k, &i) in entered.iter().rev().enumerate() {
        journal.push(Event::Exit(name(i), seen(&cur)));
        if pending() {
            // The exit in progress is dropped and reported, not run again,
            // and so is the failure the scope carried (nothing is lost).
            reports.push("Cancelled".into());
            if !matches!(cur, Cur::Ok) {
                reports.push("Cancelled".into());
            }
            return cancelled(journal, reports, &entered[..entered.len() - 1 - k]);
        }
        match plan.probes[i].1 {
            Act::Succeed => {}
            Act::Fail => {
                let msg = format!("probe p{i} failed at exit");
                match &mut cur {
                    Cur::Ok => cur = Cur::Err(msg, vec![]),
                    Cur::Err(_, suppressed) => suppressed.push(msg),
                    Cur::Panic(_) => reports.push("FailedWhileUnwinding".into()),
                }
            }
            Act::Panic => {
                let msg = format!("probe p{i} panicked at exit");
                match cur {
                    Cur::Panic(_) => reports.push("FailedWhileUnwinding".into()),
                    Cur::Err(..) => {
                        reports.push("ReplacedByPanic".into());
                        cur = Cur::Panic(msg);
                    }
                    Cur::Ok => cur = Cur::Panic(msg),
                }
            }
        }
    }
    let end = match cur {
        Cur::Ok => End::Ok(7),
        Cur::Err(primary, suppressed) => End::Err { primary, suppressed },
        Cur::Panic(m) => End::Panic(m),
    };
    (Observed { journal, end, reports }, false)
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
        fn run_async<'r>(plan: &'r Plan, a: AsyncPlan, j: &'r Journal) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, Error>> + 'r>> {
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

/// The probes entered with `enter_async` into an `AsyncExitStack`, the body
/// run inside `AsyncExitStack::run`.
fn run_async_exit_stack<'r>(
    plan: &'r Plan,
    a: AsyncPlan,
    j: &'r Journal,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, Error>> + 'r>> {
    Box::pin(async move {
        let out = managed::AsyncExitStack::new()
            .run(async |stack: &managed::AsyncExitStack<'_>| {
                for i in 0..plan.probes.len() {
                    stack.enter_async(probe(plan, j, i)).await?;
                }
                async_body!(plan, a, j)
            })
            .await?;
        Ok(out.unwrap_or_else(|| unreachable!("no exit suppresses")))
    })
}

/// Polls the async scope with a no-op waker, at most `cancel_at` times
/// (then drops it); a panic escaping a poll ends the run.
fn observe_async(plan: &Plan, a: AsyncPlan) -> (Observed, bool) {
    observe_async_with(plan, a, run_async)
}

type AsyncRun = for<'r> fn(
    &'r Plan,
    AsyncPlan,
    &'r Journal,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, Error>> + 'r>>;

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
    let mut reports = REPORTS.with(|r| std::mem::take(&mut *r.borrow_mut()));
    reports.sort();
    (Observed { journal: j.events(), end, reports }, cancelled)
}

fn async_plan() -> impl Strategy<Value = AsyncPlan> {
    (0..3usize, prop::option::weighted(0.6, 1..24usize)).prop_map(|(yields, cancel_at)| AsyncPlan { yields, cancel_at })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn async_scope_matches_the_oracle_also_when_cancelled(plan in plan(), a in async_plan()) {
        let (observed, cancelled) = observe_async(&plan, a);
        let (mut expected, expected_cancelled) = oracle_async(&plan, a);
        expected.reports.sort();
        prop_assert_eq!(cancelled, expected_cancelled, "plan: {:?} {:?}", plan, a);
        prop_assert_eq!(observed, expected, "plan: {:?} {:?}", plan, a);
    }

    #[test]
    fn async_exit_stack_matches_the_oracle(plan in plan(), yields in 0..3usize) {
        // Runs to completion (a stack's cancellation is tested in
        // tests/exit_stack_async.rs: it cancels each entry on its own).
        let a = AsyncPlan { yields, cancel_at: None };
        let (mut observed, _) = observe_async_with(&plan, a, run_async_exit_stack);
        let (mut expected, _) = oracle_async(&plan, a);
        observed.reports = report_kinds(observed.reports);
        expected.reports = report_kinds(expected.reports);
        prop_assert_eq!(observed, expected, "plan: {:?} {:?}", plan, a);
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
        eprintln!("skipped: python3 is not installed");
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
