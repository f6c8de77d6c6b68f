// `defer!(|outcome| ..)` outside `scope!`: there is no outcome to give it.
use managed::prelude::*;

fn main() {
    defer!(|outcome: &Outcome<'_>| println!("finished: {outcome:?}"));
    println!("working");
}
