//! What the unit tests share. The error hook is global and the tests run in
//! parallel, so every test that captures reports installs this one hook,
//! which keeps each thread's reports in that thread's list: a test sees the
//! reports made on its own thread, whichever test installed the hook last.

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
