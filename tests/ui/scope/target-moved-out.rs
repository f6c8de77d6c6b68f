// The target is lent by the manager for the scope: it cannot be moved out.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    let kept: BufWriter<Vec<u8>> = scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        Ok::<_, Error>(*out)
    }?;
    drop(kept);
    Ok(())
}
