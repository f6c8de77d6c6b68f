// An async `defer!` inside an `if` of an async scope: open a scope there.
use managed::{defer, scope, Error};

async fn run() -> Result<(), Error> {
    scope!(async {
        if std::env::args().count() > 1 {
            defer!(async { println!("later") });
        }
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
