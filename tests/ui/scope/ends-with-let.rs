// A scope whose last statement is a `let`: the scope has no value (the
// value was meant to be the variable).
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let written = scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        writeln!(out, "hello")?;
        let len = out.get_ref().len();
    }?;
    println!("{written}");
    Ok(())
}
