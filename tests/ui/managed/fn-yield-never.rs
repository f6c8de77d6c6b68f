use managed::managed;

#[managed]
fn never() -> u32 {
    println!("no yield here");
}

fn main() {}
