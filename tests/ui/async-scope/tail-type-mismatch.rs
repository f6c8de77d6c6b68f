// The async scope's value is its tail: here a `u32` where the caller wants
// a `String`.
use managed::{scope, with, Error};
use std::io::BufWriter;

async fn name() -> Result<String, Error> {
    scope!(async {
        let _out = with!(BufWriter::new(Vec::new()))?;
        Ok::<u32, Error>(7)
    })
    .await
}

fn main() {
    drop(name());
}
