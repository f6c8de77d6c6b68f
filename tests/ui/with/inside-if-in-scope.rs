// `with!` must be a top-level statement of the scope: inside an `if`, the
// manager would have to be exited at the end of the `if`, not of the scope.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let verbose = std::env::args().count() > 1;
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        if verbose {
            let log = with!(BufWriter::new(std::io::stderr()))?;
            writeln!(log, "starting")?;
        }
        writeln!(out, "done")?;
        Ok::<_, std::io::Error>(())
    }
}
