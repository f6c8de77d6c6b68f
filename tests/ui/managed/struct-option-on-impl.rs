use managed::managed;

struct Conn;

#[managed(enter = Conn::hello)]
impl Conn {
    #[exit]
    fn close(self) {}
}

fn main() {}
