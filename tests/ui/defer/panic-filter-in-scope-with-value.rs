// A deferred block's value is `()`, for `panic =>` too.
use managed::{defer, scope, Error};

fn main() -> Result<(), Error> {
    scope! {
        defer!(panic => 5u32);
        Ok::<_, Error>(())
    }
}
