// An outcome-aware `defer!` inside an `if` of a scope: the scope only sees
// its top-level statements, so this one would never learn the outcome.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let dry_run = std::env::args().count() > 1;
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        if !dry_run {
            defer!(err => eprintln!("rolling back"));
            writeln!(out, "committing")?;
        }
        Ok::<_, std::io::Error>(())
    }
}
