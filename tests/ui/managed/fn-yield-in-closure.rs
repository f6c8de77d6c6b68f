use managed::{managed, yield_};

#[managed]
fn in_closure() -> u32 {
    let lend = || yield_!(1);
    lend();
}

fn main() {}
