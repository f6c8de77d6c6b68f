// `with!` in a fn declared inside a scope is outside the scope.
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        fn open() -> std::io::Result<()> {
            let _out = with!(BufWriter::new(Vec::new()))?;
            Ok(())
        }
        open()?;
        Ok::<_, Error>(())
    }
}
