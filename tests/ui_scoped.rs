//! Compile-fail cases of `#[scoped]`: no `Result` return type, no manager,
//! an expression that is not a manager. `.stderr` files are for
//! `--all-features` (rustc lists the `Manage` impls, which depend on them);
//! regenerate with `TRYBUILD=overwrite cargo test --all-features --test ui_scoped`.
#![cfg(all(feature = "testing", feature = "anyhow", feature = "tracing"))]

#[test]
fn scoped_misuse_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/scoped/*.rs");
}
