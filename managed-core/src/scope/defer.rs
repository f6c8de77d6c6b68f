//! The guards a standalone `defer!` (outside `scope!`) expands to.

#[cfg(feature = "std")]
use super::rules::catch;
#[cfg(feature = "std")]
use crate::ReportKind;

/// The guard `defer! { .. }` expands to outside `scope!`: runs once, when
/// dropped (at the end of the enclosing block, also while unwinding).
#[must_use = "a defer guard runs when dropped; bind it"]
pub struct Defer<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Defer<F> {
    /// Arms the guard.
    #[inline]
    pub fn new(f: F) -> Self {
        Defer(Some(f))
    }
}

impl<F: FnOnce()> Drop for Defer<F> {
    #[inline]
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// The guard `defer!(panic => ..)` expands to outside `scope!`: runs only if
/// the block is unwinding. A panic of the deferred code is caught and
/// reported (a second panic escaping a drop during unwinding would abort).
#[cfg(feature = "std")]
#[must_use = "a defer guard runs when dropped; bind it"]
pub struct DeferOnPanic<F: FnOnce()>(Option<F>);

#[cfg(feature = "std")]
impl<F: FnOnce()> DeferOnPanic<F> {
    /// Arms the guard.
    #[inline]
    pub fn new(f: F) -> Self {
        DeferOnPanic(Some(f))
    }
}

#[cfg(feature = "std")]
impl<F: FnOnce()> Drop for DeferOnPanic<F> {
    // Kept small (the catch and the report are in a cold function taking
    // `f` by value), so that the `Option` stays out of memory on the path
    // that does not panic, except for the one store LLVM needs because it
    // does not inline this drop into the landing pad (BENCHMARKS.md,
    // `defer!(panic => ..)`; `ManuallyDrop` or `inline(always)` do not
    // remove it).
    #[inline]
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(f) = self.0.take() {
                run_while_unwinding(f);
            }
        }
    }
}

/// The body of [`DeferOnPanic`]: runs `f`, reporting its panic (a second
/// panic escaping a drop during unwinding would abort).
#[cfg(feature = "std")]
#[cold]
#[inline(never)]
fn run_while_unwinding<F: FnOnce()>(f: F) {
    if let Err(panic) = catch(f) {
        crate::report(ReportKind::FailedWhileUnwinding, &panic);
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::DeferOnPanic;
    use std::cell::Cell;
    use std::rc::Rc;

    /// The closure of a `DeferOnPanic` is called only while unwinding, and
    /// dropped exactly once either way (the `Rc` it owns counts it): the
    /// split of its drop into a small check and a cold call keeps both.
    #[test]
    fn defer_on_panic_runs_only_while_unwinding() {
        let ran = Rc::new(Cell::new(0));
        let owned = Rc::new(());
        {
            let (ran, owned) = (Rc::clone(&ran), Rc::clone(&owned));
            let _guard = DeferOnPanic::new(move || {
                assert_eq!(Rc::strong_count(&owned), 2, "called once, owning its Rc");
                ran.set(ran.get() + 1);
            });
        }
        assert_eq!(ran.get(), 0, "ran without a panic");
        assert_eq!(Rc::strong_count(&owned), 1, "closure not dropped exactly once");

        let (r, o) = (Rc::clone(&ran), Rc::clone(&owned));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _guard = DeferOnPanic::new(move || {
                assert_eq!(Rc::strong_count(&o), 2, "called once, owning its Rc");
                r.set(r.get() + 1);
            });
            std::panic::resume_unwind(std::boxed::Box::new("boom"));
        }));
        assert!(unwound.is_err());
        assert_eq!(ran.get(), 1, "did not run while unwinding");
        assert_eq!(Rc::strong_count(&owned), 1, "closure not dropped exactly once");
    }
}
