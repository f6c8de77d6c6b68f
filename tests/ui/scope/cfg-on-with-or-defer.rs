// `#[cfg]` on a `with!` or `defer!` statement: the statement is removed, but
// the enter and the deferred code the scope builds around the rest are not,
// so a compiled-out `with!` still evaluated its manager and a compiled-out
// `defer!` still ran. The macro refuses it and says what to write.
use managed::{defer, scope, with, Error};
use std::io::BufWriter;

fn with_off() -> Result<(), Error> {
    scope! {
        #[cfg(any())]
        let _log = with!(BufWriter::new(std::fs::File::create("debug.log")?))?;
        Ok(())
    }
}

fn defer_off() -> Result<(), Error> {
    scope! {
        #[cfg(any())]
        defer!(err => eprintln!("failed"));
        Ok(())
    }
}

fn main() {
    let _ = (with_off(), defer_off());
}
