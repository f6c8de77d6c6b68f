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
/// block inside it): the deferred code runs as a closure (or an async block)
/// whose value is `()`, so rustc would only say "`?` in a closure that
/// returns `()`".
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
        Body::Async(block) => block.block.stmts.iter().for_each(|s| syn::visit::Visit::visit_stmt(&mut tries, s)),
    }
    tries.0
}

/// The first `break` or `continue` that would leave the deferred code (not
/// one of a loop inside it), or `return` with a value: the deferred code
/// runs as a closure at the end of the block, so rustc would say "`break`
/// inside of a closure" about a closure the user never wrote.
pub(crate) fn check_jumps(defer: &Defer) -> Option<syn::Error> {
    struct Jumps {
        loops: usize,
        /// The labels of the loops and blocks inside the deferred code.
        labels: Vec<String>,
        found: Option<syn::Error>,
    }
    impl Jumps {
        fn leaves(&self, label: Option<&syn::Lifetime>) -> bool {
            match label {
                Some(label) => !self.labels.contains(&label.ident.to_string()),
                None => self.loops == 0,
            }
        }
        fn enter(&mut self, label: Option<&syn::Label>) {
            self.loops += 1;
            self.labels.extend(label.map(|l| l.name.ident.to_string()));
        }
        fn leave(&mut self, label: Option<&syn::Label>) {
            self.loops -= 1;
            if label.is_some() {
                self.labels.pop();
            }
        }
        fn report(&mut self, at: Span, what: &str, instead: &str) {
            if self.found.is_none() {
                self.found = Some(syn::Error::new(
                    at,
                    format!(
                        "`{what}` in a `defer!` body: deferred code runs when its block ends, after the code \
                         around it, so it cannot leave that code's loop or function; {instead}"
                    ),
                ));
            }
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Jumps {
        fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
            if self.leaves(e.label.as_ref()) {
                self.report(e.break_token.span, "break", "decide before the block ends, and `break` there");
            }
            syn::visit::visit_expr_break(self, e);
        }
        fn visit_expr_continue(&mut self, e: &'ast syn::ExprContinue) {
            if self.leaves(e.label.as_ref()) {
                self.report(e.continue_token.span, "continue", "decide before the block ends, and `continue` there");
            }
        }
        fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
            if e.expr.is_some() {
                self.report(
                    e.return_token.span,
                    "return",
                    "a deferred block has no value to return (`return;` ends it)",
                );
            }
            syn::visit::visit_expr_return(self, e);
        }
        fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
            self.enter(e.label.as_ref());
            syn::visit::visit_expr_loop(self, e);
            self.leave(e.label.as_ref());
        }
        fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
            self.enter(e.label.as_ref());
            syn::visit::visit_expr_while(self, e);
            self.leave(e.label.as_ref());
        }
        fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
            self.enter(e.label.as_ref());
            syn::visit::visit_expr_for_loop(self, e);
            self.leave(e.label.as_ref());
        }
        fn visit_expr_block(&mut self, e: &'ast syn::ExprBlock) {
            // A labeled block: `break 'label` leaves it, not the code.
            self.labels.extend(e.label.as_ref().map(|l| l.name.ident.to_string()));
            syn::visit::visit_expr_block(self, e);
            if e.label.is_some() {
                self.labels.pop();
            }
        }
        // Their own jumps stay inside them.
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut jumps = Jumps { loops: 0, labels: Vec::new(), found: None };
    match &defer.body {
        Body::Stmts(stmts) => stmts.iter().for_each(|s| syn::visit::Visit::visit_stmt(&mut jumps, s)),
        Body::Closure(c) => syn::visit::Visit::visit_expr(&mut jumps, &c.body),
        Body::Async(block) => block.block.stmts.iter().for_each(|s| syn::visit::Visit::visit_stmt(&mut jumps, s)),
    }
    jumps.found
}
