// A deferred block runs when its block ends, in a closure: `continue`
// cannot go to the next iteration from there.
use managed::defer;

fn main() {
    for i in 0..3 {
        defer! {
            if i == 1 {
                continue;
            }
        }
    }
}
