//! Compile-fail cases of `managed::stream` (trybuild).

#[test]
fn ui_stream() {
    trybuild::TestCases::new().compile_fail("tests/ui/stream/*.rs");
}
