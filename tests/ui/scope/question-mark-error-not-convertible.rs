// `?` in a scope converts into the scope's error: a `ParseIntError` does not
// convert into an `io::Error`.
use managed::{scope, with};
use std::io::BufWriter;

fn main() -> std::io::Result<()> {
    scope! {
        let _out = with!(BufWriter::new(Vec::new()))?;
        let n: u32 = "7".parse()?;
        println!("{n}");
        Ok::<_, std::io::Error>(())
    }
}
