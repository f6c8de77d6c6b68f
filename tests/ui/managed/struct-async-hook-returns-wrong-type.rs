use managed::managed;

#[managed(enter = async Session::check)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

impl Session {
    async fn check(&mut self) -> bool {
        true
    }
}

fn main() {}
