// `with!` inside a closure of an async scope is outside the scope.
use managed::{scope, with, Error};
use std::io::BufWriter;

async fn run() -> Result<(), Error> {
    scope!(async {
        let open = || with!(BufWriter::new(Vec::new()));
        let _ = open;
        Ok::<_, Error>(())
    })
    .await
}

fn main() {
    drop(run());
}
