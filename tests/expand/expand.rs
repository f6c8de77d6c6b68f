//! Expansion snapshots (`<macro>/*.expanded.rs` in this folder): what
//! `scope!` (sync and async), a standalone `defer!` and each form of
//! `#[managed]` generate, for readers and reviewers. These files are the
//! reference for the expansions; ARCHITECTURE.md explains their shape.
//! Regenerate with `MACROTEST=overwrite cargo test -p managed-expand-snapshots`
//! and read the diff.
//!
//! One runner over every folder: macrotest builds one project for the run,
//! with this crate's dependencies (`managed`, default features), then runs
//! `cargo expand` once per file.
//!
//! Needs `cargo expand` (`cargo install cargo-expand --locked`; `.ci/run`
//! installs it): without it the test skips, except in CI (`CI` set, as in
//! `tests/common`), where it fails.

#[cfg(test)]
mod tests {
    #[test]
    fn expansions_match_the_snapshots() {
        let expand_works = std::process::Command::new("cargo")
            .args(["expand", "--version"])
            .output()
            .is_ok_and(|out| out.status.success());
        if !expand_works {
            let in_ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
            assert!(!in_ci, "`cargo expand` is not installed, and CI must run every test");
            eprintln!(
                "skipped: `cargo expand` is not installed; install it with `cargo install cargo-expand --locked`"
            );
            return;
        }
        macrotest::expand("*/*.rs");
    }
}
