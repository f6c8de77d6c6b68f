// `.await` in a sync `scope! { .. }`.
use managed::prelude::*;
use std::io::{BufWriter, Write};

async fn fetch() -> String {
    String::from("data")
}

async fn run() -> std::io::Result<()> {
    scope! {
        let out = with!(BufWriter::new(std::io::stdout()))?;
        let data = fetch().await;
        writeln!(out, "{data}")?;
        Ok::<_, std::io::Error>(())
    }
}

fn main() {
    let _ = run();
}
