// A target kept in a variable outside the scope and used after the scope
// exited its manager.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut kept = None;
    scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        writeln!(out, "header")?;
        kept = Some(out);
        Ok::<_, std::io::Error>(())
    }?;
    if let Some(out) = kept {
        writeln!(out, "too late")?;
    }
    Ok(())
}
