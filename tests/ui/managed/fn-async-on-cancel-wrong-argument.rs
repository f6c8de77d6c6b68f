use managed::{managed, yield_};

fn discard(_: &mut String) {}

#[managed(on_cancel = discard)]
async fn lease(mut value: u32) -> u32 {
    yield_!(value);
}

fn main() {}
