// A target is borrowed from its manager for the scope: a thread that may
// outlive the scope cannot take it.
use managed::{scope, with, Error};
use std::io::{BufWriter, Write};

fn main() -> Result<(), Error> {
    scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        std::thread::spawn(move || out.write_all(b"x"));
        Ok::<_, Error>(())
    }
}
