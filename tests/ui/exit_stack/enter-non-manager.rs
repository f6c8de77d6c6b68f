// CPython's `test_enter_context_errors` / `test_instance_bypass`: entering
// something that is not a context manager is a TypeError at run time in
// Python, and a compile error here.
use managed::ExitStack;

struct LacksEnterAndExit;

fn main() {
    let stack = ExitStack::new();
    let _ = stack.enter(LacksEnterAndExit);
}
