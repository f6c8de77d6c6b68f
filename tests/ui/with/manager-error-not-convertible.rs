// The manager's error type has no `From` conversion into the scope's error
// type, so `?` on `with!` (and the exit's error) cannot be returned.
use managed::prelude::*;

#[derive(Debug)]
struct DbError(&'static str);

struct Transaction {
    done: bool,
}

impl Manage for Transaction {
    type Target = Self;
    type Error = DbError;
    fn enter(&mut self) -> Result<&mut Self, DbError> {
        Ok(self)
    }
    fn exit(self, _outcome: &Outcome<'_>) -> Result<(), DbError> {
        if self.done { Ok(()) } else { Err(DbError("rollback failed")) }
    }
}

fn main() -> std::io::Result<()> {
    scope! {
        let tx = with!(Transaction { done: false })?;
        tx.done = true;
        Ok::<_, std::io::Error>(())
    }
}
