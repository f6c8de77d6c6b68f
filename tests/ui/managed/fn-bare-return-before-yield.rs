// A bare `return;` before `yield_!` leaves the enter with nothing to lend:
// one error, at the `return`, says what to write.
use managed::{managed, yield_};

#[managed]
fn maybe(enabled: bool) -> u32 {
    if !enabled {
        return;
    }
    yield_!(1);
}

fn main() {
    let _ = maybe(true);
}
