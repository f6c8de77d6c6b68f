use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[enter]
    fn open(&mut self, _url: &str) {}

    #[exit]
    fn close(self) {}
}

fn main() {}
