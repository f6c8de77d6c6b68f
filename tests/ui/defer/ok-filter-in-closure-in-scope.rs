// `defer!(ok => ..)` inside a closure of a scope is outside the scope's top
// level.
use managed::{defer, scope, Error};

fn main() -> Result<(), Error> {
    scope! {
        let register = || {
            defer!(ok => println!("committed"));
        };
        register();
        Ok::<_, Error>(())
    }
}
