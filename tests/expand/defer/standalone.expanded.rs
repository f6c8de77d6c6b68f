use managed::defer;
fn log(message: &str) {
    let _ = message;
}
/// Outside a `scope!`, `defer!` is a drop guard bound to the end of the
/// block: `defer! { .. }` always runs, `defer!(panic => ..)` only while
/// unwinding.
pub fn work() {
    let __managed_defer0 = ::managed::__private::Defer::new(|| { log("done") });
    let __managed_defer0 = ::managed::__private::DeferOnPanic::new(|| {
        log("work panicked")
    });
    log("working");
}
