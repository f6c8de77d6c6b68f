// One `with!` per statement: each splits the scope where it stands.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        let (_a, _b) = (with!(BufWriter::new(Vec::new()))?, with!(BufWriter::new(Vec::new()))?);
        Ok::<_, Error>(())
    }
}
