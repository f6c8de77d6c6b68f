//! Compile-time misuse of `managed::stream` (trybuild): each case in
//! `tests/ui/stream/` must fail to compile with the message in its
//! `.stderr`. Regenerate with
//! `TRYBUILD=overwrite cargo test --all-features --test ui_stream`.
//!
//! Like `tests/ui.rs`, the `.stderr` files are for `--all-features` (rustc's
//! messages list the impls that exist), so the suite runs only then.
#![cfg(all(feature = "testing", feature = "anyhow", feature = "tracing"))]

#[test]
fn ui_stream() {
    trybuild::TestCases::new().compile_fail("tests/ui/stream/*.rs");
}
