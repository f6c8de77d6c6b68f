use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[enter]
    fn open(&mut self) {}

    fn close(self) {}
}

fn main() {}
