//! The runtime under `scope!(async ..)`, driven by hand: what the macro's
//! tests cannot reach directly (the panic catcher on a `!Unpin` future
//! polled across `Pending`, the slot's drop rules), and the expansion
//! written out, as documentation of what the macro generates, run next to
//! the macro.

mod common;

use common::{block_on, panic_message, poll_n_then_drop, quiet_panics, reports_of, Journal, Pending};
use managed::__private::{
    catch_async, defer_async, enter_async, exit_async, finish, into_entered, merge_exit, outcome_of, AsyncKind as _,
    AsyncSlot, SyncKind as _, ViaFrom, When,
};
use managed::Error;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[test]
fn catch_async_catches_a_panic_of_a_pinned_self_borrowing_future_after_pending() {
    quiet_panics();
    // Holds a borrow of its own local across an `.await`: `!Unpin`, so the
    // catcher's pin projection is what keeps it in place.
    let future = catch_async(async {
        let local = [1u8; 32];
        let r = &local;
        Pending(2).await;
        assert!(r[0] != 1, "test: after pending");
        r.len()
    });
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(Err(panicked)) => assert!(format!("{panicked:?}").contains("test: after pending")),
        other => panic!("expected a caught panic, got {:?}", other.map(|r| r.map_err(|_| ()))),
    }
    assert_eq!(block_on(catch_async(async { 5 })).ok(), Some(5));
}

#[test]
fn a_slot_dropped_entered_cancels_its_manager_and_a_slot_never_entered_does_nothing() {
    let j = Journal::new();
    drop(AsyncSlot::<common::Probe>::empty());
    // The manager is stored when the enter is created: a body dropped
    // before polling it leaves a manager that is dropped, not exited.
    let mut fresh = AsyncSlot::empty();
    drop(enter_async(j.probe("fresh"), &mut fresh));
    drop(fresh);
    let mut slot = AsyncSlot::empty();
    block_on(async {
        enter_async(j.probe("entered").pending(0), &mut slot).await.expect("enters");
    });
    drop(slot);
    let mut failed = AsyncSlot::empty();
    assert!(block_on(enter_async(j.probe("failed").pending(0).failing_enter(), &mut failed)).is_err());
    drop(failed);
    // Never entered, or entered and then taken for its exit: nothing more.
    let mut taken = AsyncSlot::empty();
    block_on(async {
        enter_async(j.probe("taken"), &mut taken).await.expect("enters");
    });
    assert!(into_entered(taken).is_some());
    let never = AsyncSlot::<common::Probe>::empty();
    assert!(into_entered(never).is_none());
    assert_eq!(
        j.lines(),
        [
            "enter entered",
            "entered entered",
            "exit entered cancelled",
            "exited entered",
            "enter failed",
            "enter taken",
            "entered taken"
        ]
    );
}

#[test]
fn the_call_site_tag_passes_async_managers_through_and_wraps_sync_ones() {
    let j = Journal::new();
    let probe = j.probe("a");
    // An `AsyncManage` keeps its type (the tag's `wrap` is the identity).
    #[allow(clippy::needless_borrow, reason = "the borrow selects the async impl first, as in the macro")]
    let tag = (&probe).__managed_async_kind();
    let kept: common::Probe = tag.wrap(probe);
    assert_eq!(kept.name, "a");
    // A sync `Manage` is adapted.
    let sink = std::io::BufWriter::new(Vec::<u8>::new());
    let wrapped: managed::__private::SyncInAsync<std::io::BufWriter<Vec<u8>>> =
        (&sink).__managed_async_kind().wrap(sink);
    assert!(wrapped.0.buffer().is_empty());
}

/// How the body of the scope below ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Ok,
    Fail,
    Panic,
}

/// The scope that [`hand_expanded`] writes out.
#[allow(clippy::manual_async_fn, reason = "the scope's own future, as `hand_expanded` returns its block")]
fn by_macro(j: &Journal, end: End) -> impl Future<Output = Result<u32, Error>> + Send + '_ {
    managed::scope!(async move {
        let a = managed::with!(j.probe("a"))?;
        a.journal.push("A");
        managed::defer!(err => async { j.push("D") });
        let b = managed::with!(j.probe("b"))?;
        b.journal.push("B");
        match end {
            End::Ok => Ok(1),
            End::Fail => Err(Error::msg("B failed")),
            End::Panic => panic!("test: B panicked"),
        }
    })
}

/// `scope!(async { let a = with!(m0)?; A; defer!(err => async { D }); let b = with!(m1)?; B })`,
/// written out as the macro expands it: the three levels share one frame
/// (nothing between them binds a local), so one body future enters both
/// slots and counts the defer it reaches, and the exits and the defer (if
/// reached) run after it, newest first.
#[allow(clippy::manual_async_fn, reason = "written as the macro writes it: a block, not a fn")]
fn hand_expanded(j: &Journal, end: End) -> impl Future<Output = Result<u32, Error>> + Send + '_ {
    async move {
        let mut reached0: u8 = 0;
        finish({
            let (body0, entered0) = {
                let mut slot0 = AsyncSlot::empty();
                let body0 = {
                    let body1 = {
                        let (body2, entered2) = {
                            let mut slot2 = AsyncSlot::empty();
                            let body2 = catch_async(async {
                                let a = enter_async(j.probe("a"), &mut slot0).await?;
                                a.journal.push("A");
                                reached0 = 1;
                                let b = enter_async(j.probe("b"), &mut slot2).await?;
                                b.journal.push("B");
                                match end {
                                    End::Ok => Ok(1),
                                    End::Fail => Err(Error::msg("B failed")),
                                    End::Panic => panic!("test: B panicked"),
                                }
                            })
                            .await;
                            (body2, into_entered(slot2))
                        };
                        let outcome2 = outcome_of(&body2);
                        let exited2 = exit_async(entered2, &outcome2).await;
                        merge_exit(body2, exited2, ViaFrom) // the conversion the macro chooses for a probe (its error can occur)
                    };
                    defer_async(body1, reached0 >= 1, When::Err, async { j.push("D") }).await
                };
                (body0, into_entered(slot0))
            };
            let outcome0 = outcome_of(&body0);
            let exited0 = exit_async(entered0, &outcome0).await;
            merge_exit(body0, exited0, ViaFrom)
        })
    }
}

/// What one run showed: how it ended (`None`: cancelled), the journal and
/// the reports.
type Observed = (Option<Result<u32, String>>, Vec<String>, Vec<String>);

/// Polls the macro's scope (`macro_form`) or the hand expansion at most
/// `polls` times, then drops it.
fn observe(macro_form: bool, end: End, polls: usize) -> Observed {
    quiet_panics();
    let j = Journal::new();
    let (out, reports) = reports_of(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if macro_form {
                poll_n_then_drop(by_macro(&j, end), polls)
            } else {
                poll_n_then_drop(hand_expanded(&j, end), polls)
            }
        }))
    });
    let out = match out {
        Ok(out) => out.map(|r| r.map_err(|e| format!("{e} +{:?}", e.suppressed()))),
        Err(payload) => Some(Err(format!("panic {}", panic_message(&*payload)))),
    };
    (out, j.lines(), reports)
}

#[test]
fn the_hand_written_expansion_behaves_as_the_macro() {
    for end in [End::Ok, End::Fail, End::Panic] {
        // Cancelled after every number of polls, then run to its end.
        for polls in 0.. {
            let by_hand = observe(false, end, polls);
            assert_eq!(by_hand, observe(true, end, polls), "{end:?}, dropped after {polls} polls");
            if by_hand.0.is_some() {
                break;
            }
        }
    }
    let exits = |(_, lines, _): Observed| lines.into_iter().filter(|l| !l.starts_with("enter")).collect::<Vec<_>>();
    assert_eq!(
        exits(observe(false, End::Ok, usize::MAX)),
        ["A", "B", "exit b ok", "exited b", "exit a ok", "exited a"]
    );
    assert_eq!(
        exits(observe(false, End::Fail, usize::MAX)),
        ["A", "B", "exit b err(B failed)", "exited b", "D", "exit a err(B failed)", "exited a"]
    );
    // Cancelled in the middle of b's exit: b's exit is dropped and reported, a is cancelled.
    let (out, lines, reports) = observe(false, End::Ok, 3);
    assert!(out.is_none());
    assert_eq!(exits((None, lines, Vec::new())), ["A", "B", "exit b ok", "exit a cancelled", "exited a"]);
    assert_eq!(reports.len(), 1);
    assert!(reports[0].contains("cancelled while the exit of") && reports[0].contains("common::Probe"));
}
