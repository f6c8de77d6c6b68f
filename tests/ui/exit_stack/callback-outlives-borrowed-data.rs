// An exit may borrow only what outlives the stack: the stack's lifetime
// parameter is invariant, so a shorter borrow cannot sneak in through `&self`.
use managed::ExitStack;

fn register<'a>(stack: &ExitStack<'a>, log: &'a mut Vec<u8>) {
    stack.callback(move || log.push(1));
}

fn main() {
    let stack = ExitStack::new();
    {
        let mut short_lived = Vec::new();
        register(&stack, &mut short_lived);
    }
    stack.close().ok();
}
