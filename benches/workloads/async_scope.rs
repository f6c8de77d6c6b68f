//! The async rows: `scope!(async { .. })` with one and three async managers
//! next to the async block a user would write instead, with the same
//! awaited exits, the same outcome given to each and the same merge of an
//! exit error into the body's.
//!
//! Each side is a future (`*_fut`, whose `size_of_val` `facts.rs` reports)
//! and a runner that polls it to completion with [`block_on`], a no-op-waker
//! loop: no runtime in the measured region, only the futures' own code.
//!
//! The body and every exit are pending once (a real suspension point each),
//! so the managers and the exit futures are held in the scope's future
//! across an `.await`, as in real code.
//!
//! What the baselines do *not* do, as in the sync rows: catch a panic of the
//! body (and run the exits before resuming it), and give an entered manager
//! `exit_cancelled` when the future is dropped mid-block. `scope!` does both.

use std::cell::Cell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use managed::{AsyncManage, Outcome};

use super::{merge, outcome_of, work, Failed, EXIT_FAILS_FOR};

/// Polls `future` to completion on the current thread with a no-op waker.
/// Every future here is ready on its next poll, so busy polling is exact.
#[inline]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
    }
}

/// Pending on its first poll, ready on the next.
pub struct YieldOnce(bool);

impl YieldOnce {
    #[inline]
    pub fn new() -> Self {
        YieldOnce(false)
    }
}

impl Future for YieldOnce {
    type Output = ();
    #[inline]
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

/// [`super::Counter`] as an async manager: the same counting, and an exit
/// that is pending once (a flush, say) before it finishes.
pub struct AsyncCounter<'a> {
    hits: &'a Cell<u64>,
    target: u64,
    fail_exit: bool,
}

impl<'a> AsyncCounter<'a> {
    #[inline]
    pub fn new(hits: &'a Cell<u64>, target: u64) -> Self {
        AsyncCounter { hits, target, fail_exit: target == EXIT_FAILS_FOR }
    }
}

impl AsyncManage for AsyncCounter<'_> {
    type Target = u64;
    type Error = Failed;
    #[inline]
    async fn enter(&mut self) -> Result<&mut u64, Failed> {
        self.hits.set(self.hits.get() + 1);
        Ok(&mut self.target)
    }
    #[inline]
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Failed> {
        let ok = outcome.is_ok();
        YieldOnce::new().await;
        self.hits.set(self.hits.get() + if ok { 1 } else { 2 });
        if self.fail_exit {
            Err(Failed(self.target))
        } else {
            Ok(())
        }
    }
}

/// `scope!(async)` with one manager; `fail` makes the body return an error.
// The scope's own future, returned as is: its size is the scope's (an
// `async fn` would wrap it in one more state machine).
#[allow(clippy::manual_async_fn)]
#[inline]
pub fn async1_managed_fut(hits: &Cell<u64>, x: u64, fail: bool) -> impl Future<Output = Result<u64, Failed>> + '_ {
    managed::scope!(async move {
        let a = managed::with!(AsyncCounter::new(hits, x))?;
        *a = a.wrapping_add(work(x));
        YieldOnce::new().await;
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    })
}

/// The same by hand: awaited enter, the body, the awaited exit with the
/// body's outcome, the merge.
#[inline]
pub async fn async1_hand_fut(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut m = AsyncCounter::new(hits, x);
    let a = m.enter().await?;
    let body = async {
        *a = a.wrapping_add(work(x));
        YieldOnce::new().await;
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    }
    .await;
    let exit = m.exit(&outcome_of(&body)).await;
    merge(body, exit)
}

/// `scope!(async)` with three managers, exited in reverse order.
// The scope's own future, returned as is: its size is the scope's (an
// `async fn` would wrap it in one more state machine).
#[allow(clippy::manual_async_fn)]
#[inline]
pub fn async3_managed_fut(hits: &Cell<u64>, x: u64, fail: bool) -> impl Future<Output = Result<u64, Failed>> + '_ {
    managed::scope!(async move {
        let a = managed::with!(AsyncCounter::new(hits, x))?;
        let b = managed::with!(AsyncCounter::new(hits, x + 1))?;
        let c = managed::with!(AsyncCounter::new(hits, x + 2))?;
        *a = a.wrapping_add(work(b.wrapping_add(*c)));
        YieldOnce::new().await;
        if fail {
            return Err(Failed(*a));
        }
        Ok(*a)
    })
}

/// The same by hand. A failed enter exits the managers already entered with
/// that error as their outcome, as `scope!` does.
#[inline]
pub async fn async3_hand_fut(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut ma = AsyncCounter::new(hits, x);
    let a = ma.enter().await?;
    let mut mb = AsyncCounter::new(hits, x + 1);
    let result_b = match mb.enter().await {
        Ok(b) => {
            let mut mc = AsyncCounter::new(hits, x + 2);
            let result_c = match mc.enter().await {
                Ok(c) => {
                    let body = async {
                        *a = a.wrapping_add(work(b.wrapping_add(*c)));
                        YieldOnce::new().await;
                        if fail {
                            return Err(Failed(*a));
                        }
                        Ok(*a)
                    }
                    .await;
                    let exit = mc.exit(&outcome_of(&body)).await;
                    merge(body, exit)
                }
                Err(e) => Err(e),
            };
            let exit = mb.exit(&outcome_of(&result_c)).await;
            merge(result_c, exit)
        }
        Err(e) => Err(e),
    };
    let exit = ma.exit(&outcome_of(&result_b)).await;
    merge(result_b, exit)
}

/// The body alone, without any manager: the floor both sides build on
/// (shown in BENCHMARKS.md to split a size difference into its parts).
#[allow(dead_code)] // only `facts.rs` reports it
#[inline]
pub async fn async_body_fut(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    let mut a = x;
    a = a.wrapping_add(work(x));
    YieldOnce::new().await;
    hits.set(hits.get() + 1);
    if fail {
        return Err(Failed(a));
    }
    Ok(a)
}

#[inline(never)]
pub fn async1_managed(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    block_on(async1_managed_fut(hits, x, fail))
}

#[inline(never)]
pub fn async1_hand(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    block_on(async1_hand_fut(hits, x, fail))
}

#[inline(never)]
pub fn async3_managed(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    block_on(async3_managed_fut(hits, x, fail))
}

#[inline(never)]
pub fn async3_hand(hits: &Cell<u64>, x: u64, fail: bool) -> Result<u64, Failed> {
    block_on(async3_hand_fut(hits, x, fail))
}
