// `break value` out of a `loop` around the scope: the scope returns the
// value instead.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    let found = loop {
        scope! {
            let _out = with!(BufWriter::new(Vec::new()))?;
            break 5;
            Ok::<_, Error>(())
        }?;
    };
    println!("{found}");
    Ok(())
}
