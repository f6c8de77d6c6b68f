use managed::{managed, yield_};

#[managed]
async fn lease() -> u32 {
    yield_!(1);
}

fn main() {}
