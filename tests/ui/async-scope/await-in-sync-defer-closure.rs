// `.await` in a `defer!(|outcome| ..)` of an async scope: the closure form
// is sync; write `defer!(async { .. })`.
use managed::{defer, scope, Error};

async fn run() -> Result<(), Error> {
    scope!(async {
        defer!(|_outcome| std::future::ready(()).await);
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
