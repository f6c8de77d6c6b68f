// A local the enter part moves away cannot be used by the exit part: the
// error says where it was moved and where the exit part uses it.
use managed::{managed, yield_};

#[managed]
fn logged(log: &mut Vec<String>) -> u32 {
    let msg = String::from("enter");
    log.push(msg);
    yield_!(1);
    println!("{msg}");
}

fn main() {
    let _ = logged(&mut Vec::new());
}
