use managed::{scope, with, AsyncManage, Error, Outcome};

struct Remote;

impl AsyncManage for Remote {
    type Target = Self;
    type Error = Error;
    async fn enter(&mut self) -> Result<&mut Self, Error> {
        Ok(self)
    }
    async fn exit(self, _: &Outcome<'_>) -> Result<(), Error> {
        Ok(())
    }
}

fn main() {
    let _ = scope! {
        let _r = with!(Remote)?;
        Ok::<_, Error>(())
    };
}
