use managed::{managed, yield_};

// Borrows across the yield are fine in the async form, but `yield_!` is
// still a top-level statement: a conditional lend would leave the enter
// with nothing to lend.
#[managed]
async fn lease(mut value: u32, lend: bool) -> u32 {
    if lend {
        yield_!(value);
    }
}

fn main() {}
