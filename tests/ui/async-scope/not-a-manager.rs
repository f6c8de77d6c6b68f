use managed::{scope, with, Error};

struct Plain;

async fn run() -> Result<(), Error> {
    scope!(async {
        let _p = with!(Plain)?;
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
