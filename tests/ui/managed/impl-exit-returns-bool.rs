use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[exit]
    fn close(self) -> bool {
        true
    }
}

fn main() {}
