//! What the unit tests share. The error hook is global and the tests run in
//! parallel, so every test that captures reports installs this one hook,
//! which keeps each thread's reports in that thread's list: a test sees the
//! reports made on its own thread, whichever test installed the hook last.
//! Besides, a busy-polling `block_on` and a `YieldOnce` await point for the
//! unit tests of the async stacks.

use std::cell::RefCell;
use std::string::String;
use std::vec::Vec;

std::thread_local! {
    static REPORTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn capture(report: &crate::Report<'_>) {
    REPORTS.with(|r| r.borrow_mut().push(std::format!("{:?}", report.error())));
}

/// Runs `f`; returns its result and what was reported on this thread meanwhile.
pub(crate) fn reports_of<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    let _previous = crate::set_error_hook(capture);
    REPORTS.with(|r| r.borrow_mut().clear());
    let out = f();
    (out, REPORTS.with(|r| core::mem::take(&mut *r.borrow_mut())))
}

/// Polls `f` with a no-op waker until it is ready.
pub(crate) fn block_on<F: core::future::Future>(f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    loop {
        let polled = f.as_mut().poll(&mut core::task::Context::from_waker(core::task::Waker::noop()));
        if let core::task::Poll::Ready(v) = polled {
            return v;
        }
    }
}

/// Pending once, then ready.
pub(crate) struct YieldOnce(pub(crate) bool);

impl core::future::Future for YieldOnce {
    type Output = ();
    fn poll(mut self: core::pin::Pin<&mut Self>, _: &mut core::task::Context<'_>) -> core::task::Poll<()> {
        if core::mem::replace(&mut self.0, true) {
            core::task::Poll::Ready(())
        } else {
            core::task::Poll::Pending
        }
    }
}
