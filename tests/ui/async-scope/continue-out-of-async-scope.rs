// `continue` cannot leave an async scope.
use managed::{scope, with, Error};
use std::io::BufWriter;

async fn run() -> Result<(), Error> {
    for _ in 0..3 {
        scope!(async {
            let _out = with!(BufWriter::new(Vec::new()))?;
            continue;
            Ok::<_, Error>(())
        })
        .await?;
    }
    Ok(())
}

fn main() {
    drop(run());
}
