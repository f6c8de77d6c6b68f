// `with!(m);` drops the enter's `Result`: a failed enter would go unnoticed.
// rustc's `unused_must_use` says so, at the user's `with!` (it used to
// underline the whole scope and suggest `let r = let _ = scope! ..`).
#![deny(unused_must_use)]
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        with!(BufWriter::new(Vec::new()));
        Ok(())
    }
}
