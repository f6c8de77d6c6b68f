//! Misuses of `#[managed]` and `yield_!` are compile errors that say what to
//! write instead. Regenerate the `.stderr` files with `TRYBUILD=overwrite`
//! after changing a message, and read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/managed/*.rs");
}
