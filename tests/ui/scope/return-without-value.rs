// `return;` leaves a scope, whose value is a `Result`: return `Ok(())`.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        let _out = with!(BufWriter::new(Vec::new()))?;
        if std::env::args().count() > 3 {
            return;
        }
        Ok::<_, Error>(())
    }
}
