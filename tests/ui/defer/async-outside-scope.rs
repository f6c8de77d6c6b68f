// `defer!(async { .. })` outside `scope!`: nothing would await it.
use managed::prelude::*;

async fn flush_metrics() {}

async fn handle() {
    defer!(async { flush_metrics().await });
    println!("handling");
}

fn main() {
    let _ = handle();
}
