// A labeled `break` from a loop inside the scope to a loop around it (the
// inner loop's own `break` is fine).
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    'files: for file in ["a.txt", "b.txt"] {
        scope! {
            let out = with!(BufWriter::new(std::io::stdout()))?;
            for line in ["x", "", "y"] {
                if line.is_empty() {
                    break 'files;
                }
                if line == "y" {
                    break;
                }
                writeln!(out, "{file}: {line}")?;
            }
            Ok::<_, std::io::Error>(())
        }?;
    }
    Ok(())
}
