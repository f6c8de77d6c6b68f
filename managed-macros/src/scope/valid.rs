//! Checks of a parsed `scope!` that the expansion relies on. Every error is
//! collected (one compile shows them all) and points at the user's token.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Stmt};

use super::ast::{Scope, Segment};
use crate::defer::ast::{Body, Defer};
use crate::defer::valid::{check_body, check_needs_no_scope};
use crate::diag::Errors;
use crate::paths;

/// `Err` with every error found (as `compile_error!`s, with the markers
/// that keep the misplaced macros' imports used).
pub(crate) fn validate(scope: &Scope) -> Result<(), TokenStream> {
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
        Some(Segment::Plain(stmt)) => {
            if let Some(e) = tail_error(stmt) {
                errors.push(e);
            }
        }
    }
    let mut checker = Checker {
        errors: &mut errors,
        is_async: scope.asyncness.is_some(),
        loops: 0,
        labels: Vec::new(),
        closures: 0,
        async_blocks: 0,
        in_defer: false,
        places: Vec::new(),
        misplaced: Vec::new(),
    };
    for segment in &scope.segments {
        match segment {
            Segment::Plain(stmt) => checker.visit_stmt(stmt),
            Segment::With(w) => {
                checker.visit_expr(&w.manager);
                checker.visit_stmt(&w.stmt);
            }
            Segment::Defer(d) => {
                if let Some(e) = check_body(&d.defer) {
                    checker.errors.push(e);
                }
                checker.visit_defer_body(&d.defer);
            }
        }
    }
    let misplaced = std::mem::take(&mut checker.misplaced);
    let marker = paths::seen_marker();
    // The misplaced calls are not expanded: the markers keep the user's
    // `use managed::with;` from adding an "unused import" warning to the errors.
    errors.finish().map_err(|errors| quote::quote! { #({ #misplaced!(#marker); })* #errors })
}

/// `defer!(async { .. })` in a sync scope. Not among `validate`'s errors:
/// the sync expansion puts it in place of the defer and expands the rest
/// of the scope, so the rest still type-checks and uses the imports it
/// uses (the fallback, with the errors alone, would add an "unused import"
/// warning for each).
pub(crate) fn async_defer_in_sync_scope(body: &syn::ExprAsync) -> TokenStream {
    syn::Error::new(
        body.async_token.span,
        "`defer!(async { .. })` must be awaited: use it in an async scope, `scope!(async { .. })`",
    )
    .to_compile_error()
}

/// A last statement that certainly gives the scope no value (`()`): the
/// closures it expands to would fail with three errors about generated code.
/// Only sure cases: a `;` after `return ..`, `panic!(..)` or
/// `std::process::exit(..)` is fine (they diverge), so only `Ok(..);` /
/// `Err(..);` and a `let` are reported.
fn tail_error(stmt: &Stmt) -> Option<syn::Error> {
    match stmt {
        Stmt::Local(local) => Some(syn::Error::new(
            local.let_token.span,
            "a `scope!` must end with its value, not with `let`: add the value after it, e.g. `Ok(x)`",
        )),
        Stmt::Expr(Expr::Call(call), Some(semi)) if is_result_constructor(&call.func) => Some(syn::Error::new(
            semi.span,
            "remove this `;`: the scope's value is its last expression, and with the `;` it is `()`, not a `Result`",
        )),
        _ => None,
    }
}

/// `Ok`, `Err`, `Result::Ok`, `Ok::<T, E>` and the like.
fn is_result_constructor(func: &Expr) -> bool {
    let Expr::Path(path) = func else { return false };
    path.path.segments.last().is_some_and(|s| s.ident == "Ok" || s.ident == "Err")
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
    /// The constructs around the visited expression, innermost last, to say
    /// where a misplaced `with!` / `defer!` is.
    places: Vec<Place>,
    /// The paths of the misplaced `with!` / `defer!` calls, as written.
    misplaced: Vec<syn::Path>,
}

#[derive(Clone, Copy)]
enum Place {
    If,
    /// The condition of an `if` / `while` (`if let Ok(t) = with!(m)`).
    Condition,
    Match,
    /// The scrutinee of a `match` (`match with!(m) { .. }`).
    Scrutinee,
    Loop,
    Block,
    Closure,
    Async,
    Defer,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::If => "inside an `if`",
            Place::Condition => "in a condition",
            Place::Match => "inside a `match`",
            Place::Scrutinee => "in the scrutinee of a `match`",
            Place::Loop => "inside a loop",
            Place::Block => "inside a nested block",
            Place::Closure => "inside a closure",
            Place::Async => "inside an `async` block",
            Place::Defer => "inside a `defer!` body",
        }
    }
}

impl Checker<'_> {
    fn visit_defer_body(&mut self, defer: &Defer) {
        self.in_defer = true;
        self.places.push(Place::Defer);
        match &defer.body {
            Body::Stmts(stmts) => stmts.iter().for_each(|s| self.visit_stmt(s)),
            Body::Closure(c) => self.visit_expr_closure(c),
            Body::Async(a) => self.visit_expr_async(a),
        }
        self.places.pop();
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

    fn within(&mut self, place: Place, f: impl FnOnce(&mut Self)) {
        self.places.push(place);
        f(self);
        self.places.pop();
    }

    /// The innermost construct around the visited expression, a plain block
    /// only if there is nothing else (a closure's body is a block).
    fn place(&self) -> Option<Place> {
        let mut inner_first = self.places.iter().rev().copied();
        inner_first.clone().find(|p| !matches!(p, Place::Block)).or_else(|| inner_first.next())
    }

    /// Where a misplaced `with!` is, and what to write instead.
    fn misplaced_with(&self) -> String {
        match self.place() {
            None => "`with!` inside an expression: give it a statement of its own at the top level of the \
                     `scope!` block (`let x = with!(m)?;`, then use `x`), one `with!` per statement"
                .to_string(),
            Some(place @ (Place::Condition | Place::Scrutinee)) => format!(
                "`with!` {} of a `scope!`: enter the manager in a statement of its own at the top level, \
                 then test its result: `let entered = with!(m);` then `match entered {{ .. }}` or \
                 `if let Ok(x) = entered {{ .. }}` (the manager exits when the scope ends)",
                place.describe()
            ),
            Some(place @ (Place::Closure | Place::Async)) => format!(
                "`with!` {}: only the top-level statements of a `scope!` block are managed by it; \
                 open a `scope!` in there: `scope! {{ let x = with!(m)?; ..; Ok(()) }}`",
                place.describe()
            ),
            Some(place) => format!(
                "`with!` {} of a `scope!`: only the top-level statements of its block are managed by it; \
                 open a nested `scope!` there: `scope! {{ let x = with!(m)?; ..; Ok(()) }}?`",
                place.describe()
            ),
        }
    }

    fn in_loop(&mut self, label: Option<&syn::Label>, f: impl FnOnce(&mut Self)) {
        self.places.push(Place::Loop);
        self.loops += 1;
        if let Some(l) = label {
            self.labels.push(l.name.ident.to_string());
        }
        f(self);
        if label.is_some() {
            self.labels.pop();
        }
        self.loops -= 1;
        self.places.pop();
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
            self.within(Place::Block, |c| visit::visit_expr_block(c, e));
            self.labels.pop();
        } else {
            self.within(Place::Block, |c| visit::visit_expr_block(c, e));
        }
    }
    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        self.within(Place::Condition, |c| c.visit_expr(&e.cond));
        self.within(Place::If, |c| {
            c.visit_block(&e.then_branch);
            if let Some((_, otherwise)) = &e.else_branch {
                c.visit_expr(otherwise);
            }
        });
    }
    fn visit_expr_match(&mut self, e: &'ast syn::ExprMatch) {
        self.within(Place::Scrutinee, |c| c.visit_expr(&e.expr));
        self.within(Place::Match, |c| e.arms.iter().for_each(|arm| c.visit_arm(arm)));
    }
    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        self.closures += 1;
        self.within(Place::Closure, |c| visit::visit_expr_closure(c, e));
        self.closures -= 1;
    }
    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        self.async_blocks += 1;
        self.within(Place::Async, |c| visit::visit_expr_async(c, e));
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
            self.errors.push(syn::Error::new_spanned(mac, self.misplaced_with()));
            self.misplaced.push(mac.path.clone());
        } else if paths::is_our_macro(&mac.path, "defer") {
            if let Ok(defer) = mac.parse_body::<Defer>() {
                let place = self.place().map_or("inside an expression", Place::describe);
                if let Some(e) = check_needs_no_scope(&defer, &format!("{place} of a `scope!`"), mac.span()) {
                    self.errors.push(e);
                    self.misplaced.push(mac.path.clone());
                }
            }
        }
    }
}
