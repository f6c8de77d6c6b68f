// `#[scoped]` goes on a function.
#[managed::scoped(managed::timed("load"))]
struct Loader;

fn main() {}
