use managed::{managed, Outcome};

struct Conn;

#[managed]
impl Conn {
    #[enter]
    fn open(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }

    #[exit]
    fn close(self, _outcome: &Outcome) -> Result<(), std::fmt::Error> {
        Ok(())
    }
}

fn main() {}
