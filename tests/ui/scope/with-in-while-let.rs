// `with!` in a `while let` condition: bind it first.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        while let Ok(_out) = with!(BufWriter::new(Vec::new())) {}
        Ok::<_, Error>(())
    }
}
