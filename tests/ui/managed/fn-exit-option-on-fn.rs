use managed::{managed, yield_};

#[managed(exit = cleanup)]
fn lease() -> u32 {
    yield_!(1);
}

fn main() {}
