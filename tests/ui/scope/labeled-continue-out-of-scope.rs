// A labeled `continue` to a loop outside the scope cannot leave it.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    'lines: for _ in 0..3 {
        scope! {
            let _out = with!(BufWriter::new(Vec::new()))?;
            continue 'lines;
            Ok::<_, Error>(())
        }?;
    }
    Ok(())
}
