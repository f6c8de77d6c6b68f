use managed::managed;

#[managed(enter = Session::check)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

impl Session {
    fn check(&mut self) -> bool {
        true
    }
}

fn main() {}
