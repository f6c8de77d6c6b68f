// A target lives as long as its scope: a closure keeping it cannot leave.
use managed::{scope, with, Error};
use std::io::{BufWriter, Write};

fn main() -> Result<(), Error> {
    let mut write = scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        Ok::<_, Error>(move || out.write_all(b"x"))
    }?;
    write()?;
    Ok(())
}
