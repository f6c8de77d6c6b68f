// `#[scoped]` on an async fn: its expressions must be managers too.
struct Plain;

#[managed::scoped(Plain)]
async fn work() -> Result<(), managed::Error> {
    Ok(())
}

fn main() {
    drop(work());
}
