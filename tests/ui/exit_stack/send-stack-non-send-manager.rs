// A `SendAsyncExitStack` takes only `SendAsyncManage` managers: an
// `AsyncManage` one (its futures are not known to be `Send`) is refused, and
// the error names the trait to implement.
use managed::{AsyncManage, Outcome, SendAsyncExitStack};

struct Conn(std::rc::Rc<u32>);

impl AsyncManage for Conn {
    type Target = Self;
    type Error = managed::Error;
    async fn enter(&mut self) -> Result<&mut Self, managed::Error> {
        Ok(self)
    }
    async fn exit(self, _: &Outcome<'_>) -> Result<(), managed::Error> {
        Ok(())
    }
}

async fn open(stack: &SendAsyncExitStack<'_>) -> Result<(), managed::Error> {
    stack.enter_async(Conn(std::rc::Rc::new(1))).await?;
    Ok(())
}

fn main() {
    let _ = open;
}
