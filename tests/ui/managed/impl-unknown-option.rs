// `#[managed]` on an impl block takes `crate = ".."` only.
use managed::managed;

struct Conn;

#[managed(error = std::io::Error)]
impl Conn {
    #[exit]
    fn close(self) {}
}

fn main() {}
