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

/// `scope!` as the facade's wrapper calls it, with the facade `::managed`.
fn scope(input: TokenStream) -> TokenStream {
    crate::scope::expand(&quote::quote!(::managed), input)
}

/// `defer!` likewise.
fn defer(input: TokenStream) -> TokenStream {
    crate::defer::expand_standalone(&quote::quote!(::managed), input)
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
        feed(&source, scope);
        feed(&format!("async {{ {source} }}"), scope);
    }

    #[test]
    fn defer_never_panics(source in input()) {
        feed(&source, defer);
    }

    #[test]
    fn with_never_panics(source in input()) {
        feed(&source, crate::with::expand_standalone);
    }

    #[test]
    fn managed_attribute_never_panics(item in item(), args in args()) {
        let (Ok(item), Ok(args)) = (TokenStream::from_str(&item), TokenStream::from_str(&args)) else {
            return Ok(());
        };
        let out = crate::managed::expand(args, &item);
        prop_assert!(TokenStream::from_str(&out.to_string()).is_ok());
    }
}

/// Items for `#[managed]`: an item keyword and name, then random pieces, in
/// a body; sometimes well-formed enough to reach validation and expansion.
fn item() -> impl Strategy<Value = String> {
    let head = prop::sample::select(
        &[
            "impl Db",
            "struct S",
            "fn f()",
            "async fn f()",
            "fn f() -> Result<T, E>",
            "enum E",
            "trait T",
            "union U",
            "impl<T> Db<T>",
            "struct S<'a, T>",
            "const C: u8 = 1;",
            "fn f(x: u8) -> u8",
        ][..],
    );
    let attrs = prop::sample::select(
        &["", "#[enter]", "#[exit]", "#[managed]", "#[managed(enter = h, exit = g)]", "#[managed(async)]"][..],
    );
    (head, prop::collection::vec((attrs, prop::sample::select(ITEM_PIECES)), 0..12)).prop_map(|(head, body)| {
        let body: Vec<String> = body.into_iter().map(|(a, p)| format!("{a} {p}")).collect();
        format!("{head} {{ {} }}", body.join(" "))
    })
}

const ITEM_PIECES: &[&str] = &[
    "fn begin(&mut self) -> Result<(), E> { Ok(()) }",
    "fn end(self, o: &Outcome) {}",
    "fn end(self) -> Result<(), E> { Ok(()) }",
    "async fn end(self) {}",
    "fn e(&self) {}",
    "a: A,",
    "b: B,",
    "let x = 1;",
    "yield_!(x);",
    "let o = yield_!(x);",
    "yield_!();",
    "loop { yield_!(x); }",
    "return Err(e);",
    "x?;",
    ";",
    "{",
    "}",
    ",",
    "pub",
    "self",
];

fn args() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "",
            "crate = \"m\"",
            "crate = m",
            "crate",
            "foo",
            "crate = \"a\", crate = \"b\"",
            "error = E",
            "async",
            "enter = h",
            "exit = g",
            "on_cancel = f",
            "= =",
            "(",
            "1",
        ][..],
    )
    .prop_map(str::to_string)
}

#[test]
fn known_tricky_inputs() {
    for source in
        ["", "let x = with!(m)?;", "defer!(err => )", "async", "async move", "async { }", "with!(m)? ; Ok(())"]
    {
        feed(source, scope);
        feed(source, defer);
        // As the facade's wrappers call them, the facade's path first.
        feed(&format!("[::managed] {source}"), crate::scope::expand_wrapped);
        feed(&format!("[::managed] {source}"), crate::defer::expand_wrapped);
    }
}
