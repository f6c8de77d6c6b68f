// One `with!` per statement: the order of entering (and so of exiting) two
// managers in one expression would be hidden in the expression.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    scope! {
        let (out, err) = (with!(BufWriter::new(std::io::stdout()))?, with!(BufWriter::new(std::io::stderr()))?);
        writeln!(out, "to stdout")?;
        writeln!(err, "to stderr")?;
        Ok::<_, std::io::Error>(())
    }
}
