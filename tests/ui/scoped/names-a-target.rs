// `#[scoped]` takes manager expressions, not bindings: the function cannot
// see the targets (use `scope!` in the body to use one).
use std::io::{BufWriter, Write};

#[managed::scoped(out = BufWriter::new(std::io::sink()))]
fn write() -> std::io::Result<()> {
    out.write_all(b"x")
}

fn main() {
    let _ = write();
}
