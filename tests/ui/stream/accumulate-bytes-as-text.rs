// `.accumulate()` keeps text: byte chunks need `.accumulate_bytes()`.
use managed::stream::ChunksExt;

fn main() {
    let chunks = vec![vec![0u8, 1], vec![2]];
    let acc = chunks.into_iter().accumulate();
    drop(acc);
}
