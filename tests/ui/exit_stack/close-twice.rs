// `close` consumes the stack: it cannot be closed twice.
use managed::ExitStack;

fn main() {
    let stack = ExitStack::new();
    let _ = stack.close();
    let _ = stack.close();
}
