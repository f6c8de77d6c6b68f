use managed::managed;
use std::io::BufWriter;

fn discard(_: &mut Pool) {}

#[managed(on_cancel = discard)]
struct Pool {
    #[managed]
    out: BufWriter<Vec<u8>>,
}

fn main() {}
