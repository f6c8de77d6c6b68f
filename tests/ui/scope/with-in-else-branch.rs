// `with!` inside an `else` branch: open a scope there.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    let quiet = std::env::args().count() > 1;
    scope! {
        if quiet {
            println!("quiet");
        } else {
            let _out = with!(BufWriter::new(Vec::new()))?;
        }
        Ok::<_, Error>(())
    }
}
