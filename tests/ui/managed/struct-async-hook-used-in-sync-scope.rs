use managed::{managed, scope, with, Error, Outcome};

// An async hook makes the struct an async manager, even with sync fields
// only: it is entered in `scope!(async { .. })`, not in a sync scope.
#[managed(exit = async Session::flush)]
struct Session {
    #[managed]
    out: std::io::BufWriter<Vec<u8>>,
}

impl Session {
    async fn flush(&mut self, _outcome: &Outcome<'_>) {}
}

fn main() {
    let _ = scope! {
        let _s = with!(Session { out: std::io::BufWriter::new(Vec::new()).into() })?;
        Ok::<_, Error>(())
    };
}
