//! `defer!`'s input as a model: which outcomes it runs for, and what it
//! runs. `scope!` parses the `defer!` statements at its top level with the
//! same model.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Block, ExprAsync, ExprClosure, Ident, Stmt, Token};

/// Which outcomes a defer runs for: `defer!(FILTER => ..)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    Always,
    Ok,
    Err,
    Panic,
}

/// What a defer runs.
pub(crate) enum Body {
    /// `defer! { stmts }`, `defer!(expr)`, `defer!(err => expr)`.
    Stmts(Vec<Stmt>),
    /// `defer!(|outcome| ..)`: sees the outcome.
    Closure(ExprClosure),
    /// `defer!(async { .. })`, `defer!(err => async { .. })`: awaited at the
    /// end of an async scope.
    Async(ExprAsync),
}

/// A parsed `defer!(..)` invocation.
pub(crate) struct Defer {
    pub(crate) filter: Filter,
    /// The filter's token, for errors that point at it.
    pub(crate) filter_ident: Option<Ident>,
    pub(crate) body: Body,
}

impl Defer {
    /// Whether this defer needs `scope!` (it depends on the outcome or must
    /// be awaited): every form but `defer! { .. }` and `defer!(panic => ..)`.
    pub(crate) fn needs_scope(&self) -> bool {
        !matches!((self.filter, &self.body), (Filter::Always | Filter::Panic, Body::Stmts(_)))
    }

    /// The token that makes this form need a scope (the filter, the
    /// closure's `|`, the `async`), else `whole`.
    pub(crate) fn needs_scope_span(&self, whole: Span) -> Span {
        match (&self.filter_ident, &self.body) {
            (Some(ident), _) => ident.span(),
            (None, Body::Closure(c)) => c.or1_token.span(),
            (None, Body::Async(a)) => a.async_token.span(),
            (None, Body::Stmts(_)) => whole,
        }
    }
}

impl Parse for Defer {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut filter = Filter::Always;
        let mut filter_ident = None;
        if input.peek(Ident) && input.peek2(Token![=>]) {
            let ident: Ident = input.parse()?;
            filter = match ident.to_string().as_str() {
                "ok" => Filter::Ok,
                "err" => Filter::Err,
                "panic" => Filter::Panic,
                other => {
                    return Err(syn::Error::new(
                        ident.span(),
                        format!(
                            "unknown `defer!` filter `{other}`{}: write `ok =>` (runs when the scope succeeds), \
                             `err =>` (on an error or a panic), `panic =>` (only on a panic), \
                             or no filter to always run: `defer! {{ .. }}`",
                            filter_suggestion(other)
                        ),
                    ))
                }
            };
            input.parse::<Token![=>]>()?;
            filter_ident = Some(ident);
        }
        let body = if input.peek(Token![async]) {
            Body::Async(input.parse()?)
        } else if input.peek(Token![|])
            || input.peek(Token![||])
            || (input.peek(Token![move]) && input.peek2(Token![|]))
        {
            let closure: ExprClosure = input.parse()?;
            if let Some(ident) = &filter_ident {
                return Err(syn::Error::new(
                    ident.span(),
                    "a closure `defer!` takes no filter: write `defer!(|outcome| ..)` and test the outcome inside, \
                     or drop the closure: `defer!(err => ..)`",
                ));
            }
            Body::Closure(closure)
        } else {
            Body::Stmts(unwrap_block(Block::parse_within(input)?))
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the deferred code: a `defer!` takes one body"));
        }
        Ok(Defer { filter, filter_ident, body })
    }
}

/// The statements of `defer!(err => { .. })` / `defer!({ .. })`: the body
/// is already placed in a block, and a second pair of braces around it made
/// rustc's `unused_braces` lint fire on the user's braces.
fn unwrap_block(mut stmts: Vec<Stmt>) -> Vec<Stmt> {
    if let [Stmt::Expr(syn::Expr::Block(block), None)] = stmts.as_mut_slice() {
        if block.attrs.is_empty() && block.label.is_none() {
            return std::mem::take(&mut block.block.stmts);
        }
    }
    stmts
}

/// A "did you mean" for a misspelled filter: the names people bring from
/// Go, D, Zig and scopeguard.
fn filter_suggestion(unknown: &str) -> &'static str {
    match unknown.to_ascii_lowercase().as_str() {
        "error" | "errors" | "failure" | "fail" | "failed" | "exit_failure" | "on_error" | "on_err" | "errdefer"
        | "unwind" | "on_unwind" => " (did you mean `err`?)",
        "success" | "succeeded" | "exit_success" | "on_success" | "on_ok" | "okay" => " (did you mean `ok`?)",
        "panics" | "panicked" | "panicking" | "on_panic" => " (did you mean `panic`?)",
        "always" | "all" | "any" | "exit" | "finally" => " (an unconditional defer takes no filter: `defer! { .. }`)",
        _ => "",
    }
}
