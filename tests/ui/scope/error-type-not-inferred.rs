// As in an async block, `?` inside the scope converts with `From`, so the
// scope's error type must be written: `Ok::<_, E>(..)`.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> Result<(), String> {
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        writeln!(out, "hello")?;
        Ok(())
    }?;
    Ok(())
}
