// `with!` in an async fn but outside a scope.
use managed::with;
use std::io::BufWriter;

async fn run() -> std::io::Result<()> {
    let _out = with!(BufWriter::new(Vec::new()))?;
    Ok(())
}

fn main() {
    drop(run());
}
