use managed::managed;

#[managed]
struct Session {
    name: String,
}

fn main() {}
