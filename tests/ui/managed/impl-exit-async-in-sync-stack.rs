// An async `#[managed]` impl is entered with `.await`: in an async scope
// or an `AsyncExitStack`, not with a `Guard`.
use managed::{managed, Guard};

struct Conn;

#[managed]
impl Conn {
    #[exit]
    async fn close(self) {}
}

fn main() {
    let _guard = Guard::new(Conn);
}
