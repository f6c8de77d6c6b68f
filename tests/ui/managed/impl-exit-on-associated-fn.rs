// `#[exit]` takes `self`: an associated fn without it has no manager to
// consume.
use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[exit]
    fn close() {}
}

fn main() {}
