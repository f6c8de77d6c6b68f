// `with!` takes a manager: an `async fn` that makes one must be awaited
// first.
use managed::{managed, scope, with, Error};

struct Conn;

#[managed]
impl Conn {
    #[exit]
    async fn close(self) {}
}

async fn connect() -> Conn {
    Conn
}

async fn run() -> Result<(), Error> {
    scope!(async {
        let _conn = with!(connect())?;
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
