// `.accumulate()` keeps text: a stream of numbers has none.
use managed::stream::ChunksExt;

fn main() {
    let acc = vec![1u32, 2, 3].into_iter().accumulate();
    drop(acc);
}
