use managed::managed;

fn discard(_: &mut Pool) {}

#[managed(on_cancel = discard)]
struct Pool {
    size: u32,
}

fn main() {}
