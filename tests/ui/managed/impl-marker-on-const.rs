use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[enter]
    const LIMIT: u32 = 3;

    #[exit(now)]
    fn close(self) {}
}

fn main() {}
