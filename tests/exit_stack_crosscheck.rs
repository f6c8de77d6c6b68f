//! Every small `ExitStack` plan, checked twice:
//!
//! - against `CPython`'s `contextlib.ExitStack` (`tests/exit_stack_crosscheck.py`):
//!   the same enters and exits run, in the same order, each exit sees a
//!   failure exactly when `CPython`'s does; the run ends the same way (which
//!   failure is primary, which are suppressed and in what order, or which
//!   panic resumes), and what `managed` reports to the error hook is what
//!   `CPython` keeps in the exception's context chain besides it;
//! - against an oracle of DESIGN's error rule (written here, independently of
//!   the implementation): the same end and reports.
//!
//! A plan is a body (ok, error, panic) and its entries: pushed exits, each of
//! which returns `Ok(false)`, fails, suppresses (`Ok(true)`) or panics, and
//! entered managers, whose enter succeeds, fails or panics and whose exit
//! succeeds, fails or panics. Every plan of one to three entries, and every
//! plan of four pushed exits: 7,905 plans. One difference is by design and
//! modelled on the Python side: a panic is never suppressed (`CPython`'s
//! `__exit__` may swallow a `BaseException`), so the Python exit that stands
//! for "suppress" returns `True` only when no panic is in flight.
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

use managed::{Error, ExitStack, Manage, Outcome};

mod common;

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

/// One registration, in plan order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    /// `stack.push(exit)`: the exit does `Act`.
    Push(Act),
    /// `stack.enter(manager)?`: the enter does the first act, the exit the
    /// second (never `Suppress`: `Manage::exit` cannot suppress).
    Enter(Act, Act),
}

const PUSH_ACTS: [Act; 4] = [Act::Ok, Act::Fail, Act::Suppress, Act::Panic];
const MANAGER_ACTS: [Act; 3] = [Act::Ok, Act::Fail, Act::Panic];

type Plan = (Body, Vec<Entry>);

/// Every body with every sequence of one to three entries, and with every
/// sequence of four pushed exits.
fn plans() -> Vec<Plan> {
    let mut kinds: Vec<Entry> = PUSH_ACTS.iter().map(|&a| Entry::Push(a)).collect();
    for enter in MANAGER_ACTS {
        kinds.extend(MANAGER_ACTS.iter().map(|&exit| Entry::Enter(enter, exit)));
    }
    let pushes: Vec<Entry> = PUSH_ACTS.iter().map(|&a| Entry::Push(a)).collect();
    let mut plans = Vec::new();
    for body in [Body::Ok, Body::Error, Body::Panic] {
        for len in 1..=3u32 {
            plans.extend(sequences(&kinds, len).into_iter().map(|entries| (body, entries)));
        }
        plans.extend(sequences(&pushes, 4).into_iter().map(|entries| (body, entries)));
    }
    plans
}

/// Every sequence of `len` items of `of`.
fn sequences(of: &[Entry], len: u32) -> Vec<Vec<Entry>> {
    (0..of.len().pow(len)).map(|code| (0..len).map(|i| of[code / of.len().pow(i) % of.len()]).collect()).collect()
}

/// The name of a failure: what an error says and what a panic carries,
/// the same on the Python side (`body-error`, `enter1-panic`, `exit0-error`).
fn failure(place: &str, act: Act) -> String {
    match act {
        Act::Fail => format!("{place}-error"),
        Act::Panic => format!("{place}-panic"),
        Act::Ok | Act::Suppress => unreachable!("not a failure: {act:?}"),
    }
}

/// Does what `act` says: fails or panics with the failure's name.
fn act_out(place: &str, act: Act) -> Result<bool, Error> {
    match act {
        Act::Ok => Ok(false),
        Act::Suppress => Ok(true),
        Act::Fail => Err(Error::msg(failure(place, act))),
        Act::Panic => std::panic::panic_any(failure(place, act)),
    }
}

type Log<'j> = &'j dyn Fn(String);

/// An entered manager of a plan.
struct Probe<'j> {
    index: usize,
    enter: Act,
    exit: Act,
    log: Log<'j>,
    target: (),
}

impl Manage for Probe<'_> {
    type Target = ();
    type Error = Error;
    fn enter(&mut self) -> Result<&mut (), Error> {
        (self.log)(format!("enter {}", self.index));
        act_out(&format!("enter{}", self.index), self.enter)?;
        Ok(&mut self.target)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        (self.log)(format!("exit {} {}", self.index, if outcome.is_failure() { "failure" } else { "ok" }));
        act_out(&format!("exit{}", self.index), self.exit).map(|_| ())
    }
}

/// What a run did: its journal, how it ended ("ok", "suppressed",
/// "error PRIMARY +SUPPRESSED..", "panic NAME") and the failures reported to
/// the error hook, sorted (see `every_small_plan_..` for why sorted).
#[derive(Debug, PartialEq, Eq)]
struct Ran {
    journal: Vec<String>,
    end: String,
    reports: Vec<String>,
}

/// The name of the failure a report (as `common::reports_of` gives it) is
/// about.
fn failure_named_in(report: &str) -> String {
    let names: Vec<&str> = report
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|word| word.ends_with("-error") || word.ends_with("-panic"))
        .collect();
    let [name] = names[..] else { panic!("a report about one failure, got {report:?}") };
    name.to_owned()
}

/// Runs a plan through `ExitStack::run`.
fn run(body: Body, entries: &[Entry]) -> Ran {
    let journal = Mutex::new(Vec::new());
    let log = |line: String| journal.lock().unwrap_or_else(PoisonError::into_inner).push(line);
    let (result, reports) = common::reports_of(|| {
        catch_unwind(AssertUnwindSafe(|| {
            ExitStack::new().run(|stack| {
                for (index, entry) in entries.iter().copied().enumerate() {
                    let log: Log<'_> = &log;
                    match entry {
                        Entry::Push(act) => stack.push(move |o: &Outcome<'_>| {
                            log(format!("exit {index} {}", if o.is_failure() { "failure" } else { "ok" }));
                            act_out(&format!("exit{index}"), act)
                        }),
                        Entry::Enter(enter, exit) => {
                            stack.enter(Probe { index, enter, exit, log, target: () })?;
                        }
                    }
                }
                log("body".to_owned());
                act_out(
                    "body",
                    match body {
                        Body::Ok => Act::Ok,
                        Body::Error => Act::Fail,
                        Body::Panic => Act::Panic,
                    },
                )
                .map(|_| ())
            })
        }))
    });
    let end = match result {
        Ok(Ok(Some(()))) => "ok".to_owned(),
        Ok(Ok(None)) => "suppressed".to_owned(),
        Ok(Err(e)) => {
            let mut s = format!("error {e}");
            for later in e.suppressed() {
                let _ = write!(s, " +{later}");
            }
            s
        }
        Err(payload) => format!("panic {}", common::panic_message(&*payload)),
    };
    let mut reports: Vec<String> = reports.iter().map(|r| failure_named_in(r)).collect();
    reports.sort();
    Ran { journal: journal.into_inner().unwrap_or_else(PoisonError::into_inner), end, reports }
}

/// DESIGN's rule, written from the text (sections 3 and 5), not from the
/// implementation: how the run ends and what goes to the hook (sorted).
fn oracle(body: Body, entries: &[Entry]) -> (String, Vec<String>) {
    // A failed enter ends the block there: the entries before it are what
    // is registered, and its failure is how the block ended.
    let failed_enter = entries.iter().position(|e| matches!(e, Entry::Enter(Act::Fail | Act::Panic, _)));
    let (registered, block_failure) = match failed_enter {
        Some(k) => {
            let Entry::Enter(act, _) = entries[k] else { unreachable!() };
            (&entries[..k], Some((failure(&format!("enter{k}"), act), act == Act::Panic)))
        }
        None => match body {
            Body::Ok => (entries, None),
            Body::Error => (entries, Some(("body-error".to_owned(), false))),
            Body::Panic => (entries, Some(("body-panic".to_owned(), true))),
        },
    };
    let mut block_error = block_failure.as_ref().filter(|(_, panic)| !panic).map(|(name, _)| name.clone());
    let mut block_error_suppressed = false;
    let mut panic = block_failure.filter(|(_, panic)| *panic).map(|(name, _)| name);
    let mut failures: Vec<String> = Vec::new();
    let mut reports: Vec<String> = Vec::new();
    for (i, entry) in registered.iter().enumerate().rev() {
        let act = match *entry {
            Entry::Push(act) | Entry::Enter(_, act) => act,
        };
        match act {
            Act::Ok => {}
            // While a panic is in flight, nothing changes: an exit's error
            // or second panic goes to the hook.
            Act::Fail | Act::Panic if panic.is_some() => reports.push(failure(&format!("exit{i}"), act)),
            Act::Suppress if panic.is_some() => {}
            Act::Fail => failures.push(failure(&format!("exit{i}"), act)),
            // Suppresses the current error: the block's and every exit
            // failure so far.
            Act::Suppress => {
                if block_error.take().is_some() {
                    block_error_suppressed = true;
                }
                failures.clear();
            }
            // The first panic wins; the errors it replaces go to the hook.
            Act::Panic => {
                panic = Some(failure(&format!("exit{i}"), act));
                reports.extend(block_error.take());
                reports.append(&mut failures);
            }
        }
    }
    reports.sort();
    if let Some(p) = panic {
        return (format!("panic {p}"), reports);
    }
    let all: Vec<String> = block_error.into_iter().chain(failures).collect();
    let end = match all.split_first() {
        None if block_error_suppressed => "suppressed".to_owned(),
        None => "ok".to_owned(),
        Some((first, rest)) => rest.iter().fold(format!("error {first}"), |s, r| format!("{s} +{r}")),
    };
    (end, reports)
}

fn quietly<R>(f: impl FnOnce() -> R) -> R {
    let previous_panic = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = f();
    std::panic::set_hook(previous_panic);
    r
}

/// One JSON line: the plan and what our run did.
fn plan_line((body, entries): &Plan, ran: &Ran) -> String {
    let entries: Vec<String> = entries
        .iter()
        .map(|entry| match entry {
            Entry::Push(act) => format!("[\"push\", \"{act:?}\"]"),
            Entry::Enter(enter, exit) => format!("[\"enter\", \"{enter:?}\", \"{exit:?}\"]"),
        })
        .collect();
    format!(
        r#"{{"body": "{body:?}", "entries": [{}], "journal": {}, "end": "{}", "reports": {}}}"#,
        entries.join(", "),
        common::json_strings(&ran.journal),
        ran.end,
        common::json_strings(&ran.reports)
    )
}

/// The order of the reports is not compared: `CPython`'s chain is in the
/// order the failures happened, while `managed` reports an exit's error
/// during a body's panic after every exit ran (when it knows the panic will
/// resume) but an exit's panic at once; DESIGN says where each failure goes,
/// not when it gets there.
#[test]
fn every_small_plan_follows_designs_rule_and_agrees_with_cpython() {
    let plans = plans();
    assert_eq!(plans.len(), 3 * (13 + 13 * 13 + 13 * 13 * 13) + 3 * 4 * 4 * 4 * 4);
    let runs: Vec<Ran> = quietly(|| plans.iter().map(|(body, entries)| run(*body, entries)).collect());

    let mut wrong = Vec::new();
    for ((body, entries), ran) in plans.iter().zip(&runs) {
        let expected = oracle(*body, entries);
        if (&ran.end, &ran.reports) != (&expected.0, &expected.1) {
            wrong.push(format!(
                "{body:?} {entries:?}: got {} reported {:?}, DESIGN says {} reported {:?}",
                ran.end, ran.reports, expected.0, expected.1
            ));
        }
    }
    assert!(wrong.is_empty(), "{} plans break the rule:\n{}", wrong.len(), wrong[..wrong.len().min(10)].join("\n"));

    if !common::python3_or_skip_outside_ci() {
        return;
    }
    let mut jsonl = String::new();
    for (plan, ran) in plans.iter().zip(&runs) {
        jsonl.push_str(&plan_line(plan, ran));
        jsonl.push('\n');
    }
    let path = std::env::temp_dir().join(format!("managed-exit-stack-plans-{}.jsonl", std::process::id()));
    std::fs::write(&path, jsonl).expect("write plans");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/exit_stack_crosscheck.py");
    let out = std::process::Command::new("python3").arg(script).arg(&path).output().expect("run python3");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("{} plans agree", plans.len())), "{stdout}");
}
