use managed::managed;

struct Conn;

#[managed(crate = managed)]
impl Conn {
    #[exit]
    fn close(self) {}
}

fn main() {}
