// A `#[scoped]` function returns the managers' errors: `u32` cannot carry
// them.
#[managed::scoped(std::io::BufWriter::new(std::io::sink()))]
fn count() -> u32 {
    3
}

fn main() {
    let _ = count();
}
