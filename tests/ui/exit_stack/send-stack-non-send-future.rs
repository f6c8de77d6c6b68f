// A `SendAsyncExitStack` keeps `Send` futures only: one holding an `Rc`
// across an `.await` cannot be pushed.
use managed::SendAsyncExitStack;
use std::rc::Rc;

fn main() {
    let stack = SendAsyncExitStack::new();
    let shared = Rc::new(1);
    stack.callback_async(move || async move {
        std::future::ready(()).await;
        drop(shared);
    });
}
