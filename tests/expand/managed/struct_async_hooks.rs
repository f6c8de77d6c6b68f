use managed::{managed, Outcome};
use std::io::{self, BufWriter};

pub struct Conn;

#[managed]
impl Conn {
    #[exit]
    async fn close(self) {}
}

#[managed(enter = async Pooled::configure, exit = async Pooled::flush)]
pub struct Pooled {
    #[managed(async)]
    conn: Conn,
    #[managed]
    log: BufWriter<Vec<u8>>,
    statements: u32,
}

impl Pooled {
    async fn configure(&mut self) -> io::Result<()> {
        self.statements += 1;
        Ok(())
    }

    async fn flush(&mut self, _outcome: &Outcome<'_>) {
        self.statements += 1;
    }
}
