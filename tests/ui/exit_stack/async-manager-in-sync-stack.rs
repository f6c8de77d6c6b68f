// `ExitStack::enter` takes a sync manager: an async one needs an
// `AsyncExitStack` and `enter_async(..).await`.
use managed::{managed, ExitStack};

struct Conn;

#[managed]
impl Conn {
    #[exit]
    async fn close(self) {}
}

fn main() {
    let stack = ExitStack::new();
    let _ = stack.enter(Conn);
}
