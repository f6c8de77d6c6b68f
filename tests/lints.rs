//! What the macros generate compiles cleanly in a strict user crate:
//! rustc's warnings and `unused_qualifications` are errors here, and clippy
//! (all + pedantic, run by CI with `-D warnings`) sees this file too. The
//! code also does what it says: each defer runs when its filter says.
#![deny(warnings, unused_qualifications, unused_results, clippy::all, clippy::pedantic)]

use managed::{defer, scope, with, Error};
use std::cell::Cell;
use std::io::{BufWriter, Write};

/// Each defer adds its own digit to `calls`.
fn write_report(sink: &mut Vec<u8>, calls: &Cell<u32>, fail: bool) -> Result<usize, Error> {
    defer! {
        calls.set(calls.get() + 1);
    }
    let n = scope! {
        let out = with!(BufWriter::new(Vec::new()))?;
        defer!(err => calls.set(calls.get() + 10));
        defer!(ok => calls.set(calls.get() + 100));
        defer!(panic => calls.set(calls.get() + 1000));
        defer!(|outcome| calls.set(calls.get() + if outcome.is_ok() { 10_000 } else { 20_000 }));
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
    let calls = Cell::new(0);
    assert_eq!(write_report(&mut sink, &calls, false).ok(), Some(3));
    assert_eq!(calls.get(), 1 + 100 + 10_000);
    calls.set(0);
    let e = write_report(&mut sink, &calls, true).expect_err("asked to fail");
    assert_eq!(e.to_string(), "asked to fail");
    assert_eq!(calls.get(), 1 + 10 + 20_000);
    assert_eq!(sink, b"done");
}
