// An async `#[scoped]` function returns the managers' errors too.
#[managed::scoped(std::io::BufWriter::new(std::io::sink()))]
async fn work() {}

fn main() {
    drop(work());
}
