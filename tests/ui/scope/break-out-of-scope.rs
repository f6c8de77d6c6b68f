// `break` from inside a scope to a loop around it.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    for line in ["a", "b", "stop", "c"] {
        scope! {
            let out = with!(BufWriter::new(std::io::stdout()))?;
            if line == "stop" {
                break;
            }
            writeln!(out, "{line}")?;
            Ok::<_, std::io::Error>(())
        }?;
    }
    Ok(())
}
