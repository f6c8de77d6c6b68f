use managed::{managed, yield_};

#[managed]
async fn lease(mut value: u32, ready: bool) -> Result<u32, std::io::Error> {
    if ready {
        return Ok(value);
    }
    yield_!(value);
}

fn main() {}
