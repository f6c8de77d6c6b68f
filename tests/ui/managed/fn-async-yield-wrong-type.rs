use managed::{managed, yield_};

#[managed]
async fn lease(mut name: String) -> u32 {
    let _outcome = yield_!(name);
}

fn main() {}
