// A deferred body whose value is not `()`: the value would be thrown away
// (here a `Result` that may hold an error), inside and outside `scope!`.
use managed::prelude::*;
use std::fs;

fn main() -> std::io::Result<()> {
    defer! { fs::remove_file("lock") }
    scope! {
        fs::write("out.tmp", "data")?;
        defer!(err => fs::remove_file("out.tmp"));
        fs::rename("out.tmp", "out.txt")?;
        Ok::<_, std::io::Error>(())
    }
}
