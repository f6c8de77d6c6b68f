// `return` in a deferred block leaves the deferred block, not the fn: a
// value cannot be returned from there.
use managed::defer;

fn check() -> u32 {
    defer! {
        return 1;
    }
    0
}

fn main() {
    let _ = check();
}
