// A `#[managed]` struct enters its `#[managed]` fields: with none marked
// there is nothing to enter.
use managed::managed;

#[managed]
struct Settings {
    verbose: bool,
}

fn main() {}
