// `#[enter]` takes `&mut self`: by value, the manager would be gone before
// its exit.
use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[enter]
    fn open(self) {}

    #[exit]
    fn close(self) {}
}

fn main() {}
