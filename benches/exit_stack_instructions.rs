//! Instruction counts of `ExitStack` against `Vec<Box<dyn FnOnce()>>`, for
//! callgrind (repeatable on a loaded machine, unlike wall-clock time).
//!
//! `cargo bench --bench exit_stack_instructions --no-run`, then, for each
//! `VARIANT` (`stack`, `baseline`) and `N`:
//! `valgrind --tool=callgrind --callgrind-out-file=/dev/null <binary> VARIANT N REPS`
//! and subtract the run with `N = 0` (process start-up). For closing alone,
//! write the profile to a file and read the inclusive cost of `close_stack` /
//! `close_baseline` with `callgrind_annotate --inclusive=yes`. Without
//! arguments it runs every variant once, as a smoke test.

use std::cell::Cell;
use std::hint::black_box;

use managed::ExitStack;

fn stack(n: u64, counter: &Cell<u64>) {
    let stack = ExitStack::new();
    for i in 0..n {
        stack.callback(move || counter.set(counter.get().wrapping_add(i)));
    }
    close_stack(stack);
}

/// Not inlined, so callgrind's inclusive cost of this function is the cost
/// of closing alone.
#[inline(never)]
fn close_stack(stack: ExitStack<'_>) {
    stack.close().expect("callbacks never fail");
}

fn baseline(n: u64, counter: &Cell<u64>) {
    let mut exits: Vec<Box<dyn FnOnce() + '_>> = Vec::new();
    for i in 0..n {
        exits.push(Box::new(move || counter.set(counter.get().wrapping_add(i))));
    }
    close_baseline(exits);
}

/// Not inlined, like `close_stack`.
#[inline(never)]
fn close_baseline(mut exits: Vec<Box<dyn FnOnce() + '_>>) {
    while let Some(exit) = exits.pop() {
        exit();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let counter = Cell::new(0);
    let [variant, n, reps] = args.as_slice() else {
        stack(10, &counter);
        baseline(10, &counter);
        println!("smoke run done ({})", counter.get());
        return;
    };
    let (variant, n, reps): (&str, u64, u64) = (variant, n.parse().unwrap_or(0), reps.parse().unwrap_or(1));
    for _ in 0..reps {
        match variant {
            "stack" => stack(black_box(n), &counter),
            _ => baseline(black_box(n), &counter),
        }
    }
    println!("{}", black_box(counter.get()));
}
