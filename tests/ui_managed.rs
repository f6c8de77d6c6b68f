//! Misuses of `#[managed]` and `yield_!` are compile errors that say what to
//! write instead: each case in `tests/ui/managed/` must fail to compile with
//! the message in its `.stderr`. Regenerate with
//! `TRYBUILD=overwrite cargo test --all-features --test ui_managed`, then
//! read every message: it must point at the user's token and name the fix.
//!
//! As in `tests/ui.rs`: rustc lists the `Manage` impls that exist, which
//! depend on the features, so the `.stderr` files are for `--all-features`
//! (CI's command) and the suite only runs with those features.
#![cfg(all(feature = "testing", feature = "anyhow", feature = "tracing"))]

#[test]
fn ui_managed() {
    trybuild::TestCases::new().compile_fail("tests/ui/managed/*.rs");
}
