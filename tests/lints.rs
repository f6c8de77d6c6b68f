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

/// `defer!(err => { .. })`: DESIGN section 4 allows a block as the body, and
/// rustc's `unused_braces` used to fire on the user's braces.
fn block_bodies(fail: bool) -> Result<u32, Error> {
    let calls = std::cell::Cell::new(0);
    defer!({ calls.set(calls.get() + 1) });
    defer!(panic => { eprintln!("panicked") });
    scope! {
        defer!(err => { calls.set(calls.get() + 10) });
        defer!(ok => { calls.set(calls.get() + 100) });
        defer! {{ calls.set(calls.get() + 1000) }}
        if fail {
            return Err(Error::msg("asked to fail"));
        }
        Ok::<_, Error>(calls.get())
    }
}

#[test]
fn block_bodied_defers_raise_no_warning() {
    assert_eq!(block_bodies(false).ok(), Some(0));
    assert!(block_bodies(true).is_err());
}
