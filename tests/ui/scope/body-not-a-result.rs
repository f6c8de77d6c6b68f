// The scope's value must be a `Result` (its `Err` is how exits learn the
// block failed): here the tail is a plain number.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() {
    let written = scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        writeln!(out, "hello")?;
        6
    };
    println!("{written:?}");
}
