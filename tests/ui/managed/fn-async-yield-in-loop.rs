// `yield_!` in a loop of an async `#[managed] fn`: it lends once.
use managed::{managed, yield_};

#[managed]
async fn lease() -> Result<u32, std::io::Error> {
    for i in 0..2u32 {
        let _outcome = yield_!(i);
    }
    Ok(())
}

fn main() {}
