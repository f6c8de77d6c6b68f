//! `defer!` in `scope!(async { .. })`, every form, checked against the sync
//! scope: a defer runs if and only if the body reached it (never after a
//! failing `with!(..)?`, a `?`, an early `return` or a panic before it, and
//! never because the scope was cancelled), with the exact outcome when it
//! does; and a panicking defer follows the rules of DESIGN section 3
//! (a panic on the Ok path becomes the outcome the older exits and defers
//! see and resumes after them; one on an `Err` path replaces the error,
//! which goes to the hook; one while the body's panic unwinds is reported
//! and the body's panic resumes).

mod common;

use common::{block_on, describe, panic_message, quiet_panics, reports_of, Journal, Pending, Probe};
use managed::prelude::*;
use managed::Error;

/// Whatever a scope did: how it ended (`ok(..)`, `err(..)` with the
/// suppressed errors, or `panic(..)` with the resumed payload, which must
/// be a string: a wrapped payload shows as `<non-string>`), its journal
/// without the lines only async probes write, and the error hook's reports.
#[derive(Debug, PartialEq)]
struct Run {
    ended: String,
    lines: Vec<String>,
    reports: Vec<String>,
}

fn run(j: &Journal, scope: impl FnOnce() -> Result<u32, Error>) -> Run {
    quiet_panics();
    let (caught, reports) = reports_of(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(scope)));
    let ended = match caught {
        Ok(Ok(value)) => format!("ok({value})"),
        Ok(Err(e)) => format!("err({e:#})"),
        Err(payload) => format!("panic({})", panic_message(&*payload)),
    };
    let lines = j.lines().into_iter().filter(|l| !l.starts_with("entered ") && !l.starts_with("exited ")).collect();
    Run { ended, lines, reports }
}

fn fail_if(yes: bool, message: &'static str) -> Result<(), Error> {
    if yes {
        Err(Error::msg(message))
    } else {
        Ok(())
    }
}

/// A manager that cannot be entered: its enter fails with `connect failed`.
struct Db;

impl Manage for Db {
    type Target = Self;
    type Error = Error;
    fn enter(&mut self) -> Result<&mut Self, Error> {
        Err(Error::msg("connect failed"))
    }
    fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
        Ok(())
    }
}

fn early() -> bool {
    std::hint::black_box(true)
}

#[test]
fn a_defer_after_a_failed_enter_or_an_early_return_does_not_run_as_in_the_sync_scope() {
    let mut log: Vec<String> = vec![];
    let sync = scope! { with!(Db)?; defer!(err => log.push("sync".into())); Ok::<_, Error>(()) };
    assert_eq!(sync.expect_err("enter fails").to_string(), "connect failed");
    let r = block_on(scope!(async {
        with!(Db)?;
        defer!(err => log.push("async".into()));
        Ok::<_, Error>(())
    }));
    assert_eq!(r.expect_err("enter fails").to_string(), "connect failed");
    let sync: Result<u8, Error> = scope! {
        with!(managed::nullcontext(()))?;
        if log.len() < 100 { return Ok(1); }
        defer!(ok => log.push("sync: committed".into()));
        Ok(2)
    };
    let r: Result<u8, Error> = block_on(scope!(async {
        with!(managed::nullcontext(()))?;
        if log.len() < 100 {
            return Ok(1);
        }
        defer!(ok => log.push("async: committed".into()));
        Ok(2)
    }));
    assert_eq!(sync.expect("returns early"), 1);
    assert_eq!(r.expect("returns early"), 1);
    assert_eq!(log, Vec::<String>::new());
}

/// How the body of a matrix scope leaves, relative to the defer under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leave {
    /// A `with!(..)?` before the defer fails to enter.
    FailingWith,
    /// A `?` before the defer.
    QuestionMark,
    /// `return Ok(1)` before the defer.
    ReturnOk,
    /// `return Err(..)` before the defer.
    ReturnErr,
    /// A panic before the defer.
    Panic,
    /// Nothing leaves early: the defer is reached, the scope ends `Ok(2)`.
    Reached,
    /// The defer is reached, then a `?` after it fails.
    ErrAfter,
}

const LEAVES: [Leave; 7] = [
    Leave::FailingWith,
    Leave::QuestionMark,
    Leave::ReturnOk,
    Leave::ReturnErr,
    Leave::Panic,
    Leave::Reached,
    Leave::ErrAfter,
];

impl Leave {
    /// The outcome the defers reached before the leaving point see.
    fn outcome(self) -> &'static str {
        match self {
            Leave::FailingWith => "err(enter b failed)",
            Leave::QuestionMark => "err(question mark)",
            Leave::ReturnOk | Leave::Reached => "ok",
            Leave::ReturnErr => "err(returned early)",
            Leave::Panic => "panic(test: body panicked)",
            Leave::ErrAfter => "err(failed after the defer)",
        }
    }

    fn reaches_the_defer(self) -> bool {
        matches!(self, Leave::Reached | Leave::ErrAfter)
    }

    fn probe_b(self, j: &Journal) -> Probe {
        let b = j.probe("b");
        if self == Leave::FailingWith {
            b.failing_enter()
        } else {
            b
        }
    }
}

/// For each defer form (its sync twin for the sync scope, then the form
/// itself, then whether it runs on `Ok` and on `Err`), each way to leave,
/// and two shapes of scope (the defer in the frame of the scope's first
/// manager; and in a nested frame, after a local, that starts with another
/// defer), runs the async scope and the sync one and compares them, and
/// checks the defer ran only when reached and its filter matched. Every
/// defer under test writes `form ..`; the one before the leaving point
/// writes `reached OUTCOME`.
macro_rules! reached_matrix {
    ($j:ident; $( [$($sync_form:tt)*] [$($async_form:tt)*] runs on ok: $on_ok:expr, err: $on_err:expr; )*) => {$(
        reached_case!($j; [let _a = with!($j.probe("a"))?;] [$($sync_form)*] [$($async_form)*] $on_ok, $on_err);
        reached_case!($j; [let _a = with!($j.probe("a"))?; let _local = 0;] [$($sync_form)*] [$($async_form)*] $on_ok, $on_err);
    )*};
}

macro_rules! reached_case {
    ($j:ident; [$($preamble:tt)*] [$($sync_form:tt)*] [$($async_form:tt)*] $on_ok:expr, $on_err:expr) => {
        for leave in LEAVES {
            let sync = {
                let $j = Journal::new();
                run(&$j, || scope! {
                    $($preamble)*
                    defer!(|o| $j.push(format!("reached {}", describe(o))));
                    with!(leave.probe_b(&$j))?;
                    fail_if(leave == Leave::QuestionMark, "question mark")?;
                    if leave == Leave::ReturnOk { return Ok(1); }
                    if leave == Leave::ReturnErr { return Err(Error::msg("returned early")); }
                    if leave == Leave::Panic { panic!("test: body panicked"); }
                    $($sync_form)*
                    fail_if(leave == Leave::ErrAfter, "failed after the defer")?;
                    Ok(2)
                })
            };
            let asynchronous = {
                let $j = Journal::new();
                run(&$j, || block_on(scope!(async {
                    $($preamble)*
                    defer!(|o| $j.push(format!("reached {}", describe(o))));
                    with!(leave.probe_b(&$j))?;
                    fail_if(leave == Leave::QuestionMark, "question mark")?;
                    Pending(1).await;
                    if leave == Leave::ReturnOk { return Ok(1); }
                    if leave == Leave::ReturnErr { return Err(Error::msg("returned early")); }
                    if leave == Leave::Panic { panic!("test: body panicked"); }
                    $($async_form)*
                    fail_if(leave == Leave::ErrAfter, "failed after the defer")?;
                    Ok(2)
                })))
            };
            let case = format!("{} after `{}`, {leave:?}", stringify!($($async_form)*), stringify!($($preamble)*));
            let ran = asynchronous.lines.iter().filter(|l| l.starts_with("form")).count();
            let runs = leave.reaches_the_defer() && if leave == Leave::Reached { $on_ok } else { $on_err };
            assert_eq!(ran, usize::from(runs), "{case}: {asynchronous:?}");
            let reached = format!("reached {}", leave.outcome());
            assert!(asynchronous.lines.contains(&reached), "{case}: no `{reached}` in {asynchronous:?}");
            assert!(asynchronous.reports.is_empty(), "{case}: {asynchronous:?}");
            assert_eq!(asynchronous, sync, "{case}: async, then sync");
        }
    };
}

/// Every form, every way to leave, both frame shapes (see
/// `reached_matrix!`): a reached `defer!(|outcome| ..)` writes the outcome
/// it saw, so the comparison with the sync scope checks it is the exact one.
#[test]
fn each_defer_form_runs_if_and_only_if_the_body_reached_it() {
    reached_matrix! {j;
        [defer! { j.push("form always") }] [defer! { j.push("form always") }]
            runs on ok: true, err: true;
        [defer!(ok => j.push("form ok"));] [defer!(ok => j.push("form ok"));]
            runs on ok: true, err: false;
        [defer!(err => j.push("form err"));] [defer!(err => j.push("form err"));]
            runs on ok: false, err: true;
        [defer!(panic => j.push("form panic"));] [defer!(panic => j.push("form panic"));]
            runs on ok: false, err: false;
        [defer!(|o| j.push(format!("form sees {}", describe(o))));] [defer!(|o| j.push(format!("form sees {}", describe(o))));]
            runs on ok: true, err: true;
        [defer! { j.push("form async") }] [defer!(async { Pending(1).await; j.push("form async") });]
            runs on ok: true, err: true;
        [defer!(err => j.push("form async err"));] [defer!(err => async { Pending(1).await; j.push("form async err") });]
            runs on ok: false, err: true;
    }
}

/// A reached defer sees the exact outcome: the body's error, with the exits
/// of newer managers merged in, and the same defer after an early `return`
/// is not run.
#[test]
fn a_reached_defer_sees_the_exact_outcome_next_to_an_unreached_one() {
    let j = Journal::new();
    let r: Result<u32, Error> = block_on(scope!(async {
        let _a = with!(j.probe("a"))?;
        defer!(async {
            Pending(1).await;
            j.push("reached async");
        });
        defer!(|o| j.push(format!("reached {}", describe(o))));
        let _b = with!(j.probe("b").failing_exit())?;
        if early() {
            return Ok(1);
        }
        defer!(|o| j.push(format!("unreached {}", describe(o))));
        defer!(async { j.push("unreached async") });
        Ok(2)
    }));
    assert_eq!(r.expect_err("b's exit fails").to_string(), "exit b failed");
    let lines: Vec<String> = j.lines().into_iter().filter(|l| !l.starts_with("enter")).collect();
    assert_eq!(
        lines,
        [
            "exit b ok",
            "exited b",
            "reached err(exit b failed)",
            "reached async",
            "exit a err(exit b failed)",
            "exited a"
        ]
    );
}

/// The scope is cancelled at each of its await points; the defers after the
/// body's early exit are never reached, so none of them starts and none is
/// reported as dropped unfinished, whichever await point it is.
#[cfg(feature = "testing")]
#[test]
fn cancelled_after_the_body_left_early_no_unreached_async_defer_runs_or_is_reported() {
    use managed::testing::cancel_after;

    for leave in [Leave::FailingWith, Leave::QuestionMark, Leave::ReturnOk, Leave::ReturnErr] {
        let mut finished = false;
        for polls in 0..50 {
            let j = Journal::new();
            let scope = scope!(async {
                let _a = with!(j.probe("a"))?;
                with!(leave.probe_b(&j))?;
                fail_if(leave == Leave::QuestionMark, "question mark")?;
                if leave == Leave::ReturnOk {
                    return Ok(1);
                }
                if leave == Leave::ReturnErr {
                    return Err(Error::msg("returned early"));
                }
                defer!(async {
                    j.push("unreached async defer started");
                    Pending(1).await;
                    j.push("unreached async defer finished");
                });
                defer!(err => async {
                    j.push("unreached async errdefer started");
                    Pending(1).await;
                    j.push("unreached async errdefer finished");
                });
                Ok::<u32, Error>(2)
            });
            let (out, reports) = reports_of(|| block_on(cancel_after(scope, polls)));
            assert!(!reports.iter().any(|r| r.contains("`defer!`")), "{leave:?} cancelled after {polls}: {reports:?}");
            let lines = j.lines();
            assert!(!lines.iter().any(|l| l.contains("unreached")), "{leave:?} cancelled after {polls}: {lines:?}");
            if let Some(result) = out {
                assert_eq!(result.is_ok(), leave == Leave::ReturnOk, "{leave:?}");
                assert_eq!(j.lines().iter().filter(|l| l.starts_with("exit a ")).count(), 1, "{leave:?}: {lines:?}");
                finished = true;
                break;
            }
        }
        assert!(finished, "{leave:?}: the scope never finished");
    }
}

/// Where the body ends in the panicking-defer tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Ok,
    Err,
    Panic,
}

fn end_body(end: End) -> Result<(), Error> {
    match end {
        End::Ok => Ok(()),
        End::Err => Err(Error::msg("body failed")),
        End::Panic => panic!("test: body panicked"),
    }
}

/// What a scope whose defer panicked must do, by DESIGN section 3: the
/// newer exits and defers saw the body's outcome; the older ones see the
/// defer's panic, unless the body's own panic is unwinding (it stays the
/// outcome); the panic that resumes keeps its payload; a body error the
/// defer's panic replaces, or the defer's panic while the body's unwinds,
/// goes to the hook.
fn after_a_panicking_defer(end: End, with_async_defer: bool) -> Run {
    let body = match end {
        End::Ok => "ok",
        End::Err => "err(body failed)",
        End::Panic => "panic(test: body panicked)",
    };
    let (older, reports) = match end {
        End::Ok => ("panic(test: defer panicked)", vec![]),
        End::Err => ("panic(test: defer panicked)", vec!["ReplacedByPanic: body failed".to_string()]),
        End::Panic => (body, vec!["FailedWhileUnwinding: panic: \"test: defer panicked\"".to_string()]),
    };
    let mut lines = vec!["enter a".to_string(), "enter b".into(), "enter c".into(), format!("newer defer {body}")];
    if with_async_defer {
        lines.push("newer async defer".into());
    }
    lines.extend([
        format!("exit c {body}"),
        "form panics".into(),
        format!("exit b {older}"),
        format!("older defer {older}"),
        format!("exit a {older}"),
    ]);
    Run { ended: older.to_string(), lines, reports }
}

/// For each panicking defer form (its sync twin for the sync scope, then
/// the form itself), with the body ending as `$end` says: the async scope
/// does what the sync scope does, and that is [`after_a_panicking_defer`].
/// Each form writes `form panics`, then panics with `test: defer panicked`.
macro_rules! panicking_defers {
    ($j:ident; $end:expr; $( [$($sync_form:tt)*] [$($async_form:tt)*] )*) => {$(
        let end: End = $end;
        let sync = {
            let $j = Journal::new();
            run(&$j, || scope! {
                let _a = with!($j.probe("a"))?;
                defer!(|o| $j.push(format!("older defer {}", describe(o))));
                let _b = with!($j.probe("b"))?;
                $($sync_form)*
                let _c = with!($j.probe("c"))?;
                defer!(|o| $j.push(format!("newer defer {}", describe(o))));
                end_body(end)?;
                Ok(2)
            })
        };
        let asynchronous = {
            let $j = Journal::new();
            run(&$j, || block_on(scope!(async {
                let _a = with!($j.probe("a"))?;
                defer!(|o| $j.push(format!("older defer {}", describe(o))));
                let _b = with!($j.probe("b"))?;
                $($async_form)*
                let _c = with!($j.probe("c"))?;
                defer!(async { Pending(1).await; $j.push("newer async defer") });
                defer!(|o| $j.push(format!("newer defer {}", describe(o))));
                Pending(1).await;
                end_body(end)?;
                Ok(2)
            })))
        };
        let form = stringify!($($async_form)*);
        assert_eq!(asynchronous, after_a_panicking_defer(end, true), "{form} {end:?}: async, then expected");
        assert_eq!(sync, after_a_panicking_defer(end, false), "{form} {end:?}: sync, then expected");
    )*};
}

#[test]
fn a_panicking_sync_defer_on_the_ok_path_becomes_the_outcome_of_the_older_cleanups_and_resumes() {
    panicking_defers! {j; End::Ok;
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer!(ok => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(ok => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(|_outcome| { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(|_outcome| { j.push("form panics"); panic!("test: defer panicked") });]
    }
}

#[test]
fn a_panicking_async_defer_on_the_ok_path_becomes_the_outcome_of_the_older_cleanups_and_resumes() {
    panicking_defers! {j; End::Ok;
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer!(async { j.push("form panics"); Pending(1).await; panic!("test: defer panicked") });]
    }
}

#[test]
fn a_panicking_sync_defer_after_the_body_failed_replaces_the_error_which_goes_to_the_hook() {
    panicking_defers! {j; End::Err;
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer!(err => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(err => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(|_outcome| { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(|_outcome| { j.push("form panics"); panic!("test: defer panicked") });]
    }
}

#[test]
fn a_panicking_async_defer_after_the_body_failed_replaces_the_error_which_goes_to_the_hook() {
    panicking_defers! {j; End::Err;
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer!(async { j.push("form panics"); Pending(1).await; panic!("test: defer panicked") });]
        [defer!(err => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(err => async { j.push("form panics"); Pending(1).await; panic!("test: defer panicked") });]
    }
}

#[test]
fn a_sync_defer_panicking_while_the_body_panics_is_reported_and_the_body_panic_resumes() {
    panicking_defers! {j; End::Panic;
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer!(err => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(err => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(panic => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(panic => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(|_outcome| { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(|_outcome| { j.push("form panics"); panic!("test: defer panicked") });]
    }
}

#[test]
fn an_async_defer_panicking_while_the_body_panics_is_reported_and_the_body_panic_resumes() {
    panicking_defers! {j; End::Panic;
        [defer! { j.push("form panics"); panic!("test: defer panicked") }]
        [defer!(async { j.push("form panics"); Pending(1).await; panic!("test: defer panicked") });]
        [defer!(err => { j.push("form panics"); panic!("test: defer panicked") });]
        [defer!(err => async { j.push("form panics"); Pending(1).await; panic!("test: defer panicked") });]
    }
}

/// An async scope whose `with!` is followed by `$stmts` doubled once per
/// `x` (then `$tail`): one frame with hundreds of defers.
macro_rules! doubled_in_scope {
    ($j:ident; [$($stmts:tt)*] [] $($tail:tt)*) => {
        block_on(scope!(async {
            let _a = with!($j.probe("a"))?;
            $($stmts)*
            $($tail)*
        }))
    };
    ($j:ident; [$($stmts:tt)*] [x $($more:tt)*] $($tail:tt)*) => {
        doubled_in_scope!($j; [$($stmts)* $($stmts)*] [$($more)*] $($tail)*)
    };
}

/// More defers in one frame than a byte can count (320 before the early
/// `return`): each reached one runs once, the one after the `return` does
/// not.
#[test]
fn a_frame_with_hundreds_of_defers_still_knows_which_were_reached() {
    for returns_early in [true, false] {
        let j = Journal::new();
        let ran = std::cell::Cell::new(0u32);
        let r: Result<u32, Error> = doubled_in_scope!(j;
            [
                defer!(ran.set(ran.get() + 1));
                defer!(|_outcome| ran.set(ran.get() + 1));
                defer!(err => ran.set(ran.get() + 1));
                defer!(async { ran.set(ran.get() + 1) });
                defer!(err => async { ran.set(ran.get() + 1) });
            ]
            [x x x x x x]
            if returns_early {
                return Err(Error::msg("returned early"));
            }
            defer!(j.push("last defer"));
            Ok(2)
        );
        let reached = j.lines().contains(&"last defer".to_string());
        if returns_early {
            assert_eq!(r.expect_err("returns early").to_string(), "returned early");
            assert_eq!(ran.get(), 320);
            assert!(!reached, "{:?}", j.lines());
        } else {
            assert_eq!(r.expect("ok"), 2);
            assert_eq!(ran.get(), 192, "the `err =>` defers do not run on Ok");
            assert!(reached, "{:?}", j.lines());
        }
    }
}
