use managed::prelude::*;

struct Conn;

#[managed]
impl Conn {
    #[exit]
    async fn close(self) {}
}

fn main() {
    let _: Result<(), managed::Error> = scope! {
        let _c = with!(Conn)?;
        Ok(())
    };
}
