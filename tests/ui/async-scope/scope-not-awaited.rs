// An async scope is a future: `.await` it before `?`.
use managed::{scope, with, Error};
use std::io::BufWriter;

async fn run() -> Result<(), Error> {
    scope!(async {
        let _out = with!(BufWriter::new(Vec::new()))?;
        Ok::<_, Error>(())
    })?;
    Ok(())
}

fn main() {
    drop(run());
}
