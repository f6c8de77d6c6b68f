//! Compile-time misuse of `scope!`, `with!` and `defer!`: each case in
//! `tests/ui/<macro>/` must fail to compile with the message in its
//! `.stderr` (regenerate with `TRYBUILD=overwrite cargo test --test ui`, then
//! read every message: it must point at the user's token and name the fix).
//!
//! One test per folder: other suites (`ui_stream.rs`, `ui_exit_stack.rs`)
//! own their own folders, so this runner never globs all of `tests/ui/`.

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
