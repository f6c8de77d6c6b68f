// After an error in a `#[managed] fn`, entering what it returns reports
// nothing more: the fn still returns a manager of the target it declares.
use managed::{managed, scope, with, Error};

#[managed]
fn lease() -> Result<u32, Error> {
    println!("no yield here");
}

fn main() -> Result<(), Error> {
    scope! {
        let id = with!(lease())?;
        println!("{id}");
        Ok::<_, Error>(())
    }
}
