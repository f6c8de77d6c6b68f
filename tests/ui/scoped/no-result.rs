// A `#[scoped]` function must return a `Result`: the managers' errors go
// through it.
#[managed::scoped(std::io::BufWriter::new(std::io::sink()))]
fn work() {}

fn main() {
    work();
}
