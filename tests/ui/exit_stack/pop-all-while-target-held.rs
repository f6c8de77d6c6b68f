// `pop_all` needs the stack exclusively, so it cannot move entries whose
// targets are still lent out.
use std::io::{BufWriter, Write};

use managed::ExitStack;

fn main() -> Result<(), managed::Error> {
    let mut stack = ExitStack::new();
    let out = stack.enter(BufWriter::new(Vec::new()))?;
    let moved = stack.pop_all();
    out.write_all(b"still lent")?;
    moved.close()?;
    Ok(())
}
