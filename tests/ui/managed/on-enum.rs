use managed::managed;

#[managed]
enum Conn {
    Open,
    Closed,
}

fn main() {}
