//! Compile-fail cases (trybuild), one folder per macro or type: each case
//! `tests/ui/<folder>/<kebab-mistake>.rs` must fail to compile with the
//! message in its `.stderr`. Regenerate with
//! `TRYBUILD=overwrite cargo test --all-features --test ui`, then read every
//! message: it must point at the user's token and name the fix.
//!
//! rustc's messages list the impls that exist (e.g. the types implementing
//! `Manage`, and `testing::Probe` is one only with the `testing` feature),
//! so the `.stderr` files are for `--all-features`, the command CI runs,
//! and the suite only runs when those features are on (`async-scope` also
//! needs `tokio`, which `--all-features` brings).
//!
//! One `TestCases` for every folder: trybuild builds all the cases in one
//! `cargo` run.
#![cfg(all(feature = "testing", feature = "anyhow", feature = "tracing"))]

/// The folders of `tests/ui/`, each a topic: the macros, then the types
/// whose misuse the compiler refuses.
const FOLDERS: &[&str] = &["scope", "with", "defer", "managed", "scoped", "exit_stack", "stream"];

#[test]
fn misuse_does_not_compile() {
    let cases = trybuild::TestCases::new();
    for folder in FOLDERS {
        cases.compile_fail(format!("tests/ui/{folder}/*.rs"));
    }
    if cfg!(all(feature = "std", feature = "async", feature = "tokio")) {
        cases.compile_fail("tests/ui/async-scope/*.rs");
    }
}
