use managed::{defer, scope, Error};

fn main() {
    let _ = scope! {
        defer!(async { println!("awaited?") });
        Ok::<_, Error>(())
    };
}
