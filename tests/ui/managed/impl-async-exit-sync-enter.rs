use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[enter]
    fn open(&mut self) {}

    #[exit]
    async fn close(self) {}
}

fn main() {}
