// `defer!(err => ..)` (Go's `errdefer`) outside `scope!`: a drop guard cannot
// tell an `Err` returned through `?` from a success.
use managed::prelude::*;
use std::fs;

fn save(data: &str) -> std::io::Result<()> {
    defer!(err => {
        let _ = fs::remove_file("out.tmp");
    });
    fs::write("out.tmp", data)?;
    fs::rename("out.tmp", "out.txt")?;
    Ok(())
}

fn main() -> std::io::Result<()> {
    save("data")
}
