// A `#[managed] fn` declares what it lends in its return type:
// `-> Result<Target, Error>`.
use managed::{managed, yield_};

#[managed]
fn lease() {
    let _outcome = yield_!(1u32);
}

fn main() {}
