//! Compile-fail cases of `ExitStack`: the borrow checker forbids using a
//! target after close, entering into a stack that is borrowed out, moving
//! entries whose targets are lent, exits that borrow too briefly, and
//! entering something that is not a manager.

#[test]
fn exit_stack_misuse_does_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/exit_stack/*.rs");
}
