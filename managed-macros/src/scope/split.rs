//! What a split point (a top-level `with!` or `defer!` statement) becomes
//! in both expansions: the `with!` statement with its call replaced by the
//! enter, the conversion of the manager's error into the scope's, the
//! closure a sync `defer!` body runs as, the defer's `When`, and the
//! `path!(@managed_seen);` markers of the macro paths the scope consumed.
//!
//! A manager's error converts into the scope's with `From`, except for a
//! manager that cannot fail (`Error = Infallible`), whose error needs no
//! conversion: `std::io::Error` and a user's error enum have no
//! `From<Infallible>`. The choice is made at the call site on the concrete
//! manager type (see `managed_core::convert`), so the user's `?` on the
//! enter, which would ask for `From<Infallible>`, is rewritten:
//! `with!(m)?` becomes
//!
//! ```text
//! (match <enter> {
//!     Ok(target) => target,
//!     Err(error) => return Err(Convert::convert(<conversion of error's type>, error)),
//! })
//! ```
//!
//! which is what `?` does for a `Result` (its `From` for a manager that can
//! fail), located at the user's `?` (in full: `tests/expand/scope/`). Any other use of the enter's result
//! (`with!(m).map_err(..)?`, `let Ok(t) = with!(m);`, `with!(m);`) sees
//! `Result<&mut Target, M::Error>` as written.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, ExprAsync, Stmt};

use super::ast::{is_placeholder, with_slot, Scope, Segment};
use crate::defer::ast::{Body, Filter};
use crate::paths;

/// `stmt` (a `with!` statement) with its `with!(..)` replaced by `enter`,
/// an expression of type `Result<&mut Target, M::Error>` located at `at`
/// (the user's `with!`); a `?` right after it is rewritten as the module
/// docs say.
pub(crate) fn replace_with_call(stmt: &Stmt, enter: TokenStream, at: Span) -> Stmt {
    let mut stmt = stmt.clone();
    ReplaceSlot { enter: Some(enter), at }.visit_stmt_mut(&mut stmt);
    stmt
}

/// The conversion tag (`CannotFail` or `ViaFrom`) for the error type of
/// `of`, an expression of type `ErrorOf<X>` (see [`crate::conversion`]).
pub(crate) fn error_conversion(of: &TokenStream, at: Span) -> TokenStream {
    crate::conversion::error_conversion(&paths::private_at(at), of, at)
}

/// `with!(m)?`: the enter, and on an error a `return` of it converted.
fn try_enter(enter: &TokenStream, question: Span, at: Span) -> TokenStream {
    let hygienic = Span::mixed_site().located_at(question);
    let p = paths::private_at(hygienic);
    let target = syn::Ident::new("__managed_target", hygienic);
    let error = syn::Ident::new("__managed_error", hygienic);
    let conversion = error_conversion(&quote_spanned!(hygienic=> #p::error_of(&#error)), hygienic);
    let arms = quote_spanned! {hygienic=>
        #p::Ok(#target) => #target,
        #p::Err(#error) => return #p::Err(#p::Convert::convert(#conversion, #error)),
    };
    // The parentheses carry the user's `with!` (as the enter's), so the
    // rewritten `with!(m)?` reads as one expression in errors around it.
    quote_spanned!(at=> (match #enter { #arms }))
}

struct ReplaceSlot {
    enter: Option<TokenStream>,
    at: Span,
}

impl VisitMut for ReplaceSlot {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Some(tried) = with_slot(expr, is_tried_placeholder) {
            if let (Some(enter), Expr::Try(e)) = (self.enter.take(), &*tried) {
                *tried = Expr::Verbatim(try_enter(&enter, e.question_token.span, self.at));
            }
            return;
        }
        if let Some(slot) = with_slot(expr, is_placeholder) {
            if let Some(enter) = self.enter.take() {
                *slot = Expr::Verbatim(enter);
            }
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// `with!(m)?`, or `(with!(m))?`.
fn is_tried_placeholder(expr: &Expr) -> bool {
    let Expr::Try(e) = expr else { return false };
    let mut inner = &*e.expr;
    while let Expr::Paren(p) = inner {
        inner = &p.expr;
    }
    is_placeholder(inner)
}

/// The runtime's `When` value for a defer's filter.
pub(crate) fn when(filter: Filter) -> TokenStream {
    let p = paths::private();
    match filter {
        Filter::Always => quote!(#p::When::Always),
        Filter::Ok => quote!(#p::When::Ok),
        Filter::Err => quote!(#p::When::Err),
        Filter::Panic => quote!(#p::When::Panic),
    }
}

/// What a `defer!` runs after the rest of its scope.
pub(crate) enum Deferred<'a> {
    /// A closure given the outcome: the defer's statements (located at the
    /// first of them), or the user's closure.
    Sync(TokenStream),
    /// `async { .. }`, awaited (async scopes only).
    Async(&'a ExprAsync),
}

/// The deferred code of a `defer!` statement.
pub(crate) fn deferred(body: &Body) -> Deferred<'_> {
    let p = paths::private();
    match body {
        Body::Stmts(stmts) => {
            let span = stmts.first().map_or_else(Span::call_site, Spanned::span);
            Deferred::Sync(quote_spanned!(span=> |_: &#p::Outcome<'_>| { #(#stmts)* }))
        }
        Body::Closure(closure) => Deferred::Sync(quote!(#closure)),
        Body::Async(block) => Deferred::Async(block),
    }
}

/// One `with!(@managed_seen);` / `defer!(@managed_seen);` per macro path the
/// scope consumed, so the user's imports of them count as used.
pub(crate) fn seen_macros(scope: &Scope) -> TokenStream {
    let marker = paths::seen_marker();
    let mut seen: Vec<String> = Vec::new();
    let mut out = TokenStream::new();
    for segment in &scope.segments {
        let path = match segment {
            Segment::With(w) => &w.path,
            Segment::Defer(d) => &d.path,
            Segment::Plain(_) => continue,
        };
        let key = quote!(#path).to_string();
        if !seen.contains(&key) {
            seen.push(key);
            out.extend(quote!(#path!(#marker);));
        }
    }
    out
}

/// The plain statements among `segments`.
pub(crate) fn plain_stmts(segments: &[Segment]) -> impl Iterator<Item = &Stmt> {
    segments.iter().filter_map(|s| match s {
        Segment::Plain(stmt) => Some(stmt),
        _ => None,
    })
}
