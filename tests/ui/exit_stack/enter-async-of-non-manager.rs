// `AsyncExitStack::enter_async` takes an async manager (or a sync one):
// a plain value is neither.
use managed::AsyncExitStack;

struct Plain;

async fn run() {
    let stack = AsyncExitStack::new();
    let _ = stack.enter_async(Plain).await;
}

fn main() {
    drop(run());
}
