// The target `with!` lends is borrowed from the manager, which is exited
// (consumed) when the scope ends: it cannot be the scope's value.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let out = scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        writeln!(out, "header")?;
        Ok::<_, std::io::Error>(out)
    }?;
    writeln!(out, "body")?;
    Ok(())
}
