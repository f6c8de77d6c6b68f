//! Compile-time misuse of `scope!`, `with!` and `defer!`: each case in
//! `tests/ui/<macro>/` must fail to compile with the message in its
//! `.stderr`. Regenerate with
//! `TRYBUILD=overwrite cargo test --all-features --test ui`, then read every
//! message: it must point at the user's token and name the fix.
//!
//! rustc's messages list the impls that exist (e.g. the types implementing
//! `Manage`, and `testing::Probe` is one only with the `testing` feature), so
//! the `.stderr` files are for `--all-features`, the command CI runs, and the
//! suite only runs when those features are on.
//!
//! One test per folder: other suites (`ui_stream.rs`, `ui_exit_stack.rs`)
//! own their own folders, so this runner never globs all of `tests/ui/`.
#![cfg(all(feature = "testing", feature = "anyhow", feature = "tracing"))]

#[test]
fn ui_scope() {
    trybuild::TestCases::new().compile_fail("tests/ui/scope/*.rs");
}

#[test]
fn ui_with() {
    trybuild::TestCases::new().compile_fail("tests/ui/with/*.rs");
}

#[test]
fn ui_defer() {
    trybuild::TestCases::new().compile_fail("tests/ui/defer/*.rs");
}
