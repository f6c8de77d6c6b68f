// Two managers cannot borrow the same buffer mutably for one scope.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    let mut buffer = Vec::new();
    scope! {
        let _a = with!(BufWriter::new(&mut buffer))?;
        let _b = with!(BufWriter::new(&mut buffer))?;
        Ok::<_, Error>(())
    }
}
