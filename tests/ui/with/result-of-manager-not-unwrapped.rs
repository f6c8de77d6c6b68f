// `with!` takes a manager: a `Result` of one must be unwrapped with `?`
// first.
use managed::{scope, with, Error};
use std::fs::File;

fn main() -> Result<(), Error> {
    scope! {
        let _file = with!(File::open("/tmp/never-there"))?;
        Ok::<_, Error>(())
    }
}
