// `return;` in an async scope: its value is a `Result`.
use managed::{scope, with, Error};
use std::io::BufWriter;

async fn run() -> Result<(), Error> {
    scope!(async {
        let _out = with!(BufWriter::new(Vec::new()))?;
        if std::env::args().count() > 3 {
            return;
        }
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
