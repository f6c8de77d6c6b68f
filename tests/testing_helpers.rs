//! `managed::testing` as a user testing their own async manager: the
//! outcome text `Seen` gives for common error types, and `cancel_after`
//! to cancel a scope at each await point.
#![cfg(all(feature = "testing", feature = "async"))]

use managed::testing::{cancel_after, Journal, Seen};
use managed::{scope, with, Error, Outcome, SendAsyncManage};

#[test]
fn seen_shows_an_io_error_by_its_message() {
    let e = std::io::Error::other("connection reset");
    assert_eq!(Seen::of(&Outcome::err(&e)), Seen::Err("connection reset".into()));
}

/// anyhow's `Debug` appends a backtrace when `RUST_BACKTRACE` is set: the
/// text a test compares must not depend on the environment.
#[cfg(feature = "anyhow")]
#[test]
fn seen_shows_an_anyhow_error_by_its_message_whatever_rust_backtrace_says() {
    // What `RUST_BACKTRACE=1` does for anyhow; this binary's other tests
    // read no environment variable.
    std::env::set_var("RUST_LIB_BACKTRACE", "1");
    let journal = Journal::new();
    let r = futures::executor::block_on(scope!(async {
        let _db = with!(journal.probe("db"))?;
        Err::<(), _>(anyhow::anyhow!("insert failed"))
    }));
    assert_eq!(r.expect_err("the body fails").to_string(), "insert failed");
    assert_eq!(journal.seen_by("db"), Some(Seen::Err("insert failed".into())));
}

/// The manager under test: it releases a lock at exit and must not leave
/// it held when cancelled.
struct Lease<'j> {
    journal: &'j Journal,
}

impl SendAsyncManage for Lease<'_> {
    type Target = Self;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Self, Error> {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        self.journal.note("acquired");
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.journal.note(if outcome.is_cancelled() { "released (cancelled)" } else { "released" });
        Ok(())
    }
}

#[tokio::test]
async fn cancel_after_cancels_a_scope_at_each_await_point_in_a_runtime() {
    let mut cancelled_while_held = 0;
    for polls in 0..100 {
        let journal = Journal::new();
        let scope = scope!(async {
            let _outer = with!(journal.probe("outer"))?;
            let _lease = with!(Lease { journal: &journal })?;
            tokio::task::yield_now().await;
            Ok::<_, Error>(())
        });
        let finished = cancel_after(scope, polls).await;
        journal.assert_all_exited();
        let notes: Vec<String> = journal
            .events()
            .into_iter()
            .filter_map(|e| if let managed::testing::Event::Note(n) = e { Some(n) } else { None })
            .collect();
        // Whenever the lease was acquired, it was released exactly once.
        if notes.contains(&"acquired".to_string()) {
            assert_eq!(notes.iter().filter(|n| n.starts_with("released")).count(), 1, "{notes:?}");
        }
        if notes.contains(&"released (cancelled)".to_string()) {
            cancelled_while_held += 1;
        }
        if let Some(result) = finished {
            result.expect("the scope succeeds when not cancelled");
            assert!(cancelled_while_held > 0, "some cancellation fell while the lease was held");
            return;
        }
    }
    panic!("the scope never finished");
}

#[test]
fn assert_all_exited_accepts_scopes_run_one_after_another_on_one_journal() {
    let journal = Journal::new();
    for i in 0..3 {
        let r = futures::executor::block_on(scope!(async {
            let _db = with!(journal.probe("db"))?;
            let _tx = with!(journal.probe(format!("tx{i}")))?;
            if i == 1 {
                return Err(Error::msg("the second one fails"));
            }
            Ok(i)
        }));
        assert_eq!(r.is_err(), i == 1);
    }
    journal.assert_all_exited();
    assert_eq!(journal.exit_order(), ["tx0", "db", "tx1", "db", "tx2", "db"]);
}

/// The panic message of `assert_all_exited` on `journal`.
fn broken_promise(journal: &Journal) -> String {
    let caught = std::panic::catch_unwind(|| journal.assert_all_exited()).expect_err("the promise is broken");
    caught.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn assert_all_exited_says_which_probe_broke_the_promise_and_where() {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));

    // Exited out of order.
    let journal = Journal::new();
    let (mut a, mut b) = (managed::Guard::new(journal.probe("a")), managed::Guard::new(journal.probe("b")));
    a.enter().expect("enter a");
    b.enter().expect("enter b");
    a.exit(&Outcome::Ok).expect("exit a");
    b.exit(&Outcome::Ok).expect("exit b");
    let message = broken_promise(&journal);
    assert!(
        message.starts_with(
            "probes must exit exactly once, newest first: probe `a` exited (event 2) while `b`, entered after it (event 1), was still entered"
        ),
        "{message}"
    );
    // The journal follows, one event a line.
    assert!(
        message.ends_with("journal:\n    0: enter a\n    1: enter b\n    2: exit a, saw Ok\n    3: exit b, saw Ok"),
        "{message}"
    );

    // Never exited.
    let journal = Journal::new();
    let mut leaked = managed::Guard::new(journal.probe("leaked"));
    leaked.enter().expect("enter");
    std::mem::forget(leaked);
    assert!(broken_promise(&journal).contains("probe `leaked` (entered at event 0) never exited"));

    // Exited without being entered.
    let journal = Journal::new();
    managed::Manage::exit(journal.probe("ghost"), &Outcome::Ok).expect("exit");
    assert!(broken_promise(&journal).contains("probe `ghost` exited (event 0) but was not entered"));

    std::panic::set_hook(quiet);
}

/// Runs `f` on its own thread and gives its result, or panics if it has not
/// finished within a minute (a hang fails the test instead of stalling it;
/// the stuck thread is left behind).
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60)).expect("finished instead of hanging")
}

/// Pending on every poll without waking or keeping the waker; counts its
/// polls and records its drop.
struct NeverWakes {
    polls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::future::Future for NeverWakes {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::task::Poll::Pending
    }
}

impl Drop for NeverWakes {
    fn drop(&mut self) {
        self.dropped.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn cancel_after_drops_a_future_that_never_wakes_after_its_polls() {
    for polls in [0, 1, 3] {
        let counted = std::sync::Arc::default();
        let dropped = std::sync::Arc::default();
        let future = NeverWakes { polls: std::sync::Arc::clone(&counted), dropped: std::sync::Arc::clone(&dropped) };
        let finished = within_a_minute(move || futures::executor::block_on(cancel_after(future, polls)));
        assert_eq!(finished, None);
        assert_eq!(counted.load(std::sync::atomic::Ordering::SeqCst), polls, "each poll counts, woken or not");
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst), "the cancellation drops it");
    }
}

/// A scope stuck at an await that never wakes is cancelled there: its
/// managers get their cancelled exits, and `cancel_after` returns.
#[test]
fn cancel_after_cancels_a_scope_stuck_at_an_await_that_never_wakes() {
    let (finished, journal) = within_a_minute(|| {
        let journal = Journal::new();
        let scope = scope!(async {
            let _db = with!(journal.probe("db"))?; // its enter awaits once (and wakes)
            std::future::pending::<()>().await;
            Ok::<_, Error>(())
        });
        let finished = futures::executor::block_on(cancel_after(scope, 10));
        (finished.is_some(), journal)
    });
    assert!(!finished);
    journal.assert_all_exited();
    assert_eq!(journal.seen_by("db"), Some(Seen::Cancelled));
}

/// A future that keeps the waker is polled again only when woken: waiting
/// does not use up its polls.
#[test]
fn cancel_after_polls_a_future_that_kept_its_waker_only_when_woken() {
    struct WokenLater {
        polls: usize,
        waking_thread: Option<std::thread::JoinHandle<()>>,
    }
    impl std::future::Future for WokenLater {
        type Output = usize;
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<usize> {
            self.polls += 1;
            if self.waking_thread.take().is_some_and(|thread| thread.join().is_ok()) {
                return std::task::Poll::Ready(self.polls);
            }
            let waker = cx.waker().clone();
            self.waking_thread = Some(std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                waker.wake();
            }));
            std::task::Poll::Pending
        }
    }
    let polls =
        within_a_minute(|| futures::executor::block_on(cancel_after(WokenLater { polls: 0, waking_thread: None }, 2)));
    assert_eq!(polls, Some(2), "polled once, woken 20 ms later, polled again");
}
