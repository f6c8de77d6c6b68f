// A `;` after the scope's `Ok(..)` makes the block's value `()`.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        writeln!(out, "hello")?;
        Ok::<_, std::io::Error>(());
    }
}
