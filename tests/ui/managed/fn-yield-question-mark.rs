// `yield_!` gives the outcome, which is not a `Result` of the fn: no `?`.
use managed::{managed, yield_};

#[managed]
fn lease() -> Result<u32, std::io::Error> {
    let _outcome = yield_!(7u32)?;
    Ok(())
}

fn main() {}
