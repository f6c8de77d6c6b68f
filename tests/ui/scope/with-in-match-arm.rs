// `with!` inside a `match` arm: open a scope there.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        match std::env::args().count() {
            0 => {}
            _ => {
                let _out = with!(BufWriter::new(Vec::new()))?;
            }
        }
        Ok::<_, Error>(())
    }
}
