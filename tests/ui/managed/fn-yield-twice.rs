use managed::{managed, yield_};

#[managed]
fn twice() -> u32 {
    yield_!(1);
    yield_!(2);
}

fn main() {}
