use managed::{managed, Outcome};

// The exit hook is an `async fn`, but the option does not say `async`.
#[managed(exit = Session::flush)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

impl Session {
    async fn flush(&mut self, _outcome: &Outcome<'_>) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {}
