//! Fuzzing the macros' entry points with random token streams built from
//! the tokens that matter to them: whatever the input, they return tokens
//! (an expansion or `compile_error!`s), never panic.

use proc_macro2::TokenStream;
use proptest::prelude::*;
use std::str::FromStr;

/// Pieces of input, each valid as tokens on its own; sequences of them are
/// mostly invalid Rust, which is the point.
const PIECES: &[&str] = &[
    "with!(m)",
    "with!()",
    "with!(a, b)",
    "with!",
    "defer!",
    "defer!(x)",
    "defer!(err => x)",
    "defer!(ok => {})",
    "defer!(panic => p())",
    "defer!(foo => x)",
    "defer!(|o| f(o))",
    "defer!(err => |o| x)",
    "defer!(async { x })",
    "scope!",
    "{ }",
    "( )",
    "[ ]",
    "let",
    "x",
    "=",
    "?",
    ";",
    ".",
    "await",
    "async",
    "move",
    "=>",
    "|",
    "||",
    "return",
    "break",
    "continue",
    "'a:",
    "'a",
    "loop",
    "for",
    "in",
    "if",
    "else",
    "match",
    "Ok(())",
    "Err(e)",
    "1",
    "\"s\"",
    "fn",
    "struct",
    "impl",
    "#[managed]",
    "yield_!(v)",
    "::",
    "managed",
    ",",
    "*",
    "&",
    "mut",
    "-",
    "!",
];

fn input() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..24).prop_map(|pieces| pieces.join(" "))
}

/// Runs `f` on `source` parsed as tokens (when it is valid as tokens).
fn feed(source: &str, f: fn(TokenStream) -> TokenStream) {
    if let Ok(tokens) = TokenStream::from_str(source) {
        let out = f(tokens);
        // Whatever came out must itself be valid tokens.
        assert!(TokenStream::from_str(&out.to_string()).is_ok(), "unparsable output for {source:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scope_never_panics(source in input()) {
        feed(&source, crate::scope::expand);
        feed(&format!("async {{ {source} }}"), crate::scope::expand);
    }

    #[test]
    fn defer_never_panics(source in input()) {
        feed(&source, crate::defer::expand_standalone);
    }

    #[test]
    fn with_never_panics(source in input()) {
        feed(&source, crate::with::expand_standalone);
    }
}

#[test]
fn known_tricky_inputs() {
    for source in
        ["", "let x = with!(m)?;", "defer!(err => )", "async", "async move", "async { }", "with!(m)? ; Ok(())"]
    {
        feed(source, crate::scope::expand);
        feed(source, crate::defer::expand_standalone);
    }
}
