//! `scope!(async { .. })`: awaited enters and exits in reverse order, exact
//! outcomes, the primary/suppressed rule, panics across `.await`, awaited
//! defers, sync managers and defers mixed in, and cancellation at every
//! `.await` point.

mod common;
mod counting_alloc;

use common::{block_on, panic_message, poll_in_place, poll_n_then_drop, quiet_panics, reports_of, Journal, Pending};
use counting_alloc::allocations;
use managed::prelude::*;
use managed::{Error, SendAsyncManage};
use std::future::Future;

// Counts each thread's allocations (for the size-and-allocation test).
#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn ok_path_enters_in_order_exits_in_reverse_and_returns_the_value() {
    let j = Journal::new();
    let r = block_on(scope!(async {
        let a = with!(j.probe("a"))?;
        let b = with!(j.probe("b"))?;
        a.journal.push("body");
        let _ = b;
        Ok::<_, Error>(7)
    }));
    assert_eq!(r.expect("ok"), 7);
    assert_eq!(
        j.lines(),
        ["enter a", "entered a", "enter b", "entered b", "body", "exit b ok", "exited b", "exit a ok", "exited a"]
    );
}

fn exits(j: &Journal) -> Vec<String> {
    j.lines().into_iter().filter(|l| l.starts_with("exit ")).collect()
}

#[test]
fn question_mark_leaves_the_scope_with_the_exact_error() {
    let j = Journal::new();
    let r: Result<u32, Error> = block_on(scope!(async {
        let _a = with!(j.probe("a"))?;
        let _b = with!(j.probe("b"))?;
        Pending(2).await;
        let n: u32 = "x".parse()?;
        j.push("not reached");
        Ok(n)
    }));
    let e = r.expect_err("parse fails");
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
    assert_eq!(exits(&j), ["exit b err(invalid digit found in string)", "exit a err(invalid digit found in string)"]);
    assert!(!j.lines().contains(&"not reached".to_string()));
}

#[test]
fn explicit_return_and_a_return_hidden_in_a_macro_are_exact() {
    macro_rules! bail {
        ($msg:literal) => {
            return Err(Error::msg($msg))
        };
    }
    for hidden in [false, true] {
        let j = Journal::new();
        let r: Result<(), Error> = block_on(scope!(async move {
            let _a = with!(j.probe("a"))?;
            Pending(1).await;
            if hidden {
                bail!("hidden");
            }
            return Err(Error::msg("explicit"));
        }));
        let want = if hidden { "hidden" } else { "explicit" };
        assert_eq!(r.expect_err("returns Err").to_string(), want);
    }
    // The journal moved into the scope: check the outcome with a fresh one that stays outside.
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _a = with!(j.probe("a"))?;
        bail!("hidden");
    }));
    assert!(r.is_err());
    assert_eq!(exits(&j), ["exit a err(hidden)"]);
}

#[test]
fn a_panic_across_await_runs_every_exit_then_resumes_with_the_original_payload() {
    quiet_panics();
    let j = Journal::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block_on(scope!(async {
            let _a = with!(j.probe("a"))?;
            let _b = with!(j.probe("b"))?;
            Pending(1).await;
            assert!(j.lines().len() > 100, "test: body panicked");
            Ok::<_, Error>(())
        }))
    }));
    let payload = caught.expect_err("the panic resumes");
    assert_eq!(panic_message(&*payload), "test: body panicked");
    assert_eq!(exits(&j), ["exit b panic(test: body panicked)", "exit a panic(test: body panicked)"]);
    assert_eq!(j.lines().iter().filter(|l| l.starts_with("exited")).count(), 2, "both exits finished");
}

#[test]
fn first_failure_is_primary_and_later_exit_errors_are_suppressed_in_exit_order() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _a = with!(j.probe("a").failing_exit())?;
        let _b = with!(j.probe("b").failing_exit())?;
        Err(Error::msg("body failed"))
    }));
    let e = r.expect_err("fails");
    assert_eq!(e.to_string(), "body failed");
    let suppressed: Vec<String> = e.suppressed().iter().map(ToString::to_string).collect();
    assert_eq!(suppressed, ["exit b failed", "exit a failed"]);
    assert_eq!(exits(&j), ["exit b err(body failed)", "exit a err(body failed)"]);
}

#[test]
fn when_the_body_succeeds_the_first_failing_exit_is_primary_and_later_exits_see_it() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _a = with!(j.probe("a").failing_exit())?;
        let _b = with!(j.probe("b").failing_exit())?;
        let _c = with!(j.probe("c"))?;
        Ok(())
    }));
    let e = r.expect_err("b's exit fails");
    assert_eq!(e.to_string(), "exit b failed");
    assert_eq!(e.suppressed().iter().map(ToString::to_string).collect::<Vec<_>>(), ["exit a failed"]);
    assert_eq!(exits(&j), ["exit c ok", "exit b ok", "exit a err(exit b failed)"]);
}

#[test]
fn a_failed_enter_is_not_exited_and_earlier_managers_see_its_error() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _a = with!(j.probe("a"))?;
        let _b = with!(j.probe("b").failing_enter())?;
        let _c = with!(j.probe("c"))?;
        Ok(())
    }));
    assert_eq!(r.expect_err("enter fails").to_string(), "enter b failed");
    assert_eq!(exits(&j), ["exit a err(enter b failed)"]);
    assert!(!j.lines().iter().any(|l| l.contains(" c")), "c never entered: {:?}", j.lines());
}

#[test]
fn a_panicking_enter_is_not_exited_and_earlier_managers_see_the_panic() {
    quiet_panics();
    let j = Journal::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block_on(scope!(async {
            let _a = with!(j.probe("a"))?;
            let _b = with!(j.probe("b").panicking_enter())?;
            Ok::<_, Error>(())
        }))
    }));
    assert_eq!(panic_message(&*caught.expect_err("resumes")), "enter b panicked");
    assert_eq!(exits(&j), ["exit a panic(enter b panicked)"]);
}

#[test]
fn with_without_question_mark_lets_the_rest_run_and_exits_only_entered_managers() {
    let j = Journal::new();
    let r: Result<bool, Error> = block_on(scope!(async {
        let _a = with!(j.probe("a"))?;
        let b = with!(j.probe("b").failing_enter());
        Ok(b.is_ok())
    }));
    assert!(!r.expect("the rest ran"));
    assert_eq!(exits(&j), ["exit a ok"]);
}

#[test]
fn exit_panic_on_the_ok_path_becomes_the_outcome_and_resumes_after_the_other_exits() {
    quiet_panics();
    let j = Journal::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        block_on(scope!(async {
            let _a = with!(j.probe("a"))?;
            let _b = with!(j.probe("b").panicking_exit())?;
            Ok::<_, Error>(())
        }))
    }));
    assert_eq!(panic_message(&*caught.expect_err("resumes")), "exit b panicked");
    assert_eq!(exits(&j), ["exit b ok", "exit a panic(exit b panicked)"]);
}

#[test]
fn exit_panic_while_unwinding_is_reported_and_the_original_panic_resumes() {
    quiet_panics();
    let j = Journal::new();
    let (caught, reports) = reports_of(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(scope!(async {
                let _a = with!(j.probe("a"))?;
                let _b = with!(j.probe("b").panicking_exit())?;
                Pending(1).await;
                assert!(j.lines().len() > 100, "test: original");
                Ok::<_, Error>(())
            }))
        }))
    });
    assert_eq!(panic_message(&*caught.expect_err("resumes")), "test: original");
    assert_eq!(exits(&j), ["exit b panic(test: original)", "exit a panic(test: original)"]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].starts_with("FailedWhileUnwinding") && reports[0].contains("exit b panicked"));
}

/// A sync manager (`Manage`), used inside async scopes.
struct SyncProbe {
    name: &'static str,
    journal: Journal,
    fail_exit: bool,
}

impl Manage for SyncProbe {
    type Target = Journal;
    type Error = Error;
    fn enter(&mut self) -> Result<&mut Journal, Error> {
        self.journal.push(format!("enter {}", self.name));
        Ok(&mut self.journal)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.journal.push(format!("exit {} {}", self.name, common::describe(outcome)));
        if self.fail_exit {
            Err(Error::msg(format!("exit {} failed", self.name)))
        } else {
            Ok(())
        }
    }
}

#[test]
fn sync_managers_and_sync_and_async_defers_mix_in_one_lifo_order() {
    fn run(fail: bool) -> (Result<(), Error>, Vec<String>) {
        let j = Journal::new();
        let r = block_on(scope!(async {
            let s = with!(SyncProbe { name: "s", journal: j.clone(), fail_exit: false })?;
            s.push("sync target lent");
            defer!(j.push("defer always"));
            let _a = with!(j.probe("a"))?;
            defer!(err => async {
                Pending(1).await;
                j.push("async errdefer");
            });
            defer!(async { j.push("async defer") });
            defer!(ok => j.push("ok defer"));
            defer!(|outcome| j.push(format!("closure defer {}", common::describe(outcome))));
            if fail {
                return Err(Error::msg("failed"));
            }
            Ok(())
        }));
        (r, j.lines().into_iter().filter(|l| !l.starts_with("enter") && !l.starts_with("exited")).collect())
    }
    let (r, lines) = run(false);
    r.expect("nothing failed");
    assert_eq!(
        lines,
        ["sync target lent", "closure defer ok", "ok defer", "async defer", "exit a ok", "defer always", "exit s ok"]
    );
    let (r, lines) = run(true);
    let e = r.expect_err("the body's error");
    assert_eq!((e.to_string().as_str(), e.suppressed().len()), ("failed", 0));
    assert_eq!(
        lines,
        [
            "sync target lent",
            "closure defer err(failed)",
            "async defer",
            "async errdefer",
            "exit a err(failed)",
            "defer always",
            "exit s err(failed)"
        ]
    );
}

#[test]
fn a_defer_may_borrow_what_the_body_borrows_mutably() {
    let mut count = 0;
    let r: Result<(), Error> = block_on(scope!(async {
        defer!(async { count += 10 });
        count += 1;
        Pending(1).await;
        count += 1;
        Ok(())
    }));
    r.expect("ok");
    assert_eq!(count, 12);
}

#[test]
fn a_sync_exit_error_in_an_async_scope_is_returned() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        with!(SyncProbe { name: "s", journal: j.clone(), fail_exit: true })?;
        Ok(())
    }));
    assert_eq!(r.expect_err("exit fails").to_string(), "exit s failed");
}

/// The scope of the cancellation tests: three managers, each pending once
/// in enter and in exit, and an `.await` between each.
#[allow(clippy::manual_async_fn, reason = "the scope is the future: no extra state machine around it")]
fn three_managers(j: &Journal) -> impl Future<Output = Result<u32, Error>> + Send + '_ {
    scope!(async move {
        let a = with!(j.probe("a"))?;
        Pending(1).await;
        let b = with!(j.probe("b"))?;
        Pending(1).await;
        defer!(async { j.push("defer") });
        let c = with!(j.probe("c"))?;
        Pending(1).await;
        a.journal.push("body");
        let _ = (b, c);
        Ok(3)
    })
}

/// [`three_managers`] with a local bound between the levels (`let pause =
/// ..`), so that they do not share one body future: the levels `a`, `b`
/// and `defer + c` each get their own (see `expand_async.rs`, frames). The
/// same awaits, the same journal.
#[allow(clippy::manual_async_fn, reason = "the scope is the future: no extra state machine around it")]
fn three_managers_in_three_frames(j: &Journal) -> impl Future<Output = Result<u32, Error>> + Send + '_ {
    scope!(async move {
        let a = with!(j.probe("a"))?;
        let pause = Pending(1);
        pause.await;
        let b = with!(j.probe("b"))?;
        let pause = Pending(1);
        pause.await;
        defer!(async { j.push("defer") });
        let c = with!(j.probe("c"))?;
        Pending(1).await;
        a.journal.push("body");
        let _ = (b, c);
        Ok(3)
    })
}

type Boxed<'j> = std::pin::Pin<Box<dyn Future<Output = Result<u32, Error>> + Send + 'j>>;

#[test]
fn cancellation_at_every_await_point_exits_each_entered_manager_once_newest_first() {
    cancel_at_every_await_point(|j| Box::pin(three_managers(j)));
}

#[test]
fn cancellation_at_every_await_point_across_nested_frames_is_the_same() {
    cancel_at_every_await_point(|j| Box::pin(three_managers_in_three_frames(j)));
}

fn cancel_at_every_await_point(scope: for<'j> fn(&'j Journal) -> Boxed<'j>) {
    let names = ["a", "b", "c"];
    let mut completed_at = None;
    for n in 0..200 {
        let j = Journal::new();
        let (out, reports) = reports_of(|| poll_n_then_drop(scope(&j), n));
        let lines = j.lines();
        if let Some(result) = out {
            assert_eq!(result.expect("completes"), 3);
            assert!(reports.is_empty(), "{reports:?}");
            completed_at = Some(n);
            break;
        }
        let count = |prefix: &str, name: &str| lines.iter().filter(|l| **l == format!("{prefix} {name}")).count();
        let exit_starts = |name: &str| lines.iter().filter(|l| l.starts_with(&format!("exit {name} "))).count();
        let mut cancelled_order = Vec::new();
        let mut interrupted = 0;
        for name in names {
            let entered = count("entered", name);
            assert!(entered <= 1);
            assert_eq!(exit_starts(name), entered, "n={n}: {name} entered {entered}x: {lines:?}");
            if lines.contains(&format!("exit {name} cancelled")) {
                cancelled_order.push(lines.iter().position(|l| *l == format!("exit {name} cancelled")));
            }
            // An exit that had started when the scope was dropped is
            // reported, not run again.
            if lines.iter().any(|l| l.starts_with(&format!("exit {name} ")) && !l.ends_with("cancelled"))
                && count("exited", name) == 0
            {
                interrupted += 1;
            }
        }
        let reported = reports.iter().filter(|r| r.contains("cancelled while the exit of")).count();
        assert_eq!(interrupted, reported, "n={n}: {lines:?} {reports:?}");
        assert_eq!(reports.len(), reported, "nothing else is reported: {reports:?}");
        // Newest first: the cancelled exits appear in reverse order of entry.
        let entered_order: Vec<&str> =
            names.into_iter().filter(|name| lines.contains(&format!("exit {name} cancelled"))).collect();
        let mut positions: Vec<usize> = cancelled_order.into_iter().flatten().collect();
        let sorted_desc = {
            let mut p = positions.clone();
            p.sort_unstable_by(|x, y| y.cmp(x));
            p
        };
        assert_eq!(positions, sorted_desc, "n={n}: cancelled exits of {entered_order:?} not newest first: {lines:?}");
        positions.clear();
        // Defers do not run on cancellation: the defer ran only if the
        // body had finished (its normal place), before anything was cancelled.
        if let Some(at) = lines.iter().position(|l| l == "defer") {
            assert!(lines.contains(&"body".to_string()), "n={n}: {lines:?}");
            let first_cancelled = lines.iter().position(|l| l.ends_with("cancelled")).unwrap_or(usize::MAX);
            assert!(at < first_cancelled, "n={n}: {lines:?}");
        } else {
            let c_exited_normally = lines.contains(&"exit c ok".to_string()) && count("exited", "c") == 1;
            assert!(!c_exited_normally, "n={n}: the defer was due after c's exit: {lines:?}");
        }
    }
    // Nine points where the scope can be dropped (each enter, each await of
    // the body, each exit is pending once), plus the start: the tenth poll completes.
    assert_eq!(completed_at, Some(10));
}

#[test]
fn cancelled_while_entering_the_manager_is_not_exited() {
    let j = Journal::new();
    // One poll: `a` is entering (pending) when the scope is dropped.
    assert!(poll_n_then_drop(three_managers(&j), 1).is_none());
    assert_eq!(j.lines(), ["enter a"]);
}

#[test]
fn cancelled_mid_body_all_three_get_a_cancelled_exit_newest_first() {
    let j = Journal::new();
    let mut n = 0;
    while !j.lines().contains(&"entered c".to_string()) {
        n += 1;
        let fresh = Journal::new();
        assert!(poll_n_then_drop(three_managers(&fresh), n).is_none());
        if fresh.lines().contains(&"entered c".to_string()) {
            assert_eq!(exits(&fresh), ["exit c cancelled", "exit b cancelled", "exit a cancelled"]);
            j.push("entered c");
        }
    }
}

#[test]
fn cancelled_while_an_async_defer_runs_reports_it_and_the_failure_the_scope_carried() {
    let j = Journal::new();
    let (out, reports) = reports_of(|| {
        poll_n_then_drop(
            scope!(async {
                let _a = with!(j.probe("a").pending(0))?;
                defer!(err => async { Pending(1).await; j.push("defer done") });
                let _b = with!(j.probe("b").pending(0).failing_exit())?;
                Err::<(), _>(Error::msg("body failed"))
            }),
            1,
        )
    });
    assert!(out.is_none(), "dropped while the defer was pending");
    assert_eq!(exits(&j), ["exit b err(body failed)", "exit a cancelled"]);
    assert!(!j.lines().contains(&"defer done".to_string()));
    // The body's error (with b's exit error attached) was in the scope's
    // result, dropped with the scope: it goes to the hook, as it does when
    // an exit is interrupted.
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].starts_with("Cancelled") && reports[0].contains("async `defer!` was running"), "{reports:?}");
    assert!(reports[1].contains("carrying this failure") && reports[1].contains("body failed"), "{reports:?}");
}

/// A manager whose exit must wait even when cancelled: the default policy
/// cannot finish it in one poll, and says so through the error hook.
struct SlowExit(Journal);

impl AsyncManage for SlowExit {
    type Target = Self;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Self, Error> {
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.0.push(format!("exit {}", common::describe(outcome)));
        Pending(1).await;
        self.0.push("exited");
        Ok(())
    }
}

#[test]
fn default_policy_reports_a_cancelled_exit_that_did_not_finish_in_one_poll() {
    let j = Journal::new();
    let (_, reports) = reports_of(|| {
        poll_n_then_drop(
            scope!(async {
                with!(SlowExit(j.clone()))?;
                Pending(5).await;
                Ok::<_, Error>(())
            }),
            2,
        )
    });
    assert_eq!(j.lines(), ["exit cancelled"]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].starts_with("Cancelled") && reports[0].contains("SlowExit") && reports[0].contains("did not finish")
    );
}

#[test]
fn a_sync_manager_in_a_cancelled_async_scope_exits_in_place_with_cancelled() {
    let j = Journal::new();
    assert!(poll_n_then_drop(
        scope!(async {
            with!(SyncProbe { name: "s", journal: j.clone(), fail_exit: false })?;
            Pending(5).await;
            Ok::<_, Error>(())
        }),
        1,
    )
    .is_none());
    assert_eq!(j.lines(), ["enter s", "exit s cancelled"]);
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[test]
fn a_scope_over_send_managers_is_a_send_future_spawnable_on_a_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let j = Journal::new();
    let inner = j.clone();
    let future = assert_send(scope!(async move {
        let a = with!(inner.probe("a"))?;
        tokio::task::yield_now().await;
        let _b = with!(inner.probe("b"))?;
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        defer!(err => async { tokio::task::yield_now().await });
        a.journal.push(format!("body on {:?}", std::thread::current().name()));
        Ok::<_, Error>(5)
    }));
    let handle = rt.spawn(future);
    assert_eq!(rt.block_on(handle).expect("joined").expect("ok"), 5);
    assert_eq!(exits(&j), ["exit b ok", "exit a ok"]);
}

#[test]
fn the_scope_future_is_small_and_does_not_allocate_per_scope() {
    struct Plain(u64);
    impl SendAsyncManage for Plain {
        type Target = u64;
        type Error = Error;
        async fn enter(&mut self) -> Result<&mut u64, Error> {
            Ok(&mut self.0)
        }
        async fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
            Ok(())
        }
    }
    let scoped = scope!(async {
        let n = with!(Plain(1))?;
        Pending(1).await;
        *n += 1;
        Ok::<_, Error>(*n)
    });
    let by_hand = async {
        let mut m = Plain(1);
        let n = SendAsyncManage::enter(&mut m).await?;
        Pending(1).await;
        *n += 1;
        let v = *n;
        SendAsyncManage::exit(m, &Outcome::Ok).await?;
        Ok::<_, Error>(v)
    };
    let (one, one_by_hand) = (std::mem::size_of_val(&scoped), std::mem::size_of_val(&by_hand));
    let three = scope!(async {
        let first = with!(Plain(1))?;
        let second = with!(Plain(2))?;
        let third = with!(Plain(3))?;
        Pending(1).await;
        Ok::<_, Error>(*first + *second + *third)
    });
    let three_by_hand = async {
        let (mut first, mut second, mut third) = (Plain(1), Plain(2), Plain(3));
        let one = *SendAsyncManage::enter(&mut first).await?;
        let two = *SendAsyncManage::enter(&mut second).await?;
        let three = *SendAsyncManage::enter(&mut third).await?;
        Pending(1).await;
        SendAsyncManage::exit(third, &Outcome::Ok).await?;
        SendAsyncManage::exit(second, &Outcome::Ok).await?;
        SendAsyncManage::exit(first, &Outcome::Ok).await?;
        Ok::<_, Error>(one + two + three)
    };
    let (three_size, three_by_hand_size) = (std::mem::size_of_val(&three), std::mem::size_of_val(&three_by_hand));
    println!("one manager: scope! future {one} bytes, hand-written {one_by_hand} bytes");
    println!("three managers: scope! future {three_size} bytes, hand-written {three_by_hand_size} bytes");
    // Polled in place with a no-op waker: whatever allocates is the scope.
    assert_eq!(allocations(|| poll_in_place(scoped).expect("ok")), (2, 0));
    assert_eq!(allocations(|| poll_in_place(by_hand).expect("ok")), (2, 0));
    assert_eq!(allocations(|| poll_in_place(three).expect("ok")), (6, 0));
    assert_eq!(allocations(|| poll_in_place(three_by_hand).expect("ok")), (6, 0));
    // Each manager is held once (it moves from its slot into its exit
    // future). Per level, the scope adds what an exit must see and what it
    // must not lose: the outcome and the body's result, a few words.
    let word = std::mem::size_of::<usize>();
    assert!(one <= one_by_hand + std::mem::size_of::<Outcome<'_>>() + 2 * word, "{one} vs {one_by_hand}");
    assert!(
        three_size <= three_by_hand_size + 3 * (std::mem::size_of::<Outcome<'_>>() + 3 * word),
        "{three_size} vs {three_by_hand_size}"
    );
}

/// A manager whose `exit_cancelled` override panics.
struct PanickyCancel;

impl AsyncManage for PanickyCancel {
    type Target = Self;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Self, Error> {
        Ok(self)
    }
    async fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
        Ok(())
    }
    fn exit_cancelled(self) {
        panic!("test: exit_cancelled panicked");
    }
}

#[test]
fn a_panicking_exit_cancelled_is_reported_and_the_older_managers_are_still_cancelled() {
    quiet_panics();
    let j = Journal::new();
    let (out, reports) = reports_of(|| {
        poll_n_then_drop(
            scope!(async {
                with!(j.probe("a").pending(0))?;
                with!(PanickyCancel)?;
                Pending(5).await;
                Ok::<_, Error>(())
            }),
            1,
        )
    });
    assert!(out.is_none());
    assert_eq!(exits(&j), ["exit a cancelled"]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].starts_with("Cancelled") && reports[0].contains("test: exit_cancelled panicked"));
}

/// A local that writes to the journal when dropped.
struct Noisy<'j>(&'j Journal, &'static str);

impl Drop for Noisy<'_> {
    fn drop(&mut self) {
        self.0.push(format!("drop {}", self.1));
    }
}

/// A local of the body lives until after the exits of the managers entered
/// after it, as in a sync scope: `b` exits under `lock`, then `lock` is
/// dropped, then `a` exits. (A local between two levels keeps them in
/// separate body futures; levels with nothing between them share one.)
#[test]
fn a_local_between_two_managers_is_dropped_after_the_newer_exit_and_before_the_older() {
    let j = Journal::new();
    let r: Result<u32, Error> = block_on(scope!(async {
        let _a = with!(j.probe("a"))?;
        let _lock = Noisy(&j, "lock");
        let _b = with!(j.probe("b"))?;
        let _c = with!(j.probe("c"))?;
        j.push("body");
        Ok(1)
    }));
    assert_eq!(r.expect("ok"), 1);
    let lines: Vec<String> = j.lines().into_iter().filter(|l| !l.starts_with("enter")).collect();
    assert_eq!(lines, ["body", "exit c ok", "exited c", "exit b ok", "exited b", "drop lock", "exit a ok", "exited a"]);
}

/// The same when the local comes from a statement macro (which may hide a
/// `let`, as `tokio::pin!` does).
#[test]
fn a_local_bound_by_a_statement_macro_is_kept_until_the_newer_exits_ran() {
    macro_rules! bind_noisy {
        ($name:ident, $j:expr) => {
            let $name = Noisy($j, stringify!($name));
        };
    }
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let _a = with!(j.probe("a"))?;
        bind_noisy!(guard, &j);
        let _b = with!(j.probe("b"))?;
        let _ = &guard;
        Ok(())
    }));
    r.expect("ok");
    let lines: Vec<String> =
        j.lines().into_iter().filter(|l| l.starts_with("exit ") || l.starts_with("drop")).collect();
    assert_eq!(lines, ["exit b ok", "drop guard", "exit a ok"]);
}

/// An async manager over a borrowed buffer: writes its name into it on
/// enter and exit.
struct Borrowing<'b>(&'b mut Vec<&'static str>, &'static str);

impl managed::AsyncManage for Borrowing<'_> {
    type Target = Vec<&'static str>;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Vec<&'static str>, Error> {
        self.0.push(self.1);
        Pending(1).await;
        Ok(&mut *self.0)
    }
    async fn exit(self, outcome: &managed::Outcome<'_>) -> Result<(), Error> {
        Pending(1).await;
        self.0.push(if outcome.is_ok() { "exit ok" } else { "exit failed" });
        Ok(())
    }
}

/// Managers may borrow what the body holds: a local of the body (the
/// manager then lives in the body's own frame), and the target of an
/// earlier `with!`, through it (`with!(Borrowing(log, ..))` reborrows the
/// target) or as a borrow of the binding itself (`&mut outer`).
#[test]
#[allow(clippy::needless_borrow, reason = "`&mut outer` borrows the binding itself: the case tested")]
fn managers_may_borrow_a_local_of_the_body_and_an_earlier_target() {
    let mut outer_log = Vec::new();
    let r: Result<Vec<&'static str>, Error> = block_on(scope!(async {
        let mut local = Vec::new();
        let log = with!(Borrowing(&mut local, "local"))?;
        let nested = with!(Borrowing(log, "nested"))?;
        nested.push("body");
        let mut outer = with!(Borrowing(&mut outer_log, "outer"))?;
        let by_ref = with!(Borrowing(&mut outer, "by ref"))?;
        by_ref.push("inner body");
        Ok(nested.clone())
    }));
    assert_eq!(r.expect("ok"), ["local", "nested", "body"]);
    assert_eq!(outer_log, ["outer", "by ref", "inner body", "exit ok", "exit ok"]);
}

/// A `defer!` that names a target of an earlier `with!` runs while that
/// target is still borrowed by the body (its own body future), after the
/// newer exits.
#[test]
fn a_defer_naming_an_earlier_target_runs_with_the_target_still_alive() {
    let j = Journal::new();
    let r: Result<(), Error> = block_on(scope!(async {
        let a = with!(j.probe("a"))?;
        defer!(err => a.journal.push("defer sees a"));
        let _b = with!(j.probe("b"))?;
        Err(Error::msg("fails"))
    }));
    assert_eq!(r.expect_err("fails").to_string(), "fails");
    let lines: Vec<String> = j.lines().into_iter().filter(|l| !l.starts_with("enter")).collect();
    assert_eq!(lines, ["exit b err(fails)", "exited b", "defer sees a", "exit a err(fails)", "exited a"]);
}

/// A panic in the innermost of several body futures (one level per frame,
/// then levels sharing one) runs every exit with the panic as the outcome,
/// newest first, and resumes the original payload once.
#[test]
fn a_panic_crosses_nested_and_shared_frames_with_its_payload() {
    quiet_panics();
    let j = Journal::new();
    let (caught, reports) = reports_of(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(scope!(async {
                let _a = with!(j.probe("a"))?;
                let _lock = Noisy(&j, "lock");
                let _b = with!(j.probe("b"))?;
                let _c = with!(j.probe("c").failing_exit())?;
                Pending(1).await;
                assert!(j.lines().len() >= 100, "test: panicked in the body");
                Ok::<(), Error>(())
            }))
        }))
    });
    let payload = caught.expect_err("the panic resumes");
    assert_eq!(panic_message(&*payload), "test: panicked in the body");
    // c's failed exit could not be returned: reported, the panic stays.
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("exit c failed"), "{reports:?}");
    let lines: Vec<String> = j.lines().into_iter().filter(|l| !l.starts_with("enter")).collect();
    assert_eq!(
        lines,
        [
            "exit c panic(test: panicked in the body)",
            "exited c",
            "exit b panic(test: panicked in the body)",
            "exited b",
            "drop lock",
            "exit a panic(test: panicked in the body)",
            "exited a",
        ]
    );
}
