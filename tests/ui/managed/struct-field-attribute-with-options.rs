use managed::managed;

#[managed]
struct Session {
    #[managed(enter = open)]
    out: std::io::BufWriter<Vec<u8>>,
}

fn main() {}
