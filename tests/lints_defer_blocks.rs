//! A block as a `defer!` body (`defer!(err => { .. })`, DESIGN section 4)
//! compiles cleanly in a strict user crate: rustc's `unused_braces` used to
//! fire on the user's braces. Warnings are errors here.
#![deny(warnings, unused_qualifications, unused_results, clippy::all, clippy::pedantic)]

use managed::{defer, scope, Error};

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
