// A target lent by `ExitStack::enter` cannot be used after the stack is
// closed: `close` takes the stack by value while the target still borrows it.
use std::io::{BufWriter, Write};

use managed::ExitStack;

fn main() -> Result<(), managed::Error> {
    let stack = ExitStack::new();
    let out = stack.enter(BufWriter::new(Vec::new()))?;
    out.write_all(b"before close")?;
    stack.close()?;
    out.write_all(b"after close")?;
    Ok(())
}
