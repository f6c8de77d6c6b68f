//! What the macros generate compiles cleanly in a strict user crate:
//! rustc's warnings and `unused_qualifications` are errors here, and clippy
//! (all + pedantic, run by CI with `-D warnings`) sees this file too.
#![deny(warnings, unused_qualifications, unused_results, clippy::all, clippy::pedantic)]

use managed::{defer, scope, with, Error};
use std::io::{BufWriter, Write};

fn write_report(sink: &mut Vec<u8>, fail: bool) -> Result<usize, Error> {
    let calls = std::cell::Cell::new(0);
    defer! {
        calls.set(calls.get() + 1);
    }
    let n = scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        defer!(err => eprintln!("failed"));
        defer!(ok => calls.set(calls.get() + 1));
        defer!(panic => eprintln!("panicked"));
        defer!(|outcome| assert!(outcome.is_ok() || fail));
        out.write_all(b"abc")?;
        if fail {
            return Err(Error::msg("asked to fail"));
        }
        Ok::<_, Error>(out.buffer().len())
    }?;
    sink.extend_from_slice(b"done");
    Ok(n)
}

#[test]
fn strict_lints_accept_the_expansion() {
    let mut sink = Vec::new();
    assert_eq!(write_report(&mut sink, false).ok(), Some(3));
    assert!(write_report(&mut sink, true).is_err());
    assert_eq!(sink, b"done");
}
