//! Expansion snapshots (`tests/expand/<macro>/*.expanded.rs`): what
//! `scope!` (sync and async), a standalone `defer!` and each form of
//! `#[managed]` generate, for readers and reviewers. These files are the
//! reference for the expansions; ARCHITECTURE.md explains their shape.
//! Regenerate with `MACROTEST=overwrite cargo test --test expand` and read
//! the diff.
//!
//! One runner over all the folders: macrotest builds one project for the
//! run, with this package's dependencies and dev-dependencies, then runs
//! `cargo expand` once per file (the expansion uses the default features).
//!
//! Needs `cargo expand` (`cargo install cargo-expand --locked`; `.ci/run`
//! installs it); without it the test skips outside CI and fails in CI.

mod common;

#[test]
fn expansions_match_the_snapshots() {
    let expand_works = std::process::Command::new("cargo")
        .args(["expand", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !expand_works {
        common::skip_outside_ci(
            "`cargo expand` is not installed; install it with `cargo install cargo-expand --locked`",
        );
        return;
    }
    macrotest::expand("tests/expand/*/*.rs");
}
