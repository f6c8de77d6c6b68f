// `continue` from inside a scope to a loop around it.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    for line in ["a", "", "b"] {
        scope! {
            let out = with!(BufWriter::new(std::io::stdout()))?;
            if line.is_empty() {
                continue;
            }
            writeln!(out, "{line}")?;
            Ok::<_, std::io::Error>(())
        }?;
    }
    Ok(())
}
