// One `yield_!`, at the top level: yielding in both branches of an `if`
// splits nothing.
use managed::{managed, yield_};

#[managed]
fn lease(fast: bool) -> Result<u32, std::io::Error> {
    if fast {
        let _outcome = yield_!(1u32);
    } else {
        let _outcome = yield_!(2u32);
    }
    Ok(())
}

fn main() {}
