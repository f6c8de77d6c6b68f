// `close` consumes the stack: nothing can be entered afterwards.
use managed::ExitStack;
use std::io::BufWriter;

fn main() {
    let stack = ExitStack::new();
    let _ = stack.close();
    let _ = stack.enter(BufWriter::new(Vec::new()));
}
