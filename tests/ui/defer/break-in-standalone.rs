// A deferred block runs when its block ends, in a closure: `break` cannot
// leave the loop from there.
use managed::defer;

fn main() {
    for i in 0..3 {
        defer! {
            if i == 1 {
                break;
            }
        }
    }
}
