use managed::managed;

struct Conn;

#[managed]
impl Conn {
    #[enter]
    async fn open(&mut self) -> Result<(), std::io::Error> {
        Ok(())
    }

    #[exit]
    async fn close(self) -> Result<(), std::fmt::Error> {
        Ok(())
    }
}

fn main() {}
