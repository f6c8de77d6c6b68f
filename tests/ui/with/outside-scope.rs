// `with!` needs a `scope!` to exit the manager when the block ends.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let out = with!(BufWriter::new(std::io::stdout()))?;
    writeln!(out, "hello")?;
    Ok(())
}
