// `#[enter]` returns `()` or `Result<(), E>`: the target of an impl block
// is `Self`.
use managed::managed;

struct Conn {
    id: u32,
}

#[managed]
impl Conn {
    #[enter]
    fn open(&mut self) -> &mut u32 {
        &mut self.id
    }

    #[exit]
    fn close(self) {}
}

fn main() {}
