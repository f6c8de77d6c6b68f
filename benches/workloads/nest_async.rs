//! `scope!(async ..)` over async managers that look like users'
//! (DESIGN.md section 10): 1 and 3 managers, each pending once in its enter
//! and once in its exit (a handshake, a flush), on the Ok path and on an Err
//! path that leaves through `?` in the middle of the body; next to the async
//! block a user would write by hand (awaited enters nested in `match`es,
//! the body, each exit awaited with the body's outcome, the same merge).
//!
//! Each pair runs under two executors: the no-op-waker loop of
//! [`super::async_scope::block_on`] (no runtime, only the futures' own code)
//! and `futures::executor::block_on` (a real waker, thread parking). The
//! pending futures wake their task before returning `Pending`, as real
//! ones do, so both executors poll again at once.
//!
//! Journal, failures and body as in [`super::nest`].

#![allow(clippy::many_single_char_names, reason = "the targets of three managers, named as a user would")]

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use managed::{AsyncManage, Outcome};

use super::nest::{check, entered, exited, merge, outcome_of, record, Failed, ENTER_FAILS_FOR, EXIT_FAILS_FOR};
use super::work;

/// Pending on its first poll (after waking its task), ready on the next.
pub struct Pending(bool);

impl Pending {
    #[inline]
    pub fn once() -> Self {
        Pending(false)
    }
}

impl Future for Pending {
    type Output = ();
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// [`super::nest::Tally`] as an async manager whose enter and exit are
/// each pending once.
pub struct AsyncTally<'a> {
    hits: &'a Cell<u64>,
    id: u64,
}

impl<'a> AsyncTally<'a> {
    #[inline]
    pub fn new(hits: &'a Cell<u64>, id: u64) -> Self {
        AsyncTally { hits, id }
    }
}

impl AsyncManage for AsyncTally<'_> {
    type Target = u64;
    type Error = Failed;
    #[inline]
    async fn enter(&mut self) -> Result<&mut u64, Failed> {
        Pending::once().await;
        if self.id == ENTER_FAILS_FOR {
            return Err(Failed(self.id));
        }
        record(self.hits, entered(self.id));
        Ok(&mut self.id)
    }
    #[inline]
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Failed> {
        let ok = outcome.is_ok();
        Pending::once().await;
        record(self.hits, exited(self.id, ok));
        if self.id == EXIT_FAILS_FOR {
            Err(Failed(self.id))
        } else {
            Ok(())
        }
    }
}

/// `scope!(async)` with one manager.
// The scope's own future, returned as is: its size is the scope's.
#[allow(clippy::manual_async_fn)]
#[inline]
pub fn tally1_managed_fut(hits: &Cell<u64>, x: u64, fail: bool) -> impl Future<Output = Result<u64, Failed>> + '_ {
    managed::scope!(async move {
        let a = managed::with!(AsyncTally::new(hits, x))?;
        let v = work(x) ^ *a;
        Pending::once().await;
        let w = check(v, fail)?;
        Ok(work(w))
    })
}

/// The same by hand.
#[inline]
pub async fn tally1_hand_fut(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut ma = AsyncTally::new(hits, x);
    match ma.enter().await {
        Ok(a) => {
            let body = async {
                let v = work(x) ^ *a;
                Pending::once().await;
                let w = check(v, fail)?;
                Ok(work(w))
            }
            .await;
            let exit = ma.exit(&outcome_of(&body)).await;
            merge(body, exit)
        }
        Err(e) => Err(e),
    }
}

/// `scope!(async)` with three managers.
#[allow(clippy::manual_async_fn)]
#[inline]
pub fn tally3_managed_fut(hits: &Cell<u64>, x: u64, fail: bool) -> impl Future<Output = Result<u64, Failed>> + '_ {
    managed::scope!(async move {
        let a = managed::with!(AsyncTally::new(hits, x))?;
        let b = managed::with!(AsyncTally::new(hits, x.wrapping_add(1)))?;
        let c = managed::with!(AsyncTally::new(hits, x.wrapping_add(2)))?;
        let v = work(x) ^ *a ^ *b ^ *c;
        Pending::once().await;
        let w = check(v, fail)?;
        Ok(work(w))
    })
}

/// The same by hand: only the body is an async block (for its `?`).
#[inline]
pub async fn tally3_hand_fut(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut ma = AsyncTally::new(hits, x);
    match ma.enter().await {
        Ok(a) => {
            let mut mb = AsyncTally::new(hits, x.wrapping_add(1));
            let rest_a = match mb.enter().await {
                Ok(b) => {
                    let mut mc = AsyncTally::new(hits, x.wrapping_add(2));
                    let rest_b = match mc.enter().await {
                        Ok(c) => {
                            let body = async {
                                let v = work(x) ^ *a ^ *b ^ *c;
                                Pending::once().await;
                                let w = check(v, fail)?;
                                Ok(work(w))
                            }
                            .await;
                            let exit = mc.exit(&outcome_of(&body)).await;
                            merge(body, exit)
                        }
                        Err(e) => Err(e),
                    };
                    let exit = mb.exit(&outcome_of(&rest_b)).await;
                    merge(rest_b, exit)
                }
                Err(e) => Err(e),
            };
            let exit = ma.exit(&outcome_of(&rest_a)).await;
            merge(rest_a, exit)
        }
        Err(e) => Err(e),
    }
}

/// The measured functions: each future polled to completion by the no-op
/// loop (`_noop`) or by `futures::executor::block_on` (`_futures`).
macro_rules! runners {
    ($($fut:ident => $noop:ident, $futures:ident;)+) => {$(
        #[inline(never)]
        pub fn $noop(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
            super::async_scope::block_on($fut(hits, x, fail))
        }

        #[inline(never)]
        pub fn $futures(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
            futures::executor::block_on($fut(hits, x, fail))
        }
    )+};
}

runners! {
    tally1_managed_fut => tally1_managed_noop, tally1_managed_futures;
    tally1_hand_fut => tally1_hand_noop, tally1_hand_futures;
    tally3_managed_fut => tally3_managed_noop, tally3_managed_futures;
    tally3_hand_fut => tally3_hand_noop, tally3_hand_futures;
}

/// Every pair: (name, managers, `scope!`, hand-written).
#[allow(dead_code)] // for the tests and the facts
pub const WORKLOADS: [(&str, u64, super::nest::Side, super::nest::Side); 4] = [
    ("async1_noop", 1, tally1_managed_noop, tally1_hand_noop),
    ("async1_futures", 1, tally1_managed_futures, tally1_hand_futures),
    ("async3_noop", 3, tally3_managed_noop, tally3_hand_noop),
    ("async3_futures", 3, tally3_managed_futures, tally3_hand_futures),
];
