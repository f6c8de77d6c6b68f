use managed::{managed, yield_};

#[managed]
fn aliased() -> std::io::Result<u32> {
    yield_!(1);
}

fn main() {}
