use managed::{defer, scope, Error};

async fn audit() {}

async fn run() -> Result<(), Error> {
    scope!(async {
        defer!(err => audit().await);
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
