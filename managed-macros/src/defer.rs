//! `defer!`: parse its forms (shared with `scope!`, which handles the ones at
//! its top level), validate where it is used, expand the standalone forms.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Block, ExprAsync, ExprClosure, Ident, Stmt, Token};

use crate::paths;

/// Which outcomes a defer runs for: `defer!(FILTER => ..)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    Always,
    Ok,
    Err,
    Panic,
}

impl Filter {
    /// The runtime's `When` value for this filter.
    pub fn when(self) -> TokenStream {
        let p = paths::private();
        match self {
            Filter::Always => quote!(#p::When::Always),
            Filter::Ok => quote!(#p::When::Ok),
            Filter::Err => quote!(#p::When::Err),
            Filter::Panic => quote!(#p::When::Panic),
        }
    }
}

/// What a defer runs.
pub enum Body {
    /// `defer! { stmts }`, `defer!(expr)`, `defer!(err => expr)`.
    Stmts(Vec<Stmt>),
    /// `defer!(|outcome| ..)`: sees the outcome.
    Closure(ExprClosure),
    /// `defer!(async { .. })`, `defer!(err => async { .. })`: awaited at the
    /// end of an async scope.
    Async(ExprAsync),
}

/// A parsed `defer!(..)` invocation.
pub struct Defer {
    pub filter: Filter,
    /// The filter's token, for errors that point at it.
    pub filter_ident: Option<Ident>,
    pub body: Body,
}

impl Defer {
    /// Whether this defer needs `scope!` (it depends on the outcome or must
    /// be awaited): every form but `defer! { .. }` and `defer!(panic => ..)`.
    pub fn needs_scope(&self) -> bool {
        !matches!((self.filter, &self.body), (Filter::Always | Filter::Panic, Body::Stmts(_)))
    }

    /// Why this form needs a scope and what to write instead.
    pub fn needs_scope_message(&self, context: &str) -> String {
        let form = match (&self.body, self.filter) {
            (Body::Closure(_), _) => "defer!(|outcome| ..)".to_string(),
            (Body::Async(_), _) => "defer!(async { .. })".to_string(),
            (_, Filter::Ok) => "defer!(ok => ..)".to_string(),
            _ => "defer!(err => ..)".to_string(),
        };
        let why = match self.body {
            Body::Async(_) => "must be awaited, which only an async `scope!(async { .. })` does",
            _ => "needs to know how the block ends, which only `scope!` sees",
        };
        format!(
            "`{form}` {context}: it {why}; write it as a top-level statement of a `scope! {{ .. }}` block \
             (inside an `if` or a loop, open a nested `scope!` there). \
             Outside a scope, `defer! {{ .. }}` (always) and `defer!(panic => ..)` work as drop guards"
        )
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

/// Where an error about a form that needs a scope points: the token that
/// makes it need one (the filter, the closure's `|`, the `async`).
pub fn needs_scope_span(defer: &Defer, whole: Span) -> Span {
    match (&defer.filter_ident, &defer.body) {
        (Some(ident), _) => ident.span(),
        (None, Body::Closure(c)) => c.or1_token.span(),
        (None, Body::Async(a)) => a.async_token.span(),
        (None, Body::Stmts(_)) => whole,
    }
}

/// Errors for a `?` in the deferred code itself (not in a closure or async
/// block inside it): the deferred code runs as a closure returning `()`, so
/// rustc would only say "`?` in a closure that returns `()`".
pub fn check_body(defer: &Defer) -> Option<syn::Error> {
    struct Tries(Option<syn::Error>);
    impl<'ast> syn::visit::Visit<'ast> for Tries {
        fn visit_expr_try(&mut self, e: &'ast syn::ExprTry) {
            let error = syn::Error::new(
                e.question_token.span,
                "`?` in a `defer!` body: deferred code runs when the block is already over, so its error has \
                 nowhere to go; handle it here (`if let Err(e) = .. { .. }`, or `let _ = ..;` to ignore it), \
                 or make the resource a manager and enter it with `with!`: a failed exit is returned by `scope!`",
            );
            match &mut self.0 {
                Some(all) => all.combine(error),
                None => self.0 = Some(error),
            }
            syn::visit::visit_expr_try(self, e);
        }
        // Their own `?` returns from them, which is fine.
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut tries = Tries(None);
    match &defer.body {
        Body::Stmts(stmts) => stmts.iter().for_each(|s| syn::visit::Visit::visit_stmt(&mut tries, s)),
        Body::Closure(c) => syn::visit::Visit::visit_expr(&mut tries, &c.body),
        // An async defer's output is the async scope's business.
        Body::Async(_) => {}
    }
    tries.0
}

/// `defer!([$crate] ..)`, as the facade's `defer!` wrapper calls it: a
/// drop guard, or nothing for the `@managed_seen` marker of a scope.
pub fn expand_wrapped(input: TokenStream) -> TokenStream {
    let (facade, input) = paths::split_facade(input);
    if paths::is_seen_marker(&input) {
        return TokenStream::new();
    }
    expand_standalone(&facade, input)
}

/// `defer!` where it was not handled by an enclosing `scope!`: the drop
/// guard forms expand to a guard bound for the rest of the block; the other
/// forms are errors that say where to put them.
pub fn expand_standalone(facade: &TokenStream, input: TokenStream) -> TokenStream {
    let defer: Defer = match syn::parse2(input) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error(),
    };
    if defer.needs_scope() {
        let at = needs_scope_span(&defer, Span::call_site());
        let message = defer.needs_scope_message("outside the top level of a `scope!`");
        return syn::Error::new(at, message).to_compile_error();
    }
    if let Some(e) = check_body(&defer) {
        return e.to_compile_error();
    }
    let guard = paths::local("defer", 0);
    let Body::Stmts(stmts) = &defer.body else { unreachable!("needs_scope() covers the other forms") };
    let span = stmts.first().map_or_else(Span::call_site, Spanned::span);
    let ty = if defer.filter == Filter::Panic { quote!(DeferOnPanic) } else { quote!(Defer) };
    let body = quote_spanned!(span=> || { #(#stmts)* });
    quote! {
        let #guard = #facade::__private::#ty::new(#body);
    }
}
