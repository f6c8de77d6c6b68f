use managed::{managed, Outcome};
use std::io::{BufWriter, Write};

#[managed(exit = Report::footer)]
pub struct Report<W: Write, M> {
    #[managed]
    out: BufWriter<W>,
    #[managed]
    extra: M,
    lines: usize,
}

impl<W: Write, M> Report<W, M> {
    fn footer(&mut self, _outcome: &Outcome) {
        self.lines += 1;
    }
}
