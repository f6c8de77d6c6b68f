// After an error in a `#[managed]` struct, entering it reports nothing
// more: the one error is the misplaced `async`.
use managed::{managed, scope, with, Error};

#[managed(async)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

fn main() -> Result<(), Error> {
    scope! {
        let _session = with!(Session { out: std::io::BufWriter::new(Vec::new()).into() })?;
        Ok::<_, Error>(())
    }
}
