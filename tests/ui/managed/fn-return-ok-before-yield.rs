// Before `yield_!` a `return` can only fail the enter: there is nothing to
// lend. The error says so at the returned value.
use managed::{managed, yield_};

#[managed]
fn cached(hit: Option<u32>) -> Result<u32, std::io::Error> {
    if let Some(value) = hit {
        return Ok(value);
    }
    yield_!(0);
}

fn main() {
    let _ = cached(None);
}
