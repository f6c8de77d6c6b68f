use managed::{managed, yield_};

#[managed]
fn lease() -> u32 {
    let outcome = yield_!();
    let _ = outcome;
}

fn main() {}
