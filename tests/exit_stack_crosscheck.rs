//! Every small `ExitStack` plan, checked twice:
//!
//! - against `CPython`'s `contextlib.ExitStack` (`tests/exit_stack_crosscheck.py`):
//!   the same exits run, in the same order, each sees a failure exactly when
//!   `CPython`'s does, and the run fails exactly when `CPython`'s does;
//! - against an oracle of DESIGN's error rule (written here, independently of
//!   the implementation): which failure is primary, which are suppressed, in
//!   what order, and which panic resumes.
//!
//! A plan is a body (ok, error, panic) and up to four exits, each of which
//! returns `Ok(false)`, fails, suppresses (`Ok(true)`), or panics: 1,020
//! plans. One difference is by design and modelled on the Python side: a
//! panic is never suppressed (`CPython`'s `__exit__` may swallow a
//! `BaseException`), so the Python exit that stands for "suppress" returns
//! `True` only when no panic is in flight.
//!
//! Each plan runs through `ExitStack::run`, which is Python's
//! `with ExitStack() as stack:`: the only way `CPython` runs a stack's exits
//! besides `close()`. A stack that is dropped unclosed has no `CPython`
//! counterpart to compare with: `CPython` runs nothing for a stack never
//! closed (not even when it is collected), where a dropped stack here runs
//! its exits with `Outcome::Cancelled` (`Panic` while unwinding) so that
//! none takes the early exit for a success. That is checked in
//! `tests/exit_stack_drop.rs`, not here.

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, PoisonError};

use managed::{Error, ExitStack, Outcome};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Body {
    Ok,
    Error,
    Panic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Ok,
    Fail,
    Suppress,
    Panic,
}

const ACTS: [Act; 4] = [Act::Ok, Act::Fail, Act::Suppress, Act::Panic];

/// Every plan: each body with every sequence of 1 to 4 exits (registration
/// order; they run in reverse).
fn plans() -> Vec<(Body, Vec<Act>)> {
    let mut plans = Vec::new();
    for body in [Body::Ok, Body::Error, Body::Panic] {
        for len in 1..=4u32 {
            for code in 0..4usize.pow(len) {
                let acts = (0..len).map(|i| ACTS[code / 4usize.pow(i) % 4]).collect();
                plans.push((body, acts));
            }
        }
    }
    plans
}

/// Runs a plan through `ExitStack::run`: the journal (what each exit saw)
/// and the result, described.
fn run(body: Body, acts: &[Act]) -> (Vec<String>, String) {
    let journal = Mutex::new(Vec::new());
    let log = |line: String| journal.lock().unwrap_or_else(PoisonError::into_inner).push(line);
    let result = catch_unwind(AssertUnwindSafe(|| {
        ExitStack::new().run(|stack| {
            for (i, act) in acts.iter().copied().enumerate() {
                let log = &log;
                stack.push(move |o: &Outcome<'_>| {
                    log(format!("exit {i} {}", if o.is_failure() { "failure" } else { "ok" }));
                    match act {
                        Act::Ok => Ok(false),
                        Act::Fail => Err(Error::msg(format!("e{i}"))),
                        Act::Suppress => Ok(true),
                        Act::Panic => std::panic::panic_any(format!("p{i}")),
                    }
                });
            }
            log("body".to_owned());
            match body {
                Body::Ok => Ok(()),
                Body::Error => Err(Error::msg("body")),
                Body::Panic => std::panic::panic_any("pbody".to_owned()),
            }
        })
    }));
    let described = match result {
        Ok(Ok(Some(()))) => "ok".to_owned(),
        Ok(Ok(None)) => "suppressed".to_owned(),
        Ok(Err(e)) => {
            let mut s = format!("error {e}");
            for later in e.suppressed() {
                let _ = write!(s, " +{later}");
            }
            s
        }
        Err(payload) => format!("panic {}", payload.downcast_ref::<String>().map_or("?", String::as_str)),
    };
    (journal.into_inner().unwrap_or_else(PoisonError::into_inner), described)
}

/// DESIGN's rule, written from the text (sections 3 and 5), not from the
/// implementation.
fn oracle(body: Body, acts: &[Act]) -> String {
    let mut body_error_active = body == Body::Error;
    let mut body_error_suppressed = false;
    let mut panic: Option<String> = (body == Body::Panic).then(|| "pbody".to_owned());
    let mut failures: Vec<String> = Vec::new();
    for (i, act) in acts.iter().enumerate().rev() {
        // While a panic is in flight, nothing changes: an exit's error or
        // second panic goes to the hook, and a panic is never suppressed.
        if panic.is_some() {
            continue;
        }
        match act {
            Act::Ok => {}
            Act::Fail => failures.push(format!("e{i}")),
            // Suppresses the current error: the body's and every exit
            // failure so far.
            Act::Suppress => {
                if body_error_active {
                    body_error_active = false;
                    body_error_suppressed = true;
                }
                failures.clear();
            }
            // The first panic wins; the errors it replaces go to the hook.
            Act::Panic => {
                panic = Some(format!("p{i}"));
                failures.clear();
                body_error_active = false;
            }
        }
    }
    if let Some(p) = panic {
        return format!("panic {p}");
    }
    let mut all: Vec<String> = Vec::new();
    if body_error_active {
        all.push("body".to_owned());
    }
    all.extend(failures);
    match all.split_first() {
        None if body_error_suppressed => "suppressed".to_owned(),
        None => "ok".to_owned(),
        Some((first, rest)) => rest.iter().fold(format!("error {first}"), |s, r| format!("{s} +{r}")),
    }
}

fn quietly<R>(f: impl FnOnce() -> R) -> R {
    fn ignore(_: &managed::Report<'_>) {}
    let previous_hook = managed::set_error_hook(ignore);
    let previous_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = f();
    std::panic::set_hook(previous_panic);
    managed::set_error_hook(previous_hook);
    r
}

#[test]
fn every_small_plan_follows_designs_rule_and_agrees_with_cpython() {
    let plans = plans();
    assert_eq!(plans.len(), 3 * (4 + 16 + 64 + 256));
    let runs: Vec<(Vec<String>, String)> = quietly(|| plans.iter().map(|(body, acts)| run(*body, acts)).collect());

    let mut wrong = Vec::new();
    for ((body, acts), (_, got)) in plans.iter().zip(&runs) {
        let expected = oracle(*body, acts);
        if *got != expected {
            wrong.push(format!("{body:?} {acts:?}: got {got}, DESIGN says {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{} plans break the rule:\n{}", wrong.len(), wrong[..wrong.len().min(10)].join("\n"));

    if std::process::Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI must have python3 for the CPython cross-check");
        eprintln!("skipped the CPython half: python3 is not installed");
        return;
    }
    let mut jsonl = String::new();
    for ((body, acts), (journal, got)) in plans.iter().zip(&runs) {
        let acts: Vec<String> = acts.iter().map(|a| format!("\"{a:?}\"")).collect();
        let journal: Vec<String> = journal.iter().map(|l| format!("\"{l}\"")).collect();
        let failed = got.starts_with("error") || got.starts_with("panic");
        let _ = writeln!(
            jsonl,
            r#"{{"body": "{body:?}", "acts": [{}], "journal": [{}], "failed": {failed}}}"#,
            acts.join(", "),
            journal.join(", ")
        );
    }
    let path = std::env::temp_dir().join(format!("managed-exit-stack-plans-{}.jsonl", std::process::id()));
    std::fs::write(&path, jsonl).expect("write plans");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/exit_stack_crosscheck.py");
    let out = std::process::Command::new("python3").arg(script).arg(&path).output().expect("run python3");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1020 plans agree"), "{stdout}");
}
