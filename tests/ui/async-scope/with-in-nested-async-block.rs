// `with!` inside an async block of an async scope is outside the scope's
// top level.
use managed::{scope, with, Error};
use std::io::BufWriter;

async fn run() -> Result<(), Error> {
    scope!(async {
        let task = async {
            let _out = with!(BufWriter::new(Vec::new()))?;
            Ok::<_, Error>(())
        };
        task.await?;
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
