// `crate = ".."` comes first, before the managers.
#[managed::scoped(managed::timed("load"), crate = "managed")]
fn load() -> Result<u32, managed::Error> {
    Ok(1)
}

fn main() {
    let _ = load();
}
