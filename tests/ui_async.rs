//! Compile-time errors of async scopes: each case in `tests/ui/async-scope/`
//! must fail with the message in its `.stderr` file.
//!
//! rustc lists the other `Manage` impls in these errors, and which exist
//! depends on the features: the expected output is that of
//! `--all-features` (what CI runs), so the test runs only then. Regenerate
//! with `TRYBUILD=overwrite cargo test --all-features --test ui_async`.
#![cfg(all(
    feature = "std",
    feature = "async",
    feature = "tokio",
    feature = "tracing",
    feature = "anyhow",
    feature = "testing"
))]

#[test]
fn async_scope_misuse_is_rejected_with_a_clear_message() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/async-scope/*.rs");
}
