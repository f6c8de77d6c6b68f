use managed::managed;

struct Conn;

#[managed(rollback = true, crate = "managed")]
impl Conn {
    #[exit]
    fn close(self) {}
}

fn main() {}
