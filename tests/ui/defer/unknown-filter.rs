// A misspelled or unknown outcome filter, inside and outside `scope!`.
use managed::prelude::*;
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    defer!(always => println!("bye"));
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        defer!(error => eprintln!("failed"));
        writeln!(out, "hello")?;
        Ok::<_, std::io::Error>(())
    }
}
