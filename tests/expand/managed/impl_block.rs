use managed::{managed, Outcome};

pub struct Conn {
    open: bool,
}

#[managed]
impl Conn {
    #[enter]
    fn connect(&mut self) -> Result<(), std::io::Error> {
        self.open = true;
        Ok(())
    }

    #[exit]
    fn close(self, outcome: &Outcome) -> Result<(), std::io::Error> {
        let _ = (self.open, outcome.is_ok());
        Ok(())
    }
}

pub struct Counter;

#[managed]
impl Counter {
    #[exit]
    fn done(self) {}
}
