use managed::{defer, scope, with};
use std::io::{self, BufWriter, Write};

fn log(message: &str) {
    let _ = message;
}

/// A plain statement, a manager, a statement, a `defer!` for the error
/// path, the rest: the rest of the block after each split point is a
/// nested closure, and the block is one too (its first statement may
/// leave it with `?` or `return`).
pub fn save(out: &mut Vec<u8>, text: &str) -> Result<usize, io::Error> {
    scope! {
        let bytes = text.as_bytes();
        let file = with!(BufWriter::new(out))?;
        file.write_all(bytes)?;
        defer!(err => log("not saved"));
        file.write_all(b"\n")?;
        Ok(bytes.len() + 1)
    }
}

/// A block that starts with its first `with!`: no closure around it.
pub fn append(out: &mut Vec<u8>, text: &str) -> Result<(), io::Error> {
    scope! {
        let file = with!(BufWriter::new(out))?;
        defer! { log("appended") }
        file.write_all(text.as_bytes())
    }
}
