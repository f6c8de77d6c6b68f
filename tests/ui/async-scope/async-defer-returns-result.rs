// A deferred block's value is `()`, in async scopes too.
use managed::{defer, scope, Error};

async fn run() -> Result<(), Error> {
    scope!(async {
        defer!(async { std::fs::remove_file("/tmp/never-there") });
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
