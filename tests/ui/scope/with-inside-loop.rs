// `with!` inside a loop body of a scope: the loop's body needs a scope of
// its own.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        for _ in 0..3 {
            let _out = with!(BufWriter::new(Vec::new()))?;
        }
        Ok::<_, Error>(())
    }
}
