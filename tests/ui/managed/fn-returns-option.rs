// A `#[managed] fn` returns `Result<Target, Error>`: an `Option` has no
// error for a failed enter.
use managed::{managed, yield_};

#[managed]
fn lease() -> Option<u32> {
    let _outcome = yield_!(1u32);
    Some(())
}

fn main() {}
