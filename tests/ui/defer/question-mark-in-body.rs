// `?` in a deferred body, inside and outside `scope!`: the deferred code runs
// when the block is already over, so there is nowhere to return the error to.
use managed::prelude::*;
use std::fs;

fn main() -> std::io::Result<()> {
    defer! { fs::remove_file("lock")?; }
    scope! {
        fs::write("out.tmp", "data")?;
        defer!(err => fs::remove_file("out.tmp")?);
        fs::rename("out.tmp", "out.txt")?;
        Ok::<_, std::io::Error>(())
    }
}
