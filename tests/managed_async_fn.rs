//! `#[managed] async fn` with one `yield_!`: the body is one coroutine, the
//! code before `yield_!` the enter and the code after it the exit. Every
//! path: success, the block's error (`?`, `return`), its panic, enter and
//! exit failures and panics, cancellation at every await, `on_cancel`,
//! generic and borrowing fns, a place lent where it is (also one declared
//! without `mut`), `Send`, one allocation per call.

mod common;
mod counting_alloc;

use std::fmt::Debug;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{
    block_on, describe, panic_message, poll_in_place, poll_n_then_drop, quiet_panics, reports_of, Journal, Pending,
};
use managed::prelude::*;
use managed::Error;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// A connection whose statements are awaited (pending once each), and which
/// fails or panics at the statement it is told to.
struct Conn {
    journal: Journal,
    fail_on: Option<&'static str>,
    panic_on: Option<&'static str>,
    rows: Vec<&'static str>,
}

impl Conn {
    fn new(journal: &Journal) -> Self {
        Conn { journal: journal.clone(), fail_on: None, panic_on: None, rows: Vec::new() }
    }
    fn failing(mut self, sql: &'static str) -> Self {
        self.fail_on = Some(sql);
        self
    }
    fn panicking(mut self, sql: &'static str) -> Self {
        self.panic_on = Some(sql);
        self
    }
    async fn execute(&mut self, sql: &'static str) -> Result<(), io::Error> {
        self.journal.push(format!("{sql} {:?}", self.rows));
        Pending(1).await;
        assert_ne!(self.panic_on, Some(sql), "{sql} panicked");
        if self.fail_on == Some(sql) {
            return Err(io::Error::other(format!("{sql} failed")));
        }
        self.journal.push(format!("{sql} done"));
        Ok(())
    }
}

/// The expansion's `unsafe` is the macro's: a crate that forbids
/// `unsafe_code` can use the async form.
#[forbid(unsafe_code)]
mod forbidding {
    use super::{io, Conn};
    use managed::prelude::*;

    /// DESIGN section 4's example: `conn` is lent to the block and used by
    /// name after `yield_!`.
    #[managed]
    pub async fn transaction(mut conn: Conn) -> Result<Conn, io::Error> {
        if conn.fail_on == Some("CONNECT") {
            return Err(io::Error::other("refused"));
        }
        conn.execute("BEGIN").await?;
        let outcome = yield_!(conn);
        if outcome.is_ok() {
            conn.execute("COMMIT").await?;
        } else {
            conn.execute("ROLLBACK").await?;
        }
    }
}
use forbidding::transaction;

fn insert(j: &Journal, conn: Conn, rows: usize) -> impl std::future::Future<Output = Result<usize, Error>> + Send {
    let j = j.clone();
    scope!(async move {
        let conn = with!(transaction(conn))?;
        for _ in 0..rows {
            conn.rows.push("row");
        }
        Pending(1).await;
        j.push("block");
        Ok(conn.rows.len())
    })
}

#[test]
fn the_block_gets_the_lent_value_and_the_exit_sees_ok() {
    let j = Journal::new();
    assert_eq!(block_on(insert(&j, Conn::new(&j), 2)).expect("commits"), 2);
    assert_eq!(j.lines(), ["BEGIN []", "BEGIN done", "block", r#"COMMIT ["row", "row"]"#, "COMMIT done"]);
}

#[test]
fn the_blocks_error_by_question_mark_or_return_is_seen_after_the_yield() {
    let j = Journal::new();
    let r = block_on(scope!(async {
        let conn = with!(transaction(Conn::new(&j)))?;
        conn.rows.push("row");
        Err(io::Error::other("block failed"))?;
        Ok::<_, Error>(())
    }));
    assert_eq!(r.expect_err("fails").to_string(), "block failed");
    assert_eq!(j.lines()[2..], [r#"ROLLBACK ["row"]"#, "ROLLBACK done"]);

    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _conn = with!(transaction(Conn::new(&j)))?;
        return Err(Error::msg("returned"));
    }));
    assert_eq!(r.expect_err("fails").to_string(), "returned");
    assert_eq!(j.lines()[2..], ["ROLLBACK []", "ROLLBACK done"]);
}

#[test]
fn a_panic_in_the_block_is_seen_after_the_yield_then_resumes() {
    quiet_panics();
    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        block_on(scope!(async {
            let _conn = with!(transaction(Conn::new(&j)))?;
            panic!("test: block panicked");
            #[allow(unreachable_code)]
            Ok::<_, Error>(())
        }))
    }));
    assert_eq!(panic_message(&*caught.expect_err("panics")), "test: block panicked");
    assert_eq!(j.lines()[2..], ["ROLLBACK []", "ROLLBACK done"]);
}

#[test]
fn a_failure_before_the_yield_is_an_enter_failure_and_nothing_exits() {
    let j = Journal::new();
    let r = block_on(insert(&j, Conn::new(&j).failing("BEGIN"), 1));
    assert_eq!(r.expect_err("fails").to_string(), "BEGIN failed");
    assert_eq!(j.lines(), ["BEGIN []"]);

    // An explicit `return Err(..)` before the yield.
    let j = Journal::new();
    let r = block_on(insert(&j, Conn::new(&j).failing("CONNECT"), 1));
    assert_eq!(r.expect_err("fails").to_string(), "refused");
    assert!(j.lines().is_empty());
}

#[test]
fn a_failure_after_the_yield_is_the_exit_failure() {
    let j = Journal::new();
    let r = block_on(insert(&j, Conn::new(&j).failing("COMMIT"), 1));
    assert_eq!(r.expect_err("fails").to_string(), "COMMIT failed");
    assert_eq!(j.lines().last().map(String::as_str), Some(r#"COMMIT ["row"]"#));
}

#[test]
fn panics_before_and_after_the_yield_propagate() {
    quiet_panics();
    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| block_on(insert(&j, Conn::new(&j).panicking("BEGIN"), 1))));
    assert!(panic_message(&*caught.expect_err("panics")).contains("BEGIN panicked"));
    assert_eq!(j.lines(), ["BEGIN []"]);

    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| block_on(insert(&j, Conn::new(&j).panicking("COMMIT"), 1))));
    assert!(panic_message(&*caught.expect_err("panics")).contains("COMMIT panicked"));
    assert_eq!(j.lines().last().map(String::as_str), Some(r#"COMMIT ["row"]"#));
}

#[test]
fn cancelled_before_the_yield_the_coroutine_is_dropped_and_nothing_exits() {
    let j = Journal::new();
    let (out, reports) = reports_of(|| poll_n_then_drop(insert(&j, Conn::new(&j), 1), 1));
    assert!(out.is_none());
    assert_eq!(j.lines(), ["BEGIN []"]);
    assert!(reports.is_empty(), "{reports:?}");
}

#[test]
fn cancelled_in_the_block_the_code_after_the_yield_runs_once_in_place() {
    let j = Journal::new();
    let (out, reports) = reports_of(|| poll_n_then_drop(insert(&j, Conn::new(&j), 1), 2));
    assert!(out.is_none());
    // `ROLLBACK` was started with `Outcome::Cancelled`; its await was not
    // ready, so the rest is lost and reported.
    assert_eq!(j.lines(), ["BEGIN []", "BEGIN done", r#"ROLLBACK ["row"]"#]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("did not finish in place") && reports[0].contains("transaction"), "{reports:?}");
}

#[test]
fn cancelled_after_the_yield_the_interrupted_exit_is_reported() {
    let j = Journal::new();
    let (out, reports) = reports_of(|| poll_n_then_drop(insert(&j, Conn::new(&j), 1), 3));
    assert!(out.is_none());
    assert_eq!(j.lines(), ["BEGIN []", "BEGIN done", "block", r#"COMMIT ["row"]"#]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("cancelled while the exit of"), "{reports:?}");
}

#[test]
fn cancellation_at_every_await_exits_at_most_once() {
    let mut completed = false;
    for n in 0..20 {
        let j = Journal::new();
        let (out, _) = reports_of(|| poll_n_then_drop(insert(&j, Conn::new(&j), 1), n));
        let lines = j.lines();
        let exits = lines.iter().filter(|l| l.starts_with("COMMIT [") || l.starts_with("ROLLBACK [")).count();
        let entered = lines.iter().any(|l| l == "BEGIN done");
        assert_eq!(exits, usize::from(entered), "n={n}: {lines:?}");
        if let Some(result) = out {
            assert_eq!(result.expect("commits"), 1);
            completed = true;
            break;
        }
    }
    assert!(completed);
}

/// `on_cancel`'s fallback gets the lent value instead of the async code
/// after the yield running.
fn discard(conn: &mut Conn) -> Result<(), io::Error> {
    conn.journal.push(format!("discard {:?}", conn.rows));
    Err(io::Error::other("discarded"))
}

#[managed(on_cancel = discard)]
async fn guarded(mut conn: Conn) -> Result<Conn, io::Error> {
    conn.execute("BEGIN").await?;
    let outcome = yield_!(conn);
    conn.execute(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" }).await?;
}

#[test]
fn on_cancel_runs_the_sync_fallback_on_cancellation_only() {
    let j = Journal::new();
    let scope = |j: &Journal| {
        let conn = Conn::new(j);
        scope!(async move {
            let conn = with!(guarded(conn))?;
            conn.rows.push("row");
            Pending(1).await;
            Ok::<_, Error>(())
        })
    };
    let (out, reports) = reports_of(|| poll_n_then_drop(scope(&j), 2));
    assert!(out.is_none());
    assert_eq!(j.lines(), ["BEGIN []", "BEGIN done", r#"discard ["row"]"#]);
    assert_eq!(reports.len(), 1);
    assert!(reports[0].contains("discarded"), "{reports:?}");

    let j = Journal::new();
    block_on(scope(&j)).expect("commits");
    assert_eq!(j.lines()[2..], [r#"COMMIT ["row"]"#, "COMMIT done"]);
}

/// Generic, infallible (`-> T`), borrowing its arguments; a value that is
/// not a place is moved into the coroutine and lent there.
#[managed]
async fn holding<V: Debug + Clone>(value: &V, journal: &Journal) -> Vec<V> {
    let label = format!("{value:?}");
    let borrowed = &label;
    let outcome = yield_!(vec![value.clone()]);
    Pending(1).await;
    journal.push(format!("{borrowed} {}", describe(outcome)));
}

#[test]
fn generic_infallible_and_borrowing_fns_work() {
    let j = Journal::new();
    let value = 7_u8;
    let r = block_on(scope!(async {
        let held = with!(holding(&value, &j))?;
        held.push(8);
        Ok::<_, Error>(held.clone())
    }));
    assert_eq!(r.expect("ok"), [7, 8]);
    assert_eq!(j.lines(), ["7 ok"]);
}

/// An error type of the fn's own that the scope's converts from.
#[managed]
async fn counted(count: &mut u32) -> Result<u32, io::Error> {
    *count += 1;
    let mut lent = *count;
    let outcome = yield_!(lent);
    if outcome.is_err() {
        return Err(io::Error::other(format!("failed at {lent}")));
    }
    *count = lent;
}

/// An argument the coroutine owns; its drop writes `dropped`, then panics
/// when told to.
struct Owned {
    journal: Journal,
    panics_on_drop: bool,
}

impl Drop for Owned {
    fn drop(&mut self) {
        self.journal.push("dropped");
        assert!(!self.panics_on_drop, "drop panicked");
    }
}

#[managed]
async fn owning(owned: Owned) -> u8 {
    let _owned = owned;
    yield_!(1);
}

#[test]
fn a_manager_dropped_unentered_drops_its_coroutine_and_reports_a_panic_there() {
    quiet_panics();
    let j = Journal::new();
    let ((), reports) = reports_of(|| drop(owning(Owned { journal: j.clone(), panics_on_drop: false })));
    assert_eq!(j.lines(), ["dropped"]);
    assert!(reports.is_empty(), "{reports:?}");
    let ((), reports) = reports_of(|| drop(owning(Owned { journal: j.clone(), panics_on_drop: true })));
    assert_eq!(j.lines(), ["dropped", "dropped"]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].starts_with("Cancelled") && reports[0].contains("drop panicked"), "{reports:?}");
}

#[test]
fn an_explicit_return_after_the_yield_is_the_exit_result() {
    let mut count = 0;
    let r = block_on(scope!(async {
        let n = with!(counted(&mut count))?;
        *n += 10;
        Err::<(), _>(Error::msg("block failed"))
    }));
    let e = r.expect_err("fails");
    assert_eq!(e.to_string(), "block failed");
    assert_eq!(e.suppressed()[0].to_string(), "failed at 11");
    assert_eq!(count, 1);
    block_on(scope!(async {
        let n = with!(counted(&mut count))?;
        *n += 10;
        Ok::<_, Error>(())
    }))
    .expect("ok");
    assert_eq!(count, 12);
}

struct Settings {
    rows: Vec<u8>,
}

/// An `async fn` lends a place declared without `mut`, as the sync form
/// takes a value: an argument, and a field of a `let`.
#[managed]
async fn lend_argument(rows: Vec<u8>) -> Vec<u8> {
    let _ = yield_!(rows);
    assert_eq!(rows, [1, 2]);
}

#[managed]
async fn lend_field(seen: &std::cell::RefCell<usize>) -> Vec<u8> {
    let settings = Settings { rows: vec![7] };
    let _ = yield_!(settings.rows);
    *seen.borrow_mut() = settings.rows.len();
}

#[test]
fn async_fn_lends_a_place_declared_without_mut() {
    let seen = std::cell::RefCell::new(0);
    block_on(scope!(async {
        let rows = with!(lend_argument(vec![1]))?;
        rows.push(2);
        let more = with!(lend_field(&seen))?;
        more.push(8);
        Ok::<_, Error>(())
    }))
    .unwrap();
    assert_eq!(*seen.borrow(), 2);
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[test]
fn a_scope_over_a_manager_built_from_send_values_is_spawnable() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let j = Journal::new();
    let future = assert_send(insert(&j, Conn::new(&j), 3));
    assert_eq!(rt.block_on(rt.spawn(future)).expect("joined").expect("commits"), 3);
    assert_eq!(j.lines().last().map(String::as_str), Some("COMMIT done"));
}

/// Allocation-free code around the yield: what remains is the coroutine's.
#[managed]
async fn tally(total: &std::cell::Cell<u32>) -> u32 {
    let mut n = 1;
    Pending(1).await;
    let outcome = yield_!(n);
    Pending(1).await;
    if outcome.is_ok() {
        total.set(total.get() + n);
    }
}

#[test]
fn each_call_allocates_once() {
    let total = std::cell::Cell::new(0);
    let ten_scopes = || {
        for _ in 0..10 {
            poll_in_place(scope!(async {
                let n = with!(tally(&total))?;
                *n += 1;
                Ok::<_, std::convert::Infallible>(())
            }))
            .expect("ok");
        }
    };
    let ((), allocations) = counting_alloc::allocations(ten_scopes);
    assert_eq!(total.get(), 20);
    assert_eq!(allocations, 10);
}
