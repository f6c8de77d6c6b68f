//! The async forms of `#[managed]`: an impl block with `async fn`
//! `#[enter]`/`#[exit]` (an `AsyncManage` impl) and a struct with
//! `#[managed(async)]` fields, through `scope!(async { .. })`: ok, `?`,
//! `return`, panic, enter failure and rollback, aggregated exit failures,
//! cancellation, `Send`ness.
#![cfg(feature = "async")]
#![allow(
    clippy::unused_async,
    clippy::unnecessary_wraps,
    reason = "the test managers spell out each signature form #[managed] accepts"
)]

mod common;

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use common::{block_on, describe, panic_message, poll_n_then_drop, quiet_panics, reports_of, Act, Journal, Pending};
use managed::prelude::*;
use managed::Error;

fn error_type_is<E, M: AsyncManage<Error = E>>(_: &M) {}

/// Not `Send` (an `Rc`): the generated impl is `AsyncManage`, which needs
/// no `Send`.
struct Conn {
    log: Rc<RefCell<Vec<String>>>,
    fail_enter: bool,
    fail_exit: bool,
    queries: u32,
}

impl Conn {
    fn new(log: &Rc<RefCell<Vec<String>>>) -> Self {
        Conn { log: Rc::clone(log), fail_enter: false, fail_exit: false, queries: 0 }
    }
    fn push(&self, line: impl Into<String>) {
        self.log.borrow_mut().push(line.into());
    }
}

#[managed]
impl Conn {
    #[enter]
    async fn connect(&mut self) -> Result<(), io::Error> {
        self.push("connect");
        Pending(1).await;
        if self.fail_enter {
            return Err(io::Error::other("refused"));
        }
        self.push("connected");
        Ok(())
    }

    #[exit]
    async fn close(self, outcome: &Outcome<'_>) -> Result<(), io::Error> {
        self.push(format!("close {} after {} queries", describe(outcome), self.queries));
        Pending(1).await;
        if self.fail_exit {
            return Err(io::Error::other("close failed"));
        }
        Ok(())
    }
}

fn log() -> Rc<RefCell<Vec<String>>> {
    Rc::new(RefCell::new(Vec::new()))
}

fn lines(log: &Rc<RefCell<Vec<String>>>) -> Vec<String> {
    log.borrow().clone()
}

#[test]
fn an_async_impl_block_is_an_async_manager_with_the_written_error_type() {
    let l = log();
    error_type_is::<io::Error, _>(&Conn::new(&l));
    let r: Result<u32, io::Error> = block_on(scope!(async {
        let c = with!(Conn::new(&l))?;
        c.queries += 2;
        Pending(1).await;
        Ok(c.queries)
    }));
    assert_eq!(r.expect("ok"), 2);
    assert_eq!(lines(&l), ["connect", "connected", "close ok after 2 queries"]);
}

#[test]
fn question_mark_and_return_leave_the_scope_and_the_exit_sees_the_error() {
    let l = log();
    let r: Result<u32, io::Error> = block_on(scope!(async {
        let c = with!(Conn::new(&l))?;
        c.queries = 1;
        Err(io::Error::other("query failed"))?;
        Ok(0)
    }));
    assert_eq!(r.expect_err("failed").to_string(), "query failed");
    assert!(lines(&l)[2].starts_with("close err("), "{:?}", lines(&l));

    let l = log();
    let r: Result<u32, io::Error> = block_on(scope!(async {
        let c = with!(Conn::new(&l))?;
        if c.queries == 0 {
            return Ok(7);
        }
        Ok(0)
    }));
    assert_eq!(r.expect("returned"), 7);
    assert_eq!(lines(&l).last().map(String::as_str), Some("close ok after 0 queries"));
}

#[test]
fn a_panic_in_the_body_is_seen_by_the_async_exit_then_resumes() {
    quiet_panics();
    let l = log();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), io::Error> = block_on(scope!(async {
            let _c = with!(Conn::new(&l))?;
            Pending(1).await;
            panic!("test: body panicked");
        }));
    }));
    assert_eq!(panic_message(&*caught.expect_err("the panic resumes")), "test: body panicked");
    assert_eq!(lines(&l).last().map(String::as_str), Some("close panic(test: body panicked) after 0 queries"));
}

#[test]
fn a_failed_async_enter_is_not_exited_and_an_exit_error_is_returned() {
    let l = log();
    let r: Result<(), io::Error> = block_on(scope!(async {
        let _c = with!(Conn { fail_enter: true, ..Conn::new(&l) })?;
        Ok(())
    }));
    assert_eq!(r.expect_err("refused").to_string(), "refused");
    assert_eq!(lines(&l), ["connect"]);

    let l = log();
    let r: Result<(), io::Error> = block_on(scope!(async {
        let _c = with!(Conn { fail_exit: true, ..Conn::new(&l) })?;
        Ok(())
    }));
    assert_eq!(r.expect_err("close failed").to_string(), "close failed");
}

/// `Send`, no `#[enter]`, an exit without the outcome and returning `()`:
/// the error type is `Infallible`.
struct Ticket(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

#[managed]
impl Ticket {
    #[exit]
    async fn release(self) {
        tokio::task::yield_now().await;
        self.0.lock().expect("unpoisoned").push(format!("released on {:?}", std::thread::current().name()));
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[test]
fn a_scope_over_a_send_generated_async_manager_is_spawnable() {
    error_type_is::<std::convert::Infallible, _>(&Ticket(std::sync::Arc::default()));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let inner = std::sync::Arc::clone(&log);
    let future = assert_send(scope!(async move {
        let t = with!(Ticket(inner))?;
        tokio::task::yield_now().await;
        t.0.lock().expect("unpoisoned").push("body".into());
        Ok::<_, Error>(3)
    }));
    assert_eq!(rt.block_on(rt.spawn(future)).expect("joined").expect("ok"), 3);
    let log = log.lock().expect("unpoisoned").clone();
    assert_eq!(log.len(), 2);
    assert!(log[1].starts_with("released on"), "{log:?}");
}

/// A sync manager journaling into the same journal as the async probes.
struct SyncProbe {
    name: &'static str,
    journal: Journal,
    fail_exit: bool,
}

#[managed]
impl SyncProbe {
    #[enter]
    fn open(&mut self) -> Result<(), Error> {
        self.journal.push(format!("entered {}", self.name));
        Ok(())
    }
    #[exit]
    fn close(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.journal.push(format!("exit {} {}", self.name, describe(outcome)));
        if self.fail_exit {
            return Err(Error::msg(format!("exit {} failed", self.name)));
        }
        Ok(())
    }
}

/// Two async fields around a sync one, plus plain data and hooks.
#[managed(enter = Stack::started, exit = Stack::stopping)]
struct Stack {
    #[managed(async)]
    a: common::Probe,
    #[managed]
    b: SyncProbe,
    #[managed(async)]
    c: common::Probe,
    journal: Journal,
}

impl Stack {
    fn new(j: &Journal) -> Self {
        Stack::with(j, |p| p, |p| p, false)
    }
    fn with(
        j: &Journal,
        a: impl FnOnce(common::Probe) -> common::Probe,
        c: impl FnOnce(common::Probe) -> common::Probe,
        fail_b: bool,
    ) -> Self {
        Stack {
            a: a(j.probe("a")).into(),
            b: SyncProbe { name: "b", journal: j.clone(), fail_exit: fail_b }.into(),
            c: c(j.probe("c")).into(),
            journal: j.clone(),
        }
    }
    fn started(&mut self) {
        self.journal.push("started");
    }
    fn stopping(&mut self, outcome: &Outcome<'_>) {
        self.journal.push(format!("stopping {}", describe(outcome)));
    }
}

fn exits(j: &Journal) -> Vec<String> {
    j.lines().into_iter().filter(|l| l.starts_with("exit ") || l.starts_with("stopping")).collect()
}

#[test]
fn an_async_struct_enters_its_fields_in_order_and_exits_them_in_reverse() {
    let j = Journal::new();
    let r: Result<u32, Error> = block_on(scope!(async {
        let s = with!(Stack::new(&j))?;
        s.journal.push("body");
        Ok(1)
    }));
    assert_eq!(r.expect("ok"), 1);
    assert_eq!(
        j.lines(),
        [
            "enter a",
            "entered a",
            "entered b",
            "enter c",
            "entered c",
            "started",
            "body",
            "stopping ok",
            "exit c ok",
            "exited c",
            "exit b ok",
            "exit a ok",
            "exited a"
        ]
    );
}

#[test]
fn a_failed_field_enter_rolls_back_the_entered_fields_newest_first() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _s = with!(Stack::with(&j, |a| a, common::Probe::failing_enter, false))?;
        j.push("body");
        Ok(())
    }));
    assert_eq!(r.expect_err("c fails").to_string(), "enter c failed");
    assert_eq!(exits(&j), ["exit b err(enter c failed)", "exit a err(enter c failed)"]);
    assert!(!j.lines().contains(&"body".to_string()));
}

#[test]
fn a_panicking_field_enter_rolls_back_then_resumes() {
    quiet_panics();
    let j = Journal::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), Error> = block_on(scope!(async {
            let _s = with!(Stack::with(&j, |a| a, common::Probe::panicking_enter, false))?;
            Ok(())
        }));
    }));
    assert_eq!(panic_message(&*caught.expect_err("resumes")), "enter c panicked");
    assert_eq!(exits(&j), ["exit b panic(enter c panicked)", "exit a panic(enter c panicked)"]);
}

#[test]
fn every_field_exits_and_the_first_failure_is_primary_with_the_rest_suppressed() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _s = with!(Stack::with(&j, common::Probe::failing_exit, common::Probe::failing_exit, true))?;
        Ok(())
    }));
    let e = r.expect_err("exits failed");
    assert_eq!(e.to_string(), "exit c failed");
    let suppressed: Vec<String> = e.suppressed().iter().map(ToString::to_string).collect();
    assert_eq!(suppressed, ["exit b failed", "exit a failed"]);
    assert_eq!(exits(&j), ["stopping ok", "exit c ok", "exit b err(exit c failed)", "exit a err(exit c failed)"]);
}

#[test]
fn a_body_error_reaches_every_field_and_exit_errors_are_attached_to_it() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _s = with!(Stack::with(&j, common::Probe::failing_exit, |c| c, false))?;
        Err(Error::msg("body failed"))?;
        Ok(())
    }));
    let e = r.expect_err("body failed");
    assert_eq!(e.to_string(), "body failed");
    assert_eq!(e.suppressed().iter().map(ToString::to_string).collect::<Vec<_>>(), ["exit a failed"]);
    assert_eq!(
        exits(&j),
        ["stopping err(body failed)", "exit c err(body failed)", "exit b err(body failed)", "exit a err(body failed)"]
    );
}

#[allow(
    clippy::manual_async_fn,
    reason = "the `+ Send` bound is the point: the scope over the struct is a Send future"
)]
fn scope_over_stack(j: &Journal) -> impl std::future::Future<Output = Result<u32, Error>> + Send + '_ {
    scope!(async move {
        let s = with!(Stack::new(j))?;
        Pending(1).await;
        s.journal.push("body");
        Ok(2)
    })
}

#[test]
fn cancellation_at_every_point_exits_each_entered_field_once_newest_first() {
    let mut completed_at = None;
    for n in 0..100 {
        let j = Journal::new();
        let (out, reports) = reports_of(|| poll_n_then_drop(scope_over_stack(&j), n));
        let lines = j.lines();
        if let Some(result) = out {
            assert_eq!(result.expect("completes"), 2);
            completed_at = Some(n);
            break;
        }
        let entered: Vec<&str> =
            ["a", "b", "c"].into_iter().filter(|name| lines.contains(&format!("entered {name}"))).collect();
        for name in &entered {
            let exit_starts = lines.iter().filter(|l| l.starts_with(&format!("exit {name} "))).count();
            assert_eq!(exit_starts, 1, "n={n}: {name} exited {exit_starts}x: {lines:?}");
        }
        for name in ["a", "b", "c"] {
            if !entered.contains(&name) {
                assert!(!lines.iter().any(|l| l.starts_with(&format!("exit {name} "))), "n={n}: {lines:?}");
            }
        }
        // Cancelled exits come newest first.
        let cancelled: Vec<String> = lines.iter().filter(|l| l.ends_with(" cancelled")).cloned().collect();
        let mut sorted = cancelled.clone();
        sorted.sort_by(|x, y| y.cmp(x));
        assert_eq!(cancelled, sorted, "n={n}: {lines:?}");
        // Only an exit interrupted mid-way is reported.
        assert!(reports.iter().all(|r| r.contains("cancelled while the exit of")), "n={n}: {reports:?}");
    }
    assert!(completed_at.is_some());
}

#[test]
fn cancelled_while_the_struct_enters_its_entered_fields_get_a_cancelled_exit() {
    let j = Journal::new();
    // Poll 1: `a` pending; poll 2: `a` entered, `b` entered, `c` pending.
    assert!(poll_n_then_drop(scope_over_stack(&j), 2).is_none());
    assert_eq!(
        j.lines(),
        ["enter a", "entered a", "entered b", "enter c", "exit b cancelled", "exit a cancelled", "exited a"]
    );
}

#[test]
fn cancelled_in_the_body_every_field_and_the_hook_see_cancelled_newest_first() {
    let j = Journal::new();
    assert!(poll_n_then_drop(scope_over_stack(&j), 3).is_none());
    assert_eq!(exits(&j), ["stopping cancelled", "exit c cancelled", "exit b cancelled", "exit a cancelled"]);
}

/// Found by the fault matrix: when the struct's exit was cancelled after a
/// field had failed, that failure (carried by the struct, not yet returned)
/// was dropped without a report.
#[test]
fn a_struct_cancelled_mid_exit_reports_the_failure_its_fields_carried() {
    let j = Journal::new();
    let scope = scope!(async {
        let _s = with!(Stack::with(&j, |a| a, |c| c, true))?;
        Ok::<_, Error>(())
    });
    // Poll 1: `a` enters (pending); 2: `c` enters (pending); 3: `c` exits
    // (pending); 4: `b` fails, `a` exits (pending): dropped there.
    let (out, reports) = reports_of(|| poll_n_then_drop(scope, 4));
    assert!(out.is_none());
    assert_eq!(exits(&j), ["stopping ok", "exit c ok", "exit b ok", "exit a err(exit b failed)"]);
    assert!(!j.lines().contains(&"exited a".to_string()), "{:?}", j.lines());
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].contains("cancelled while the exit of"), "{reports:?}");
    assert!(reports[1].starts_with("Cancelled") && reports[1].contains("exit b failed"), "{reports:?}");
}

/// Found by the fault matrix: cancelled while rolling back a failed enter,
/// the struct dropped the enter's failure without a report.
#[test]
fn a_struct_cancelled_mid_rollback_reports_the_enter_failure() {
    let j = Journal::new();
    let scope = scope!(async {
        let _s = with!(Stack::with(&j, |a| a, common::Probe::failing_enter, false))?;
        Ok::<_, Error>(())
    });
    // Poll 1: `a` enters (pending); 2: `c` enters (pending); 3: `c` fails,
    // `b` is rolled back, `a` exits (pending): dropped there.
    let (out, reports) = reports_of(|| poll_n_then_drop(scope, 3));
    assert!(out.is_none());
    assert_eq!(exits(&j), ["exit b err(enter c failed)", "exit a err(enter c failed)"]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].starts_with("Cancelled") && reports[0].contains("enter c failed"), "{reports:?}");
}

/// A generic async struct: `S<M>` is an async manager when `M` is.
#[managed]
struct Wrapper<M> {
    #[managed(async)]
    inner: M,
}

#[test]
fn a_generic_field_makes_a_conditional_async_manager() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let w = with!(Wrapper { inner: j.probe("w").into() })?;
        w.inner.journal.push("body");
        Ok(())
    }));
    r.expect("ok");
    assert_eq!(exits(&j), ["exit w ok"]);
}

// ---- Async hooks: `#[managed(enter = async path, exit = async path)]` ----

/// An async field, a sync field and two async hooks (a pooled connection
/// configured after connecting and flushed before closing). The enter hook
/// returns `io::Error`, converted like a sync hook's.
#[managed(enter = async Pooled::configure, exit = async Pooled::flush)]
struct Pooled {
    #[managed(async)]
    conn: common::Probe,
    #[managed]
    span: SyncProbe,
    journal: Journal,
    on_enter: Act,
    on_exit: Act,
    /// The exit hook awaits even when the struct was cancelled.
    flush_waits: bool,
}

impl Pooled {
    fn new(j: &Journal) -> Self {
        Pooled {
            conn: j.probe("a").into(),
            span: SyncProbe { name: "b", journal: j.clone(), fail_exit: false }.into(),
            journal: j.clone(),
            on_enter: Act::Succeed,
            on_exit: Act::Succeed,
            flush_waits: false,
        }
    }

    fn failing_fields(mut self) -> Self {
        let j = self.journal.clone();
        self.conn = j.probe("a").failing_exit().into();
        self.span = SyncProbe { name: "b", journal: j, fail_exit: true }.into();
        self
    }

    async fn configure(&mut self) -> Result<(), io::Error> {
        self.journal.push("configure");
        Pending(1).await;
        self.journal.push("configured");
        match self.on_enter {
            Act::Succeed => Ok(()),
            Act::Fail => Err(io::Error::other("configure failed")),
            Act::Panic => panic!("configure panicked"),
        }
    }

    async fn flush(&mut self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.journal.push(format!("flush {}", describe(outcome)));
        if !outcome.is_cancelled() || self.flush_waits {
            Pending(1).await;
        }
        self.journal.push("flushed");
        match self.on_exit {
            Act::Succeed => Ok(()),
            Act::Fail => Err(Error::msg("flush failed")),
            Act::Panic => panic!("flush panicked"),
        }
    }
}

fn pooled(j: &Journal, edit: impl FnOnce(&mut Pooled)) -> Pooled {
    let mut p = Pooled::new(j);
    edit(&mut p);
    p
}

#[test]
fn async_hooks_run_after_every_field_entered_and_before_any_field_exits() {
    let j = Journal::new();
    error_type_is::<Error, _>(&Pooled::new(&j));
    let r: Result<u32, Error> = block_on(scope!(async {
        let p = with!(Pooled::new(&j))?;
        Pending(1).await;
        p.journal.push("body");
        Ok(1)
    }));
    assert_eq!(r.expect("ok"), 1);
    assert_eq!(
        j.lines(),
        [
            "enter a",
            "entered a",
            "entered b",
            "configure",
            "configured",
            "body",
            "flush ok",
            "flushed",
            "exit b ok",
            "exit a ok",
            "exited a"
        ]
    );
}

fn hook_exits(j: &Journal) -> Vec<String> {
    j.lines().into_iter().filter(|l| l.starts_with("exit ") || l.starts_with("flush ")).collect()
}

#[test]
fn a_failed_async_enter_hook_rolls_the_fields_back_each_seeing_the_failure() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _p = with!(pooled(&j, |p| p.on_enter = Act::Fail))?;
        j.push("body");
        Ok(())
    }));
    assert_eq!(r.expect_err("the hook failed").to_string(), "configure failed");
    // The exit hook does not run: the struct never entered.
    assert_eq!(hook_exits(&j), ["exit b err(configure failed)", "exit a err(configure failed)"]);
    assert!(!j.lines().contains(&"body".to_string()));
}

#[test]
fn a_failed_async_enter_hook_keeps_the_rollback_errors_as_suppressed() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _p = with!(pooled(&j, |p| p.on_enter = Act::Fail).failing_fields())?;
        Ok(())
    }));
    let e = r.expect_err("the hook failed");
    assert_eq!(e.to_string(), "configure failed");
    assert_eq!(e.suppressed().iter().map(ToString::to_string).collect::<Vec<_>>(), ["exit b failed", "exit a failed"]);
}

#[test]
fn a_panicking_async_enter_hook_rolls_the_fields_back_then_resumes() {
    quiet_panics();
    let j = Journal::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), Error> = block_on(scope!(async {
            let _p = with!(pooled(&j, |p| p.on_enter = Act::Panic))?;
            Ok(())
        }));
    }));
    assert_eq!(panic_message(&*caught.expect_err("resumes")), "configure panicked");
    assert_eq!(hook_exits(&j), ["exit b panic(configure panicked)", "exit a panic(configure panicked)"]);
}

#[test]
fn a_failed_async_exit_hook_is_primary_and_the_fields_failures_are_suppressed() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _p = with!(pooled(&j, |p| p.on_exit = Act::Fail).failing_fields())?;
        Ok(())
    }));
    let e = r.expect_err("the hook failed");
    assert_eq!(e.to_string(), "flush failed");
    assert_eq!(e.suppressed().iter().map(ToString::to_string).collect::<Vec<_>>(), ["exit b failed", "exit a failed"]);
    assert_eq!(hook_exits(&j), ["flush ok", "exit b err(flush failed)", "exit a err(flush failed)"]);
}

#[test]
fn the_async_exit_hook_sees_the_body_error_and_its_own_error_is_attached() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _p = with!(pooled(&j, |p| p.on_exit = Act::Fail))?;
        Err(Error::msg("body failed"))?;
        Ok(())
    }));
    let e = r.expect_err("the body failed");
    assert_eq!(e.to_string(), "body failed");
    assert_eq!(e.suppressed().iter().map(ToString::to_string).collect::<Vec<_>>(), ["flush failed"]);
    assert_eq!(hook_exits(&j), ["flush err(body failed)", "exit b err(body failed)", "exit a err(body failed)"]);
}

/// A scope over `Pooled` whose async exit hook panics and whose fields fail
/// their exits, its body panicking too when `body_panics`: the message of
/// the panic that resumes, and the reports.
fn exit_with_a_panicking_hook(j: &Journal, body_panics: bool) -> (String, Vec<String>) {
    quiet_panics();
    let (caught, reports) = reports_of(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _: Result<(), Error> = block_on(scope!(async {
                let _p = with!(pooled(j, |p| p.on_exit = Act::Panic).failing_fields())?;
                assert!(!body_panics, "body panicked");
                Ok(())
            }));
        }))
    });
    (panic_message(&*caught.expect_err("resumes")), reports)
}

#[test]
fn a_panicking_async_exit_hook_resumes_after_every_field_exited_and_their_failures_are_reported() {
    let j = Journal::new();
    let (resumed, reports) = exit_with_a_panicking_hook(&j, false);
    assert_eq!(resumed, "flush panicked");
    assert_eq!(hook_exits(&j), ["flush ok", "exit b panic(flush panicked)", "exit a panic(flush panicked)"]);
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].contains("exit b failed") && reports[1].contains("exit a failed"), "{reports:?}");
}

#[test]
fn an_async_exit_hook_panicking_while_the_body_unwinds_is_reported_at_once_and_the_body_panic_resumes() {
    let j = Journal::new();
    let (resumed, reports) = exit_with_a_panicking_hook(&j, true);
    assert_eq!(resumed, "body panicked");
    assert_eq!(
        hook_exits(&j),
        ["flush panic(body panicked)", "exit b panic(body panicked)", "exit a panic(body panicked)"]
    );
    // The hook's panic is reported when it happens, not carried (it would
    // resume from the struct's exit and be reported after the fields'
    // failures); the fields' failures follow, merged, once the struct's
    // exit returns them.
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].starts_with("FailedWhileUnwinding") && reports[0].contains("flush panicked"), "{reports:?}");
    assert!(reports[1].contains("exit b failed") && reports[1].contains("exit a failed"), "{reports:?}");
}

#[allow(
    clippy::manual_async_fn,
    reason = "the `+ Send` bound is the point: the scope over the struct is a Send future"
)]
fn scope_over_pooled(p: Pooled) -> impl std::future::Future<Output = Result<u32, Error>> + Send + 'static {
    scope!(async move {
        let p = with!(p)?;
        Pending(1).await;
        p.journal.push("body");
        Ok(2)
    })
}

#[test]
fn cancelled_while_the_async_enter_hook_is_pending_every_field_gets_a_cancelled_exit() {
    let j = Journal::new();
    // Poll 1: `a` pending; poll 2: `a` and `b` entered, the hook pending.
    let (out, reports) = reports_of(|| poll_n_then_drop(scope_over_pooled(Pooled::new(&j)), 2));
    assert!(out.is_none());
    assert_eq!(
        j.lines(),
        ["enter a", "entered a", "entered b", "configure", "exit b cancelled", "exit a cancelled", "exited a"]
    );
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn cancelled_while_the_async_exit_hook_is_pending_every_field_gets_a_cancelled_exit() {
    let j = Journal::new();
    // Poll 3: the body pending; poll 4: the exit hook pending.
    let (out, reports) = reports_of(|| poll_n_then_drop(scope_over_pooled(Pooled::new(&j)), 4));
    assert!(out.is_none());
    assert_eq!(hook_exits(&j), ["flush ok", "exit b cancelled", "exit a cancelled"]);
    assert!(!j.lines().contains(&"flushed".to_string()), "{:?}", j.lines());
    // The scope reports the exit it could not finish; the struct carried
    // no failure of its own.
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("cancelled while the exit of"), "{reports:?}");
}

#[test]
fn cancelled_after_the_async_exit_hook_failed_its_error_is_reported_not_lost() {
    let j = Journal::new();
    // Poll 5: the hook failed, `b` exited, `a`'s exit pending.
    let (out, reports) = reports_of(|| poll_n_then_drop(scope_over_pooled(pooled(&j, |p| p.on_exit = Act::Fail)), 5));
    assert!(out.is_none());
    assert_eq!(hook_exits(&j), ["flush ok", "exit b err(flush failed)", "exit a err(flush failed)"]);
    assert!(reports.iter().any(|r| r.contains("carrying this failure") && r.contains("flush failed")), "{reports:?}");
}

#[test]
fn a_cancelled_struct_polls_its_async_exit_hook_once_then_cancels_the_fields_newest_first() {
    let j = Journal::new();
    // Poll 3: the body pending; the struct gets `exit_cancelled`.
    let (out, reports) = reports_of(|| poll_n_then_drop(scope_over_pooled(Pooled::new(&j)), 3));
    assert!(out.is_none());
    assert_eq!(hook_exits(&j), ["flush cancelled", "exit b cancelled", "exit a cancelled"]);
    assert!(j.lines().contains(&"flushed".to_string()), "finished in its one poll: {:?}", j.lines());
    assert!(reports.is_empty(), "{reports:?}");

    // A hook that waits is not finished by its one poll: the rest is lost,
    // and reported; the fields are still cancelled.
    let j = Journal::new();
    let (out, reports) = reports_of(|| poll_n_then_drop(scope_over_pooled(pooled(&j, |p| p.flush_waits = true)), 3));
    assert!(out.is_none());
    assert_eq!(hook_exits(&j), ["flush cancelled", "exit b cancelled", "exit a cancelled"]);
    assert!(!j.lines().contains(&"flushed".to_string()), "{:?}", j.lines());
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].starts_with("Cancelled") && reports[0].contains("async exit hook of"), "{reports:?}");

    // A hook that fails or panics on cancellation is reported.
    quiet_panics();
    for (act, text) in [(Act::Fail, "flush failed"), (Act::Panic, "flush panicked")] {
        let j = Journal::new();
        let (out, reports) = reports_of(|| poll_n_then_drop(scope_over_pooled(pooled(&j, |p| p.on_exit = act)), 3));
        assert!(out.is_none());
        assert_eq!(hook_exits(&j), ["flush cancelled", "exit b cancelled", "exit a cancelled"]);
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(reports[0].starts_with("Cancelled") && reports[0].contains(text), "{reports:?}");
    }
}

#[test]
fn cancellation_at_every_point_of_a_struct_with_async_hooks_exits_each_entered_field_once() {
    let mut completed_at = None;
    for n in 0..100 {
        let j = Journal::new();
        let (out, _reports) = reports_of(|| poll_n_then_drop(scope_over_pooled(Pooled::new(&j)), n));
        let lines = j.lines();
        if let Some(result) = out {
            assert_eq!(result.expect("completes"), 2);
            completed_at = Some(n);
            break;
        }
        for name in ["a", "b"] {
            let entered = lines.contains(&format!("entered {name}"));
            let exits = lines.iter().filter(|l| l.starts_with(&format!("exit {name} "))).count();
            assert_eq!(exits, usize::from(entered), "n={n}: {name}: {lines:?}");
        }
        // The exit hook runs at most once, and only after the enter hook finished.
        let flushes = lines.iter().filter(|l| l.starts_with("flush ")).count();
        assert!(flushes <= 1 && (flushes == 0 || lines.contains(&"configured".to_string())), "n={n}: {lines:?}");
        // Every exit hook comes before every field exit.
        if let Some(flush) = lines.iter().position(|l| l.starts_with("flush ")) {
            assert!(lines[..flush].iter().all(|l| !l.starts_with("exit ")), "n={n}: {lines:?}");
        }
    }
    // Polls: `a` enters, the enter hook, the body, the exit hook, `a` exits.
    assert_eq!(completed_at, Some(6));
}

#[test]
fn a_send_struct_with_async_hooks_stays_spawnable() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let j = Journal::new();
    let future = assert_send(scope_over_pooled(Pooled::new(&j)));
    assert_eq!(rt.block_on(rt.spawn(future)).expect("joined").expect("ok"), 2);
    assert_eq!(hook_exits(&j), ["flush ok", "exit b ok", "exit a ok"]);
}

/// Only sync fields and an async hook returning `()`: the hook makes it an
/// async manager.
#[managed(exit = async Audited::record)]
struct Audited {
    #[managed]
    span: SyncProbe,
    journal: Journal,
}

impl Audited {
    async fn record(&mut self, outcome: &Outcome<'_>) {
        Pending(1).await;
        self.journal.push(format!("recorded {}", describe(outcome)));
    }
}

/// No field at all, a sync enter hook and an async exit hook.
#[managed(enter = Hooks::start, exit = async Hooks::stop)]
struct Hooks {
    journal: Journal,
}

impl Hooks {
    fn start(&mut self) {
        self.journal.push("start");
    }
    async fn stop(&mut self, _outcome: &Outcome<'_>) -> Result<(), io::Error> {
        Pending(1).await;
        self.journal.push("stop");
        Ok(())
    }
}

#[test]
fn an_async_hook_makes_a_struct_of_sync_fields_an_async_manager() {
    let j = Journal::new();
    error_type_is::<Error, _>(&Hooks { journal: j.clone() });
    let r: Result<(), Error> = block_on(scope!(async {
        let a = with!(Audited {
            span: SyncProbe { name: "b", journal: j.clone(), fail_exit: false }.into(),
            journal: j.clone()
        })?;
        let h = with!(Hooks { journal: j.clone() })?;
        h.journal.push("body");
        a.journal.push("body done");
        Err(Error::msg("body failed"))
    }));
    assert_eq!(r.expect_err("failed").to_string(), "body failed");
    assert_eq!(
        j.lines(),
        ["entered b", "start", "body", "body done", "stop", "recorded err(body failed)", "exit b err(body failed)"]
    );
}

/// A generic struct with an async hook named through `Self`.
#[managed(exit = async Self::done)]
struct Counted<M> {
    #[managed(async)]
    inner: M,
    journal: Journal,
}

impl<M> Counted<M> {
    async fn done(&mut self, outcome: &Outcome<'_>) {
        Pending(1).await;
        self.journal.push(format!("done {}", describe(outcome)));
    }
}

#[test]
fn a_generic_struct_takes_an_async_hook() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _c = with!(Counted { inner: j.probe("w").into(), journal: j.clone() })?;
        Ok(())
    }));
    r.expect("ok");
    assert_eq!(j.lines(), ["enter w", "entered w", "done ok", "exit w ok", "exited w"]);
}
