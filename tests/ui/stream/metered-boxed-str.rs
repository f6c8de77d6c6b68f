// `.metered()` counts bytes: `Box<str>` is only `AsRef<str>`; map it to a
// `String` first.
use managed::stream::ChunksExt;

fn main() {
    let items: Vec<Box<str>> = vec!["a".into()];
    let metered = items.into_iter().metered();
    drop(metered);
}
