// `defer!(|outcome| ..)` takes one argument, the outcome.
use managed::{defer, scope, Error};

fn main() -> Result<(), Error> {
    scope! {
        defer!(|outcome, extra| println!("{outcome:?} {extra}"));
        Ok::<_, Error>(())
    }
}
