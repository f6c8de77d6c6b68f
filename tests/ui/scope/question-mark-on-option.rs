// `?` in a scope returns the scope's error: an `Option` has none.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    let first: Option<u32> = None;
    scope! {
        let _out = with!(BufWriter::new(Vec::new()))?;
        let value = first?;
        println!("{value}");
        Ok::<_, Error>(())
    }
}
