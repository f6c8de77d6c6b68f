use managed::{managed, yield_};

#[managed]
fn in_branch(fast: bool) -> u32 {
    if fast {
        yield_!(1);
    }
}

fn main() {}
