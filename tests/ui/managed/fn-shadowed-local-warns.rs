// A warning, made an error here so the case fails to compile.
#![deny(deprecated)]

use managed::{managed, yield_};

struct Lock(&'static str);

#[managed]
fn locked() -> u32 {
    #[allow(unused_variables)]
    let lock = Lock("outer");
    let lock = Lock("inner");
    yield_!(1);
    let _ = lock.0;
}

fn main() {
    let _ = locked();
}
