// A scope whose last statement is a `defer!`: the scope has no value.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        writeln!(out, "hello")?;
        defer!(err => eprintln!("failed"));
    }
}
