//! Compile-time errors of async scopes: each case in `tests/ui/async-scope/`
//! must fail with the message in its `.stderr` file.

#[test]
fn async_scope_misuse_is_rejected_with_a_clear_message() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/async-scope/*.rs");
}
