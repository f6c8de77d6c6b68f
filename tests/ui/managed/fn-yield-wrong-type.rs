use managed::{managed, yield_};

#[managed]
fn lease() -> Result<u32, std::io::Error> {
    yield_!("one");
}

fn main() {}
