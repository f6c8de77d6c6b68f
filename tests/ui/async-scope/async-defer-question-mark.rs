// `?` in an async deferred block: a cleanup has no caller to return to.
use managed::{defer, scope, Error};

async fn run() -> Result<(), Error> {
    scope!(async {
        defer!(async {
            std::fs::remove_file("/tmp/never-there")?;
        });
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
