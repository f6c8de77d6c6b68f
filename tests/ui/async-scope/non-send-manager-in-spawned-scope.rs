// A scope whose manager is not `Send` makes a future that is not `Send`:
// it cannot be spawned on a multi-threaded runtime.
use managed::{managed, scope, with, Error};
use std::rc::Rc;

struct Conn(Rc<u32>);

#[managed]
impl Conn {
    #[exit]
    async fn close(self) {}
}

fn spawn<F: std::future::Future + Send + 'static>(_: F) {}

fn main() {
    spawn(async {
        scope!(async {
            let _conn = with!(Conn(Rc::new(1)))?;
            std::future::ready(()).await;
            Ok::<_, Error>(())
        })
        .await
    });
}
