use managed::{defer, scope, with, AsyncManage, Outcome};
use std::io;

pub struct Conn;

impl AsyncManage for Conn {
    type Target = Conn;
    type Error = io::Error;
    async fn enter(&mut self) -> Result<&mut Conn, io::Error> {
        Ok(self)
    }
    async fn exit(self, _: &Outcome<'_>) -> Result<(), io::Error> {
        Ok(())
    }
}

async fn copy(from: &mut Conn, to: &mut Conn) -> Result<u32, io::Error> {
    let _ = (from, to);
    Ok(1)
}

async fn undo() {}

/// Two managers and a `defer!` after them share one frame: one body
/// future, one panic catcher; the defer runs only if the body reached it.
pub async fn transfer(a: Conn, b: Conn) -> Result<u32, io::Error> {
    scope!(async {
        let from = with!(a)?;
        let to = with!(b)?;
        defer!(err => async { undo().await });
        copy(from, to).await
    })
    .await
}
