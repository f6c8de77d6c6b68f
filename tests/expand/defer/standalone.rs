use managed::defer;

fn log(message: &str) {
    let _ = message;
}

/// Outside a `scope!`, `defer!` is a drop guard bound to the end of the
/// block: `defer! { .. }` always runs, `defer!(panic => ..)` only while
/// unwinding.
pub fn work() {
    defer! { log("done") }
    defer!(panic => log("work panicked"));
    log("working");
}
