use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[exit]
    fn close(self) {}

    #[exit]
    fn shutdown(self) {}
}

fn main() {}
