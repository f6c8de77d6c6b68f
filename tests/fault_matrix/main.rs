//! The fault-injection matrix: random plans run through every construct
//! and checked against an oracle written from DESIGN.md's rules,
//! independently of the implementation.
//!
//! What a plan can hold (`fault_matrix/plan.rs`), each part switched on in
//! fixed macro shapes (`fault_matrix/run.rs`):
//!
//! - constructs: `scope!` and `scope!(async ..)` (one frame, or a frame
//!   per statement), nested in each other (a sync scope inside an async
//!   one too); `ExitStack`, `AsyncExitStack` and `SendAsyncExitStack`
//!   entered with `with!`, used through `run` (whose `None` the body goes
//!   on from) or dropped unclosed, nested in scopes and in each other;
//!   `#[managed]` structs, sync and async (async or mixed fields) with an
//!   exit hook;
//! - managers: probes that fail or panic at enter or exit, entered with
//!   `with!(..)?` or with `with!(..)` whose error the body ignores, notes
//!   or returns later; sync managers in async scopes and stacks; a probe
//!   inside a `#[managed]` fn with `yield_!` (sync and async); the sync
//!   slots' managers are a `#[managed]` impl block; a `Guard` entered by
//!   hand, exited or dropped; stack entries: managers, exit functions that
//!   keep, suppress (`Ok(true)`), fail or panic, callbacks, sync or
//!   awaited;
//! - every `defer!` form (`{ .. }`, `ok =>`, `err =>`, `panic =>`,
//!   `|outcome|`, and in async scopes `async { .. }` with each filter),
//!   panicking or not, before or after the points where the body leaves;
//!   `defer! { .. }` and `defer!(panic => ..)` as drop guards of a block;
//! - scopes of `managed::Error` and of another error type (later failures
//!   then go to the hook);
//! - the body's points: `?`, `return`, a `return` hidden in a macro, a
//!   panic, an await;
//! - cancellation at any of the plan's await points (counted by the oracle
//!   for each plan), in an enter, the body, an exit, a defer, a rollback or
//!   a stack's close; cancelled exits that finish in one poll, that need
//!   more (the default policy reports them unfinished), and
//!   `exit_cancelled` overrides.
//!
//! Every run compares the journal, the end, the reports and (async) the
//! number of pending polls with the oracle's; the oracle is itself checked
//! to make every failure that happened visible exactly once.
//!
//! `MANAGED_MATRIX_CASES=N` runs N cases per construct (default 2,000);
//! `MANAGED_MATRIX_SEED=S` replays a run (a failure prints its seed and the
//! minimal plan). `cross_check_with_cpython` runs an exhaustive set of
//! small plans through `CPython`'s `contextlib.ExitStack`
//! (`tests/contextlib_crosscheck.py`) and compares the enters and exits that
//! ran, in which order, what each exit saw, how the run ended (primary error
//! and suppressed ones, or the panic) and which failures were reported.

#[path = "../common/mod.rs"]
mod common;
mod observe;
mod oracle;
mod plan;
mod run;

use managed::testing::{Act, Event, Seen};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use std::fmt::Write as _;

use observe::observe;
use oracle::expect;
use plan::*;

/// The seed of this process's cases: `MANAGED_MATRIX_SEED`, or drawn.
fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        use std::hash::{BuildHasher, RandomState};
        if let Ok(s) = std::env::var("MANAGED_MATRIX_SEED") {
            s.parse().unwrap_or_else(|_| panic!("MANAGED_MATRIX_SEED must be a number, not {s:?}"))
        } else {
            RandomState::new().hash_one(std::time::SystemTime::now())
        }
    })
}

fn config() -> ProptestConfig {
    let cases = std::env::var("MANAGED_MATRIX_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, failure_persistence: None, rng_seed: RngSeed::Fixed(seed()), ..ProptestConfig::default() }
}

/// Runs `top` (dropped at one of its await points, chosen by `cancel`
/// among those the oracle counts for it) and compares with the oracle.
fn check(top: &Top, cancel: Option<prop::sample::Index>) -> Result<(), TestCaseError> {
    let awaits = expect(top, None).awaits;
    let cancel_at = cancel.filter(|_| awaits > 0).map(|at| 1 + at.index(awaits));
    let expected = expect(top, cancel_at);
    let reproduce = format!("plan: {top:#?}\ncancel_at: {cancel_at:?}\nreplay: MANAGED_MATRIX_SEED={}", seed());
    prop_assert_eq!(expected.run.visible(), expected.happened, "the oracle loses or doubles a failure\n{}", reproduce);
    let observed = observe(top, cancel_at);
    prop_assert!(
        observed == expected.run,
        "the run differs from the oracle:\n{}{}",
        differences(&observed, &expected.run),
        reproduce
    );
    Ok(())
}

/// The fields of two runs that differ, observed then expected.
fn differences(observed: &Run, expected: &Run) -> String {
    let mut out = String::new();
    let mut field = |name: &str, o: String, e: String| {
        if o != e {
            let _ = write!(out, "{name}:\n  observed: {o}\n  expected: {e}\n");
        }
    };
    field("journal", format!("{:?}", observed.journal), format!("{:?}", expected.journal));
    field("end", format!("{:?}", observed.end), format!("{:?}", expected.end));
    field("reports", format!("{:?}", observed.reports), format!("{:?}", expected.reports));
    field("polls", format!("{:?}", observed.polls), format!("{:?}", expected.polls));
    field("cancelled", format!("{:?}", observed.cancelled), format!("{:?}", expected.cancelled));
    out
}

fn cancel() -> impl Strategy<Value = Option<prop::sample::Index>> {
    prop::option::weighted(0.7, any::<prop::sample::Index>())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn scope_matches_the_oracle(top in top_program(Flavor::Sync)) {
        check(&top, None)?;
    }

    #[test]
    fn async_scope_matches_the_oracle_also_when_cancelled(top in top_program(Flavor::Async), at in cancel()) {
        check(&top, at)?;
    }

    #[test]
    fn exit_stack_matches_the_oracle(top in top_stack(Flavor::Sync)) {
        check(&top, None)?;
    }

    #[test]
    fn async_exit_stack_matches_the_oracle_also_when_cancelled(top in top_stack(Flavor::Async), at in cancel()) {
        check(&top, at)?;
    }

    #[test]
    fn managed_struct_matches_the_oracle(top in top_struct(Flavor::Sync)) {
        check(&top, None)?;
    }

    #[test]
    fn async_managed_struct_matches_the_oracle_also_when_cancelled(top in top_struct(Flavor::Async), at in cancel()) {
        check(&top, at)?;
    }
}

// ---------------------------------------------------------------- coverage

/// What the generator must reach: every construct, statement, failure
/// point and place of cancellation the contract names, in the words of the
/// oracle's account (`oracle::Expected::covered`).
const MUST_COVER: &[&str] = &[
    // constructs and their nesting
    "a sync scope",
    "an async scope, one frame",
    "an async scope, a frame per statement",
    "a sync scope of another error type",
    "an async scope of another error type",
    "a Sync scope in a Sync scope",
    "a Async scope in a Async scope",
    "a Sync scope in a Async scope",
    "Sync stack, Managed, in a Sync scope",
    "Sync stack, Run, in a Sync scope",
    "Sync stack, Dropped, in a Sync scope",
    "Sync stack, Managed, in a Async scope",
    "Sync stack, Run, in a Async scope",
    "Sync stack, Dropped, in a Async scope",
    "Async stack, Managed, in a Async scope",
    "Async stack, Run, in a Async scope",
    "Async stack, Dropped, in a Async scope",
    "SendAsync stack, Managed, in a Async scope",
    "SendAsync stack, Run, in a Async scope",
    "SendAsync stack, Dropped, in a Async scope",
    "Sync stack's run at the top",
    "Async stack's run at the top",
    "SendAsync stack's run at the top",
    "a Sync stack in a stack",
    "a Async stack in a stack",
    "a Sync struct",
    "a Async struct",
    "a Async struct of mixed fields",
    // managers
    "with!(..)? of a Sync manager in a Sync scope",
    "with!(..)? of a Async manager in a Async scope",
    "with!(..)? of a Sync manager in a Async scope",
    "with!(..)? of a SyncFn manager in a Sync scope",
    "with!(..)? of a SyncFn manager in a Async scope",
    "with!(..)? of a AsyncFn manager in a Async scope",
    "a SyncFn manager in a Sync stack",
    "a AsyncFn manager in a Async stack",
    "with!(..) of a Sync manager, then Ignore, in a Sync scope",
    "with!(..) of a Sync manager, then Note, in a Sync scope",
    "with!(..) of a Sync manager, then Propagate, in a Sync scope",
    "with!(..) of a Async manager, then Ignore, in a Async scope",
    "with!(..) of a Async manager, then Note, in a Async scope",
    "with!(..) of a Async manager, then Propagate, in a Async scope",
    "with!(..) of a Sync manager, then Note, in a Async scope",
    "a failed enter without `?`, Ignore, the body goes on",
    "a failed enter without `?`, Note, the body goes on",
    "a Sync enter fails",
    "a Sync enter panics",
    "a Async enter fails",
    "a Async enter panics",
    "a Sync exit fails seeing Ok",
    "a Sync exit fails seeing an error",
    "a Sync exit fails seeing a panic",
    "a Sync exit panics seeing Ok",
    "a Sync exit panics seeing an error",
    "a Sync exit panics seeing a panic",
    "a Sync exit fails seeing Cancelled",
    "a Async exit fails seeing Ok",
    "a Async exit panics seeing an error",
    "a Async exit panics seeing a panic",
    // defers: every form, run, skipped by its filter, panicking, and never reached
    "a defer Always ran",
    "a defer Ok ran",
    "a defer Err ran",
    "a defer Panic ran",
    "a defer Closure ran",
    "a defer Async ran",
    "a defer OkAsync ran",
    "a defer ErrAsync ran",
    "a defer PanicAsync ran",
    "a defer Ok skipped by its filter",
    "a defer Err skipped by its filter",
    "a defer Panic skipped by its filter",
    "a defer OkAsync skipped by its filter",
    "a defer ErrAsync skipped by its filter",
    "a defer PanicAsync skipped by its filter",
    "a defer Always ran and panicked",
    "a defer Ok ran and panicked",
    "a defer Err ran and panicked",
    "a defer Panic ran and panicked",
    "a defer Closure ran and panicked",
    "a defer Async ran and panicked",
    "a defer OkAsync ran and panicked",
    "a defer ErrAsync ran and panicked",
    "a defer after the point where the body left",
    "a drop guard (on panic: false), block ends Ok",
    "a drop guard (on panic: false), block leaves with `?`",
    "a drop guard (on panic: false), block panics",
    "a drop guard (on panic: true), block ends Ok",
    "a drop guard (on panic: true), block panics",
    // manual management
    "a Guard exited by hand",
    "a Guard dropped unexited",
    // the body's points
    "point Pass",
    "point Question",
    "point Return",
    "point HiddenReturn",
    "point Panic",
    "point Yield",
    // stacks
    "push Keep (awaits: false) on a Sync stack",
    "push Suppress (awaits: false) on a Sync stack",
    "push Fail (awaits: false) on a Sync stack",
    "push Panic (awaits: false) on a Sync stack",
    "push Keep (awaits: true) on a Async stack",
    "push Suppress (awaits: true) on a Async stack",
    "push Fail (awaits: true) on a Async stack",
    "push Panic (awaits: true) on a Async stack",
    "callback (panics: true, awaits: false) on a Sync stack",
    "callback (panics: true, awaits: true) on a Async stack",
    "a Sync manager in a Async stack",
    "Ok(true) seeing an error",
    "Ok(true) seeing a panic",
    "Ok(true) seeing Cancelled",
    "run returns None: an exit suppressed the body's error",
    "a Sync stack dropped unclosed, its exits seeing Cancelled",
    "a Sync stack dropped unclosed, its exits seeing a panic",
    "a Async stack dropped unclosed, its exits seeing Cancelled",
    "a Async stack dropped unclosed, its exits seeing a panic",
    "a cancelled exit's error reported as StackDropped",
    "a cancelled exit's panic reported as StackDropped",
    "a cancelled exit's panic reported as Cancelled",
    // structs
    "the exit hook fails seeing Ok",
    "the exit hook panics seeing an error",
    "an entered struct cancelled",
    // cancellation: where, and what the cancelled exits do
    "dropped at an enter in a body",
    "dropped at a yield in a body",
    "dropped at an exit in a scope's cleanups",
    "dropped at an async defer in a scope's cleanups",
    "dropped at an exit in a stack's close",
    "dropped at an async exit function in a stack's close",
    "dropped at an async callback in a stack's close",
    "dropped at an enter in a struct's enter",
    "dropped at an exit in a struct's rollback",
    "dropped at an exit in a struct's exit",
    "a sync manager's cancelled exit",
    "the default exit_cancelled finishes in place",
    "the default exit_cancelled cannot finish an exit that waits",
    "exit_cancelled overridden",
    "exit_cancelled overridden for an exit that waits",
    "a #[managed] async fn's cancelled exit finishes in place",
    "a #[managed] async fn's cancelled exit cannot finish an exit that waits",
    // what reaches the error hook
    "report ReplacedByPanic",
    "report FailedWhileUnwinding",
    "report Cancelled",
    "report StackDropped",
    "report GuardDropped",
    "report SuppressedNotAttached",
];

/// The generator reaches everything in [`MUST_COVER`]: the oracle's
/// account of 600 plans of each kind, each also dropped at every one of its
/// await points, drawn with a fixed seed (so this test is deterministic).
/// `MANAGED_MATRIX_COVERAGE=1` lists everything reached.
#[test]
fn the_generator_covers_every_construct_and_failure_point() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), rng);
    let mut covered = std::collections::BTreeSet::new();
    for flavor in [Flavor::Sync, Flavor::Async] {
        for strategy in [top_program(flavor), top_stack(flavor), top_struct(flavor)] {
            for _ in 0..600 {
                let top = strategy.new_tree(&mut runner).expect("plans are never rejected").current();
                let expected = expect(&top, None);
                for at in 1..=expected.awaits {
                    covered.extend(expect(&top, Some(at)).covered);
                }
                covered.extend(expected.covered);
            }
        }
    }
    if std::env::var_os("MANAGED_MATRIX_COVERAGE").is_some() {
        println!("{covered:#?}");
    }
    let missing: Vec<&str> = MUST_COVER.iter().copied().filter(|m| !covered.contains(*m)).collect();
    assert!(missing.is_empty(), "the generator never reaches {missing:#?}");
}

// ---------------------------------------------------------------- the oracle, by hand

/// The oracle is checked on hand-worked cases, so that a wrong oracle
/// cannot make a wrong implementation pass.
mod oracle_by_hand {
    use super::*;

    fn probe(enter: Act, exit: Act) -> ProbePlan {
        ProbePlan { id: 0, enter, exit, pending_when_cancelled: 0, override_cancel: false }
    }

    fn with(p: ProbePlan, mode: Mode) -> Step {
        Step::With { probe: p, mode }
    }

    fn point(point: Point) -> Step {
        Step::Point { id: 0, point }
    }

    fn program(flavor: Flavor, steps: Vec<Step>) -> Program {
        Program { flavor, error: ScopeError::Managed, split_frames: false, steps }
    }

    fn reports(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, t)| (k.to_string(), t.to_string())).collect()
    }

    fn err(text: &str) -> Seen {
        Seen::Err(text.into())
    }

    fn panic(text: &str) -> Seen {
        Seen::Panic(Some(text.into()))
    }

    #[test]
    fn a_panicking_exit_replaces_the_body_error_and_the_older_exit_failure_goes_to_the_hook() {
        let top = number(Top::Program(program(
            Flavor::Sync,
            vec![
                with(probe(Act::Succeed, Act::Fail), Mode::Sync),
                with(probe(Act::Succeed, Act::Panic), Mode::Sync),
                point(Point::Question),
            ],
        )));
        let e = expect(&top, None);
        assert_eq!(e.run.end, End::Panic("probe p1 panicked at exit".into()));
        assert_eq!(
            e.run.reports,
            reports(&[("FailedWhileUnwinding", "probe p0 failed at exit"), ("ReplacedByPanic", "body error b0")])
        );
        assert_eq!(
            e.run.journal,
            [
                Event::Enter("p0".into()),
                Event::Enter("p1".into()),
                Event::Note("b0".into()),
                Event::Exit("p1".into(), err("body error b0")),
                Event::Exit("p0".into(), panic("probe p1 panicked at exit")),
            ]
        );
        assert_eq!(e.happened, ["body error b0", "probe p0 failed at exit", "probe p1 panicked at exit"]);
    }

    #[test]
    fn a_suppressing_exit_clears_the_body_error_for_the_exits_after_it() {
        let stack = |exit| {
            number(Top::Stack(StackPlan {
                how: StackUse::Run,
                flavor: Flavor::Sync,
                send: false,
                entries: vec![
                    Entry::Enter(probe(Act::Succeed, exit), Mode::Sync),
                    Entry::Push { id: 0, act: PushAct::Suppress, awaits: false },
                ],
                body: program(Flavor::Sync, vec![point(Point::Question)]),
            }))
        };
        let e = expect(&stack(Act::Fail), None);
        assert_eq!(
            e.run.journal,
            [
                Event::Enter("p0".into()),
                Event::Note("b0".into()),
                Event::Note("s0 saw Err(\"body error b0\")".into()),
                Event::Exit("p0".into(), Seen::Ok),
            ]
        );
        // The exit failure after the suppression is all there is.
        assert_eq!(e.run.end, End::Err { primary: "probe p0 failed at exit".into(), suppressed: vec![] });
        assert!(e.run.reports.is_empty());
        // Nothing fails after it: `run` returns `None`, seen at the top as 0.
        assert_eq!(expect(&stack(Act::Succeed), None).run.end, End::Ok(0));
    }

    #[test]
    fn a_stack_whose_exit_panics_under_a_failed_scope_leaves_one_report_of_the_scope_error() {
        let top = number(Top::Program(program(
            Flavor::Sync,
            vec![Step::Stack(StackPlan {
                how: StackUse::Managed,
                flavor: Flavor::Sync,
                send: false,
                entries: vec![Entry::Push { id: 0, act: PushAct::Panic, awaits: false }],
                body: program(Flavor::Sync, vec![point(Point::Question)]),
            })],
        )));
        let e = expect(&top, None);
        assert_eq!(e.run.end, End::Panic("push s0 panicked".into()));
        assert_eq!(e.run.reports, reports(&[("ReplacedByPanic", "body error b0")]));
    }

    #[test]
    fn a_dropped_exit_stack_reports_its_exits_panic_and_the_body_error_is_returned() {
        let top = number(Top::Program(program(
            Flavor::Sync,
            vec![Step::Stack(StackPlan {
                how: StackUse::Dropped,
                flavor: Flavor::Sync,
                send: false,
                entries: vec![
                    Entry::Enter(probe(Act::Succeed, Act::Fail), Mode::Sync),
                    Entry::Callback { id: 0, panics: true, awaits: false },
                    Entry::Enter(probe(Act::Succeed, Act::Succeed), Mode::Sync),
                ],
                body: program(Flavor::Sync, vec![point(Point::Question)]),
            })],
        )));
        let e = expect(&top, None);
        // Every exit sees the cancellation, the panic's too.
        assert_eq!(
            e.run.journal,
            [
                Event::Enter("p0".into()),
                Event::Enter("p1".into()),
                Event::Note("b0".into()),
                Event::Exit("p1".into(), Seen::Cancelled),
                Event::Note("s0".into()),
                Event::Exit("p0".into(), Seen::Cancelled),
            ]
        );
        assert_eq!(e.run.end, End::Err { primary: "body error b0".into(), suppressed: vec![] });
        assert_eq!(
            e.run.reports,
            reports(&[("StackDropped", "callback s0 panicked"), ("StackDropped", "probe p0 failed at exit")])
        );
    }

    #[test]
    fn a_cancelled_exit_that_must_wait_is_unfinished_unless_overridden() {
        let top = |override_cancel| {
            let p = ProbePlan { pending_when_cancelled: 1, override_cancel, ..probe(Act::Succeed, Act::Fail) };
            number(Top::Program(program(Flavor::Async, vec![with(p, Mode::Async), point(Point::Yield(1))])))
        };
        // Await points: p0's enter, the body's yield, p0's exit.
        assert_eq!(expect(&top(false), None).awaits, 3);
        let e = expect(&top(false), Some(2));
        assert!(e.run.cancelled);
        assert_eq!(
            e.run.journal,
            [Event::Enter("p0".into()), Event::Note("b0".into()), Event::Exit("p0".into(), Seen::Cancelled)]
        );
        assert_eq!(e.run.reports, reports(&[("Cancelled", "exit unfinished")]));
        assert!(e.happened.is_empty(), "the exit never got to fail");
        let e = expect(&top(true), Some(2));
        assert_eq!(e.run.reports, reports(&[("Cancelled", "probe p0 failed at exit")]));
        assert_eq!(e.happened, ["probe p0 failed at exit"]);
    }

    #[test]
    fn a_defer_the_body_never_reached_does_not_run() {
        let top = number(Top::Program(program(
            Flavor::Async,
            vec![
                with(probe(Act::Fail, Act::Succeed), Mode::Async),
                Step::Defer { id: 0, form: Form::Always, panics: false },
            ],
        )));
        let e = expect(&top, None);
        assert_eq!(e.run.journal, [Event::Enter("p0 (enter failed)".into())]);
        assert_eq!(e.run.end, End::Err { primary: "probe p0 failed at enter".into(), suppressed: vec![] });
        assert_eq!(e.run.polls, Some(1));
    }

    #[test]
    fn a_struct_dropped_in_its_exit_reports_what_it_carried_and_cancels_the_rest() {
        let top = number(Top::Struct(StructPlan {
            flavor: Flavor::Async,
            mixed: false,
            fields: vec![
                probe(Act::Succeed, Act::Succeed),
                probe(Act::Succeed, Act::Succeed),
                probe(Act::Succeed, Act::Fail),
            ],
            hook: (0, Act::Succeed),
            body: program(Flavor::Async, vec![point(Point::Pass)]),
        }));
        // Await points: 3 enters, then p2's exit, then p1's: dropped there.
        let e = expect(&top, Some(5));
        assert_eq!(
            e.run.journal[4..],
            [
                Event::Note("hook h0 saw Ok".into()),
                Event::Exit("p2".into(), Seen::Ok),
                Event::Exit("p1".into(), err("probe p2 failed at exit")),
                Event::Exit("p0".into(), Seen::Cancelled),
            ]
        );
        // The scope's exit of the struct was interrupted (the scope carried
        // nothing); the struct carried p2's failure.
        assert_eq!(
            e.run.reports,
            reports(&[("Cancelled", "exit interrupted"), ("Cancelled", "probe p2 failed at exit")])
        );
    }
}

/// Reports are compared through the failures their texts show: the texts
/// the library writes are read as the oracle writes them.
#[test]
fn report_texts_read_as_failures_and_markers() {
    let error = managed::Error::msg("body error b3");
    let probe = managed::testing::ProbeError { probe: "p12".into(), stage: managed::testing::Stage::Exit };
    assert_eq!(tokens(&format!("{error:?}")), ["body error b3"]);
    assert_eq!(tokens(&format!("{probe:?}")), ["probe p12 failed at exit"]);
    assert_eq!(tokens(&probe.to_string()), ["probe p12 failed at exit"]);
    assert_eq!(
        tokens(
            "the scope was cancelled while carrying this failure: body error b0\n\nSuppressed:\n    0: push s2 failed"
        ),
        ["body error b0", "push s2 failed"]
    );
    assert_eq!(
        tokens("the scope was cancelled while the exit of `x::Probe` was running; the exit was dropped unfinished"),
        ["exit interrupted"]
    );
    assert_eq!(tokens("the exit of `x` did not finish in place and was dropped; override .."), ["exit unfinished"]);
    assert_eq!(tokens("panic: \"guard g4 panicked\""), ["guard g4 panicked"]);
    assert!(tokens("the defer was dropped unfinished, its hook of `T`").is_empty());
}

// ---------------------------------------------------------------- CPython

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyEnd {
    Ok,
    Question,
    Return,
    HiddenReturn,
    Panic,
}

/// A flat scope of probes, then a body that ends as told.
#[derive(Clone, Debug)]
struct Plan {
    /// (enter act, exit act) per probe, in entering order.
    probes: Vec<(Act, Act)>,
    body: BodyEnd,
}

impl Plan {
    /// The plan as a program: a `with!(..)?` per probe, then the body's point.
    fn top(&self) -> Top {
        let mut steps: Vec<Step> = self
            .probes
            .iter()
            .map(|&(enter, exit)| Step::With {
                probe: ProbePlan { id: 0, enter, exit, pending_when_cancelled: 0, override_cancel: false },
                mode: Mode::Sync,
            })
            .collect();
        let point = match self.body {
            BodyEnd::Ok => Point::Pass,
            BodyEnd::Question => Point::Question,
            BodyEnd::Return => Point::Return,
            BodyEnd::HiddenReturn => Point::HiddenReturn,
            BodyEnd::Panic => Point::Panic,
        };
        steps.push(Step::Point { id: 0, point });
        number(Top::Program(Program { flavor: Flavor::Sync, error: ScopeError::Managed, split_frames: false, steps }))
    }
}
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

/// A failure as the Python side names it (`crosscheck_common.py`):
/// `enter1-error`, `exit0-panic`, `body-error`, `body-panic`.
fn python_name(label: &str) -> String {
    if label.starts_with("body error") {
        return "body-error".into();
    }
    if label.starts_with("body panicked") {
        return "body-panic".into();
    }
    // `probe pN failed at STAGE` / `probe pN panicked at STAGE`
    let words: Vec<&str> = label.split(' ').collect();
    match words[..] {
        ["probe", probe, act, "at", stage] => {
            let kind = if act == "panicked" { "panic" } else { "error" };
            format!("{stage}{}-{kind}", &probe[1..])
        }
        _ => panic!("not a failure of a cross-checked plan: {label:?}"),
    }
}

/// How a run ended, as `crosscheck_common.settle` writes it: `ok`,
/// `error PRIMARY +SUPPRESSED..` (in order), or `panic NAME`.
fn python_end(end: &End) -> String {
    match end {
        End::Ok(_) => "ok".into(),
        End::Err { primary, suppressed } => suppressed
            .iter()
            .fold(format!("error {}", python_name(primary)), |s, later| format!("{s} +{}", python_name(later))),
        End::Panic(message) => format!("panic {}", python_name(message)),
    }
}

/// One JSON line per plan: the plan, and what our scope did: the journal
/// as `enter N` (`enter N failed` when the enter failed or panicked) /
/// `body` / `exit N ok|failure`, how it ended ([`python_end`]) and the
/// failures it reported to the error hook, sorted.
fn plan_line(plan: &Plan, observed: &Run) -> String {
    let probes: Vec<String> =
        plan.probes.iter().map(|(e, x)| format!("[\"{}\", \"{}\"]", act_name(*e), act_name(*x))).collect();
    let body = match plan.body {
        BodyEnd::Ok => "ok",
        BodyEnd::Panic => "panic",
        _ => "error",
    };
    let journal = observed.journal.iter().map(|e| match e {
        Event::Enter(n) => match n.strip_suffix(" (enter failed)") {
            Some(failed) => format!("enter {} failed", &failed[1..]),
            None => format!("enter {}", &n[1..]),
        },
        Event::Note(_) => "body".to_string(),
        Event::Exit(n, seen) => format!("exit {} {}", &n[1..], if *seen == Seen::Ok { "ok" } else { "failure" }),
    });
    let mut reports: Vec<String> = observed.reports.iter().map(|(_, label)| python_name(label)).collect();
    reports.sort();
    format!(
        "{{\"probes\": [{}], \"body\": \"{body}\", \"journal\": {}, \"end\": \"{}\", \"reports\": {}}}",
        probes.join(", "),
        common::json_strings(journal),
        python_end(&observed.end),
        common::json_strings(reports)
    )
}

/// Every small flat scope, run here and through `CPython`'s
/// `contextlib.ExitStack` (`tests/contextlib_crosscheck.py`): the same
/// enters (a failed one told apart) and exits ran, in the same order, each
/// exit saw a failure exactly when `CPython`'s did, the run ended the same
/// way (the primary error and the suppressed ones in order, or the panic
/// that resumes), and what went to the error hook is the rest of
/// `CPython`'s exception chain. The report kinds are the oracle's to check:
/// `CPython` has no hook.
#[test]
fn cross_check_with_cpython() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contextlib_crosscheck.py");
    if !common::python3_or_skip_outside_ci() {
        return;
    }
    let plans = all_small_plans();
    assert_eq!(plans.len(), 5 * (9 + 81 + 729));
    let mut lines = String::new();
    for plan in &plans {
        let top = plan.top();
        let observed = observe(&top, None);
        assert_eq!(observed, expect(&top, None).run, "plan: {plan:?}");
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
