use managed::managed;

/// A sync manager: it goes in a `#[managed]` field, not `#[managed(async)]`.
struct Lock;

#[managed]
impl Lock {
    #[exit]
    fn release(self) {}
}

#[managed]
struct Both {
    #[managed(async)]
    lock: Lock,
}

fn main() {}
