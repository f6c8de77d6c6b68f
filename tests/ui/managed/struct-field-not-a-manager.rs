use managed::managed;

#[managed]
struct Session {
    #[managed]
    name: String,
}

fn main() {}
