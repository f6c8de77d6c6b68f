use managed::{managed, Outcome};

// `async` says the hooks are `async fn`s; these are sync fns.
#[managed(enter = async Session::ready, exit = async Session::flush)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

impl Session {
    fn ready(&mut self) {}

    fn flush(&mut self, _outcome: &Outcome<'_>) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {}
