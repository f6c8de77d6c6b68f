// `yield_!` belongs to the `#[managed]` fn itself, not to a fn inside it.
use managed::{managed, yield_};

#[managed]
fn lease() -> Result<u32, std::io::Error> {
    fn helper() {
        let _outcome = yield_!(7u32);
    }
    helper();
    let _outcome = yield_!(1u32);
    Ok(())
}

fn main() {}
