// A manager expression that is not a manager.
#[managed::scoped(42u8)]
fn work() -> Result<(), managed::Error> {
    Ok(())
}

fn main() {
    let _ = work();
}
