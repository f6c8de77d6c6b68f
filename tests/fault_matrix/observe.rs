//! Observing a run: its journal, how it ended, and what reached the error
//! hook, in the comparable form of [`Run`].

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll, Waker};

use managed::testing::Journal;
use managed::Error;

use crate::plan::{tokens, End, Flavor, Run, Top};
use crate::run::{run, Ctx};

thread_local! {
    /// Each report's kind and its failure's `Debug`.
    static REPORTS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

fn capture(report: &managed::Report<'_>) {
    REPORTS.with(|r| r.borrow_mut().push((format!("{:?}", report.kind()), format!("{:?}", report.error()))));
}

/// Suppressed errors in exit order, flattened depth first.
fn flatten(e: &Error, out: &mut Vec<String>) {
    for s in e.suppressed() {
        out.push(s.to_string());
        flatten(s, out);
    }
}

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

/// Runs `top`, polling with a no-op waker; with `cancel_at = Some(n)` the
/// run is dropped when its `n`-th poll is pending. A panic escaping a poll
/// ends the run. Checks the journal's exit discipline.
pub fn observe(top: &Top, cancel_at: Option<usize>) -> Run {
    quiet_panics();
    managed::set_error_hook(capture);
    REPORTS.with(|r| r.borrow_mut().clear());
    let ctx = Ctx { j: Journal::new() };
    let mut cx = Context::from_waker(Waker::noop());
    let mut end = None;
    let mut pending = 0;
    {
        let mut fut = run(&ctx, top);
        while end.is_none() && cancel_at.is_none_or(|n| pending < n) {
            match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
                Ok(Poll::Ready(r)) => end = Some(Ok(r)),
                Ok(Poll::Pending) => pending += 1,
                Err(payload) => end = Some(Err(payload)),
            }
            assert!(top.flavor() == Flavor::Async || end.is_some(), "a sync construct was pending");
        }
        // Dropping an unfinished run cancels it.
    }
    let cancelled = end.is_none();
    let end = end.map_or_else(|| End::Panic("cancelled".into()), end_of);
    ctx.j.assert_all_exited();
    let mut reports: Vec<(String, String)> = REPORTS
        .with(|r| std::mem::take(&mut *r.borrow_mut()))
        .into_iter()
        .flat_map(|(kind, text)| {
            let found = tokens(&text);
            let found = if found.is_empty() { vec![format!("unrecognised report: {text}")] } else { found };
            found.into_iter().map(move |t| (kind.clone(), t))
        })
        .collect();
    reports.sort();
    let polls = (top.flavor() == Flavor::Async && !cancelled).then_some(pending);
    Run { journal: ctx.j.events(), end, reports, polls, cancelled }
}

/// Keeps the panics the plans script from printing (a failing assertion
/// still prints).
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let p = info.payload();
            let msg = p.downcast_ref::<&str>().copied().or_else(|| p.downcast_ref::<String>().map(String::as_str));
            let scripted = msg.is_some_and(|m| m.len() < 32 && tokens(m).len() == 1);
            if !scripted {
                default(info);
            }
        }));
    });
}
