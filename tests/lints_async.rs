//! What `scope!(async { .. })` generates compiles cleanly in a strict user
//! crate: rustc's warnings and `unused_qualifications` are errors here, and
//! clippy (all + pedantic, run by CI with `-D warnings`) sees this file too.
#![deny(warnings, unused_qualifications, unused_results, clippy::all, clippy::pedantic)]

mod common;

use common::{block_on, Journal};
use managed::{defer, scope, with, Error};
use std::io::{BufWriter, Write};

async fn write_report(j: &Journal, fail: bool) -> Result<usize, Error> {
    let calls = std::cell::Cell::new(0);
    let n = scope!(async {
        let probe = with!(j.probe("a"))?;
        let out = with!(BufWriter::new(Vec::new()))?;
        defer!(err => eprintln!("failed"));
        defer!(ok => calls.set(calls.get() + 1));
        defer!(panic => eprintln!("panicked"));
        defer!(|outcome| assert!(outcome.is_ok() || fail));
        defer!(async { calls.set(calls.get() + 1) });
        defer!(err => async { eprintln!("failed, awaited") });
        out.write_all(b"abc")?;
        probe.journal.push("body");
        if fail {
            return Err(Error::msg("asked to fail"));
        }
        Ok::<_, Error>(out.buffer().len())
    })
    .await?;
    Ok(n + calls.get())
}

#[test]
fn strict_lints_accept_the_async_expansion() {
    let j = Journal::new();
    assert_eq!(block_on(write_report(&j, false)).ok(), Some(5));
    assert!(block_on(write_report(&j, true)).is_err());
    assert_eq!(j.lines().iter().filter(|l| *l == "body").count(), 2);
}
