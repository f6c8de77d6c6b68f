// Handling a failed enter with `match with!(m) { .. }` or
// `if let Ok(x) = with!(m)`: the manager must be entered by a statement of
// its own; the message says to bind the result first (not to open a nested
// `scope!`, which would exit the manager at the end of the `match`).
use managed::{scope, with, Error};
use std::io::BufWriter;

fn main() -> Result<(), Error> {
    scope! {
        match with!(BufWriter::new(Vec::new())) {
            Ok(out) => println!("{}", out.buffer().len()),
            Err(e) => eprintln!("no writer: {e}"),
        }
        if let Ok(out) = with!(BufWriter::new(Vec::new())) {
            println!("{}", out.buffer().len());
        }
        Ok(())
    }
}
