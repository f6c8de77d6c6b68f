use managed::{managed, yield_};

#[managed]
async fn lease(mut first: u32, mut second: u32) -> u32 {
    yield_!(first);
    yield_!(second);
}

fn main() {}
