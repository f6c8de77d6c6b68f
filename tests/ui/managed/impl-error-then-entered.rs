// After an error in a `#[managed]` impl block, entering the type reports
// nothing more: the mistake is the missing `#[exit]`, not every `with!`.
use managed::{managed, scope, with, Error};

struct Conn;

#[managed]
impl Conn {
    #[enter]
    fn open(&mut self) {}

    fn close(self) {}
}

fn main() -> Result<(), Error> {
    scope! {
        let _conn = with!(Conn)?;
        Ok::<_, Error>(())
    }
}
