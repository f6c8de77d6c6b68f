// A local kept from enter to exit cannot borrow another local (the enter
// and exit parts are two closures): the error points at the `yield_!`, not
// at the attribute.
use managed::{managed, yield_};

#[managed]
fn first_byte(data: Vec<u8>) -> usize {
    let first = &data[0];
    let outcome = yield_!(data.len());
    println!("{first} {}", outcome.is_ok());
}

fn main() {
    let _ = first_byte(vec![1]);
}
