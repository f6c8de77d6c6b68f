use managed::{managed, yield_};

#[managed]
fn looping() -> u32 {
    for i in 0..3 {
        yield_!(i);
    }
}

fn main() {}
