// A `SendAsyncExitStack` takes only `Send` closures.
use std::cell::Cell;
use std::rc::Rc;

fn main() {
    let count = Rc::new(Cell::new(0));
    let stack = managed::SendAsyncExitStack::new();
    stack.callback(move || count.set(count.get() + 1));
    drop(stack);
}
