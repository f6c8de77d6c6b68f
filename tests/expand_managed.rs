//! Expansion snapshots of `#[managed]` (`tests/expand/managed/*.expanded.rs`):
//! what each form generates, for readers and reviewers. Regenerate with
//! `MACROTEST=overwrite cargo test --test expand_managed` and read the diff.
//!
//! Needs `cargo expand` (`cargo install cargo-expand --locked`); without it
//! the test says so and skips, so a machine without it still runs the rest.

#[test]
fn expansions_match_the_snapshots() {
    let expand_works = std::process::Command::new("cargo")
        .args(["expand", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !expand_works {
        eprintln!("skipped: `cargo expand` is not installed; install it with `cargo install cargo-expand --locked`");
        return;
    }
    macrotest::expand("tests/expand/managed/*.rs");
}
