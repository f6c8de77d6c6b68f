//! Compile-fail cases of `ExitStack`: the borrow checker forbids using a
//! target after close, entering into a stack that is borrowed out, moving
//! entries whose targets are lent, exits that borrow too briefly, and
//! entering something that is not a manager. Of the async stacks: an
//! `AsyncExitStack` held across an `.await` keeps a future from being
//! spawned, and a `SendAsyncExitStack` refuses what is not `Send` (the
//! `compile_fail` doc examples show the same; these pin the reason).
//!
//! rustc's message for the last one lists the types implementing `Manage`,
//! which depends on the features (`testing::Probe`), so the `.stderr` files
//! are for `--all-features` (what CI runs), as in `tests/ui.rs`. Regenerate
//! with `TRYBUILD=overwrite cargo test --all-features --test ui_exit_stack`.
#![cfg(all(feature = "testing", feature = "anyhow", feature = "tracing"))]

#[test]
fn exit_stack_misuse_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/exit_stack/*.rs");
}
