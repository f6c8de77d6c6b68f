//! Checks of a parsed `scope!` that the expansion relies on. Every error is
//! collected (one compile shows them all) and points at the user's token.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use super::parse::{Scope, Segment};
use crate::defer::{Body, Defer};
use crate::diag::Errors;
use crate::paths;

pub fn validate(scope: &Scope) -> Result<(), TokenStream> {
    let mut errors = Errors::new();
    match scope.segments.last() {
        None => errors.push(syn::Error::new(
            scope.span,
            "empty `scope!`: a scope evaluates to a `Result`; end it with its value, e.g. `scope! { ..; Ok(()) }`",
        )),
        Some(Segment::With(w)) => errors.push(syn::Error::new(
            w.span,
            "a `scope!` must end with its value, not with `with!`: add the value after it, e.g. `Ok(())`",
        )),
        Some(Segment::Defer(d)) => errors.push(syn::Error::new(
            d.span,
            "a `scope!` must end with its value, not with `defer!`: add the value after it, e.g. `Ok(())`",
        )),
        Some(Segment::Plain(_)) => {}
    }
    let mut checker = Checker {
        errors: &mut errors,
        is_async: scope.asyncness.is_some(),
        loops: 0,
        labels: Vec::new(),
        closures: 0,
        async_blocks: 0,
        in_defer: false,
    };
    for segment in &scope.segments {
        match segment {
            Segment::Plain(stmt) => checker.visit_stmt(stmt),
            Segment::With(w) => {
                checker.visit_expr(&w.manager);
                checker.visit_stmt(&w.stmt);
            }
            Segment::Defer(d) => checker.visit_defer_body(&d.defer),
        }
    }
    errors.finish()
}

struct Checker<'e> {
    errors: &'e mut Errors,
    is_async: bool,
    /// Loops entered inside the scope (a `break` in them stays inside).
    loops: usize,
    /// Labels of loops and blocks entered inside the scope.
    labels: Vec<String>,
    /// Depth of closures and async blocks: their `break`/`.await` are checked
    /// by rustc against their own boundaries.
    closures: usize,
    async_blocks: usize,
    /// Inside a `defer!` body (which runs as a closure of its own).
    in_defer: bool,
}

impl Checker<'_> {
    fn visit_defer_body(&mut self, defer: &Defer) {
        self.in_defer = true;
        match &defer.body {
            Body::Stmts(stmts) => stmts.iter().for_each(|s| self.visit_stmt(s)),
            Body::Closure(c) => self.visit_expr_closure(c),
            Body::Async(a) => self.visit_expr_async(a),
        }
        self.in_defer = false;
    }

    fn leaves(&self, label: Option<&syn::Lifetime>) -> bool {
        if self.closures > 0 || self.async_blocks > 0 {
            return false;
        }
        match label {
            Some(l) => !self.labels.contains(&l.ident.to_string()),
            None => self.loops == 0,
        }
    }

    fn boundary(&self) -> &'static str {
        if self.in_defer {
            "a `defer!` body (it runs as a closure after the rest of the scope)"
        } else {
            "a `scope!` (its block runs as a closure, so that every exit sees how it ended)"
        }
    }

    fn in_loop(&mut self, label: Option<&syn::Label>, f: impl FnOnce(&mut Self)) {
        self.loops += 1;
        if let Some(l) = label {
            self.labels.push(l.name.ident.to_string());
        }
        f(self);
        if label.is_some() {
            self.labels.pop();
        }
        self.loops -= 1;
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.in_loop(e.label.as_ref(), |c| visit::visit_expr_loop(c, e));
    }
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.in_loop(e.label.as_ref(), |c| visit::visit_expr_while(c, e));
    }
    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.in_loop(e.label.as_ref(), |c| visit::visit_expr_for_loop(c, e));
    }
    fn visit_expr_block(&mut self, e: &'ast syn::ExprBlock) {
        if let Some(l) = &e.label {
            self.labels.push(l.name.ident.to_string());
            visit::visit_expr_block(self, e);
            self.labels.pop();
        } else {
            visit::visit_expr_block(self, e);
        }
    }
    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        self.closures += 1;
        visit::visit_expr_closure(self, e);
        self.closures -= 1;
    }
    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        self.async_blocks += 1;
        visit::visit_expr_async(self, e);
        self.async_blocks -= 1;
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {
        // A nested item is its own world: none of our rules reach into it.
    }
    fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
        if self.leaves(e.label.as_ref()) {
            let message = format!(
                "`break` cannot leave {}; make the scope return a value and `break` on it after the scope, \
                 e.g. `if scope! {{ ..; Ok(true) }}? {{ break }}`",
                self.boundary()
            );
            self.errors.push(syn::Error::new(e.break_token.span, message));
        }
        visit::visit_expr_break(self, e);
    }
    fn visit_expr_continue(&mut self, e: &'ast syn::ExprContinue) {
        if self.leaves(e.label.as_ref()) {
            let message = format!(
                "`continue` cannot leave {}; make the scope return a value and `continue` on it after the \
                 scope, e.g. `if scope! {{ ..; Ok(true) }}? {{ continue }}`",
                self.boundary()
            );
            self.errors.push(syn::Error::new(e.continue_token.span, message));
        }
        visit::visit_expr_continue(self, e);
    }
    fn visit_expr_await(&mut self, e: &'ast syn::ExprAwait) {
        if !self.is_async && self.async_blocks == 0 && self.closures == 0 {
            self.errors.push(syn::Error::new(
                e.await_token.span,
                "`.await` in a sync `scope!`: write `scope!(async { .. })` and `.await` the scope",
            ));
        }
        // In an async scope, a sync `defer!` body still runs as a closure.
        if self.is_async && self.in_defer && self.async_blocks == 0 && self.closures == 0 {
            self.errors.push(syn::Error::new(
                e.await_token.span,
                "`.await` in a sync `defer!` body: write `defer!(async { .. })` (or `defer!(err => async { .. })`), \
                 which the async scope awaits",
            ));
        }
        visit::visit_expr_await(self, e);
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if paths::is_our_macro(&mac.path, "with") {
            self.errors.push(syn::Error::new(
                mac.span(),
                "`with!` must be a top-level statement of the `scope!` block (`let x = with!(m)?;`), \
                 one per statement: inside an `if`, a loop, a closure or another expression, open a nested \
                 `scope!` there",
            ));
        } else if paths::is_our_macro(&mac.path, "defer") {
            if let Ok(defer) = mac.parse_body::<Defer>() {
                if defer.needs_scope() {
                    let message = defer.needs_scope_message("is not at the top level of the `scope!` block");
                    self.errors.push(syn::Error::new(mac.span(), message));
                }
            }
        }
    }
}
