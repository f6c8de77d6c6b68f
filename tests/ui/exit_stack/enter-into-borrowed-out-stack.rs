// While the stack is mutably borrowed out (here by `pop_all`'s caller
// holding `&mut`), nothing can be entered into it: entered targets and
// `pop_all` / close cannot overlap.
use std::io::BufWriter;

use managed::ExitStack;

fn main() -> Result<(), managed::Error> {
    let mut stack = ExitStack::new();
    let borrowed_out = &mut stack;
    let target = stack.enter(BufWriter::new(Vec::new()))?;
    let moved = borrowed_out.pop_all();
    drop(target);
    moved.close()?;
    Ok(())
}
