use managed::{managed, yield_};

struct Pool;

impl Pool {
    #[managed]
    fn lease(&mut self) -> u32 {
        yield_!(1);
    }
}

fn main() {}
