//! A block as a `defer!` body (`defer!(err => { .. })`, DESIGN section 4)
//! compiles cleanly in a strict user crate: rustc's `unused_braces` used to
//! fire on the user's braces. Warnings are errors here. The defers also
//! run, each when its filter says.
#![deny(warnings, unused_qualifications, unused_results, clippy::all, clippy::pedantic)]

use managed::{defer, scope, Error};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// How `block_bodies` ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Ok,
    Err,
    Panic,
}

/// `defer!(err => { .. })`: DESIGN section 4 allows a block as the body, and
/// rustc's `unused_braces` used to fire on the user's braces. Each defer
/// adds its own digit to `calls`.
fn block_bodies(calls: &Cell<u32>, end: End) -> Result<(), Error> {
    defer!({ calls.set(calls.get() + 1) });
    defer!(panic => { calls.set(calls.get() + 10_000) });
    scope! {
        defer!(err => { calls.set(calls.get() + 10) });
        defer!(ok => { calls.set(calls.get() + 100) });
        defer! {{ calls.set(calls.get() + 1000) }}
        match end {
            End::Ok => Ok::<_, Error>(()),
            End::Err => Err(Error::msg("asked to fail")),
            End::Panic => panic!("asked to panic"),
        }
    }
}

#[test]
fn block_bodied_defers_raise_no_warning_and_run_when_their_filter_says() {
    let calls = Cell::new(0);
    assert!(block_bodies(&calls, End::Ok).is_ok());
    assert_eq!(calls.get(), 1 + 100 + 1000);

    calls.set(0);
    assert!(block_bodies(&calls, End::Err).is_err());
    assert_eq!(calls.get(), 1 + 10 + 1000);

    calls.set(0);
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let panicked = catch_unwind(AssertUnwindSafe(|| block_bodies(&calls, End::Panic)));
    std::panic::set_hook(quiet);
    assert!(panicked.is_err());
    // `err` runs on a panic too.
    assert_eq!(calls.get(), 1 + 10 + 1000 + 10_000);
}
