// `with!` takes the manager by value (its exit consumes it): a reference is
// not a manager.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    let mut out = BufWriter::new(Vec::new());
    scope! {
        let _out = with!(&mut out)?;
        Ok::<_, Error>(())
    }
}
