// A closure `defer!` already receives the outcome: a filter on it is
// redundant and ambiguous.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        defer!(err => |outcome: &Outcome<'_>| eprintln!("failed: {outcome:?}"));
        writeln!(out, "hello")?;
        Ok::<_, std::io::Error>(())
    }
}
