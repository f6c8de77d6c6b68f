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
