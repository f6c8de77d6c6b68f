use managed::{managed, yield_};

fn discard(_: &mut u32) {}

#[managed(on_cancel = discard)]
fn lease(mut value: u32) -> u32 {
    yield_!(value);
}

fn main() {}
