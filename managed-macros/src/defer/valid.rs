//! Checks of a `defer!`, shared with `scope!`: a form that needs a scope
//! used outside one, and a `?` in the deferred code.

use proc_macro2::Span;

use super::ast::{Body, Defer, Filter};

/// A `defer!` outside the top level of a scope: only the drop-guard forms
/// work there; the others are an error at the token that makes them need a
/// scope. `context` says where it is ("inside an `if` of a `scope!`").
pub(crate) fn check_needs_no_scope(defer: &Defer, context: &str, whole: Span) -> Option<syn::Error> {
    defer.needs_scope().then(|| syn::Error::new(defer.needs_scope_span(whole), needs_scope_message(defer, context)))
}

/// Why this form needs a scope and what to write instead.
fn needs_scope_message(defer: &Defer, context: &str) -> String {
    let form = match (&defer.body, defer.filter) {
        (Body::Closure(_), _) => "defer!(|outcome| ..)".to_string(),
        (Body::Async(_), _) => "defer!(async { .. })".to_string(),
        (_, Filter::Ok) => "defer!(ok => ..)".to_string(),
        _ => "defer!(err => ..)".to_string(),
    };
    let why = match defer.body {
        Body::Async(_) => "must be awaited, which only an async `scope!(async { .. })` does",
        _ => "needs to know how the block ends, which only `scope!` sees",
    };
    format!(
        "`{form}` {context}: it {why}; write it as a top-level statement of a `scope! {{ .. }}` block \
         (inside an `if` or a loop, open a nested `scope!` there). \
         Outside a scope, `defer! {{ .. }}` (always) and `defer!(panic => ..)` work as drop guards"
    )
}

/// Errors for a `?` in the deferred code itself (not in a closure or async
/// block inside it): the deferred code runs as a closure returning `()`, so
/// rustc would only say "`?` in a closure that returns `()`".
pub(crate) fn check_body(defer: &Defer) -> Option<syn::Error> {
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
