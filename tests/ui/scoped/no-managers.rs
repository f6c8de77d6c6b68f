// `#[scoped]` without a manager expression.
#[managed::scoped()]
fn work() -> Result<(), managed::Error> {
    Ok(())
}

fn main() {
    let _ = work();
}
