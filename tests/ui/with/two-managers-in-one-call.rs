// Two managers given to one `with!`, as Python's `with a, b:` allows.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()), BufWriter::new(std::io::stderr()))?;
        writeln!(out, "hello")?;
        Ok::<_, std::io::Error>(())
    }
}
