// A `with!` in a closure inside the scope: the closure may run any number of
// times, so its manager cannot be exited by the scope.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    scope! {
        let report = |line: &str| -> std::io::Result<()> {
            let out = with!(BufWriter::new(std::io::stdout()))?;
            writeln!(out, "{line}")
        };
        report("one")?;
        report("two")?;
        Ok::<_, std::io::Error>(())
    }
}
