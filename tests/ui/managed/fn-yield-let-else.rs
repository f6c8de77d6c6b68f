use managed::{managed, yield_, Outcome};

#[managed]
fn lease() -> u32 {
    let Outcome::Ok = yield_!(1) else { return };
}

fn main() {}
