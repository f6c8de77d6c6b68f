// A scope whose last statement is a `with!`: the scope has no value.
use managed::prelude::*;
use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    scope! {
        println!("opening");
        with!(BufWriter::new(std::io::stdout()))?;
    }
}
