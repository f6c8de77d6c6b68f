// `with!` without the manager to enter.
use managed::prelude::*;

fn main() -> std::io::Result<()> {
    scope! {
        let out = with!()?;
        let _ = out;
        Ok::<_, std::io::Error>(())
    }
}
