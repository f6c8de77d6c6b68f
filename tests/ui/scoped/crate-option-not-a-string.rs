// `crate = ..` takes the facade's path as a string, as in `#[managed]`.
use managed::{timed, Error};

#[managed::scoped(crate = managed, timed("load"))]
fn load() -> Result<u32, Error> {
    Ok(1)
}

fn main() {
    let _ = load();
}
