// The code after `yield_!` is the exit: its value is `Ok(())`, the lent
// value is the `yield_!`'s.
use managed::{managed, yield_};

#[managed]
fn lease() -> Result<u32, std::io::Error> {
    let _outcome = yield_!(7u32);
    Ok(7)
}

fn main() {}
