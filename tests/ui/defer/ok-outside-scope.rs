// `defer!(ok => ..)` needs to know whether the block succeeded: only
// `scope!` sees that (a plain block's `?` and `return` are invisible to a guard).
use managed::prelude::*;
use std::fs;

fn main() -> std::io::Result<()> {
    defer!(ok => println!("saved"));
    fs::write("out.txt", "data")?;
    Ok(())
}
