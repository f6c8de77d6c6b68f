use managed::{managed, Outcome};

struct Conn;

#[managed]
impl Conn {
    #[exit]
    fn close(self, _outcome: &Outcome, _force: bool) {}
}

fn main() {}
