use managed::managed;

#[managed(enter = async fn Session::ready)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

impl Session {
    async fn ready(&mut self) {}
}

fn main() {}
