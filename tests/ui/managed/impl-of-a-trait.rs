use managed::managed;

struct Conn;

trait Close {
    fn close(self);
}

#[managed]
impl Close for Conn {
    #[exit]
    fn close(self) {}
}

fn main() {}
