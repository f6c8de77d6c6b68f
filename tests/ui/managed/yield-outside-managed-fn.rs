use managed::yield_;

fn plain() -> u32 {
    yield_!(1);
    2
}

fn main() {
    plain();
}
