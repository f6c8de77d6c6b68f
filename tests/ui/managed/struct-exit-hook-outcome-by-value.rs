// An exit hook takes `&Outcome`: one that takes it by value is reported at
// the hook's path, not at the whole attribute.
use managed::{managed, Outcome};
use std::io::BufWriter;

#[managed(exit = Report::footer)]
struct Report {
    #[managed]
    out: BufWriter<Vec<u8>>,
}

impl Report {
    fn footer(&mut self, _outcome: Outcome<'_>) {}
}

fn main() {}
