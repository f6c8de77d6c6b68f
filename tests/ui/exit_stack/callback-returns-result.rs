// A callback's value is `()`: a fallible cleanup that must be seen goes
// through `push` (it returns a `Result`), or is handled inside.
use managed::ExitStack;

fn main() {
    let stack = ExitStack::new();
    stack.callback(|| std::fs::remove_file("/tmp/never-there"));
}
