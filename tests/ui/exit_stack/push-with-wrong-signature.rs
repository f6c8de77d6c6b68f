// `push` takes a closure of the outcome returning `Result<bool, Error>`; a
// cleanup that needs nothing is a `callback`.
use managed::{Error, ExitStack};

fn main() {
    let stack = ExitStack::new();
    stack.push(|| Ok::<bool, Error>(false));
}
