// A standalone `defer!` runs in a destructor, which cannot `.await`.
use managed::defer;

async fn run() {
    defer! {
        std::future::ready(()).await;
    }
}

fn main() {
    drop(run());
}
