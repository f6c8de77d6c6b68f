// A `#[managed]` field is owned by the struct, which exits it by value:
// a reference cannot be exited.
use managed::managed;
use std::io::BufWriter;

#[managed]
struct Session<'a> {
    #[managed]
    out: &'a mut BufWriter<Vec<u8>>,
}

fn main() {}
