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
