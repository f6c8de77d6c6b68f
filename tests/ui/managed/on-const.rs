use managed::managed;

#[managed]
const LIMIT: u32 = 3;

fn main() {}
