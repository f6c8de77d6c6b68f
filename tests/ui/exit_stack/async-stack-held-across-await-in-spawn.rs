// An `AsyncExitStack` is neither `Send` nor `Sync` (its entries may hold
// `Rc`s and borrows of thread-bound data), so a future that holds one
// across an `.await` cannot be spawned. `SendAsyncExitStack` can.
fn spawn<F: std::future::Future + Send + 'static>(_: F) {}

fn main() {
    spawn(async {
        let stack = managed::AsyncExitStack::new();
        stack.callback(|| ());
        std::future::ready(()).await;
        drop(stack);
    });
}
