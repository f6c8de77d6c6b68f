//! Which levels of an async scope share a *frame* (one body future, one
//! panic catcher), and the marks a frame's body sets for its defers: the
//! analysis `expand_async` builds on.
//!
//! A level joins the frame of the level before it only when nothing the
//! flat form changes can be seen ([`frame_levels`]): the statements between
//! them bind no local (a local of the body is dropped when the body ends,
//! before every exit of the frame, where one level per frame drops it after
//! the newer exits: `let _lock = ..; with!(tx)?` must commit under the
//! lock), and the level does not borrow a local of the frame's body (a slot
//! outlives the body; a defer runs after it). Otherwise the level starts a
//! nested frame inside the body, exactly the expansion of one level per
//! frame, so the rule only decides the cost.
//!
//! A defer has no slot, so the frame keeps a counter for its defers
//! ([`defer_marks`]): the body sets it to `n` where the `n`-th defer after
//! the frame's first level stands, and after the body that defer runs only
//! if the counter reached `n`. A `?`, `return` or panic before it leaves
//! the body first, and the defer does not run, as a manager whose enter was
//! never reached is not exited. The frame's first level needs no mark: the
//! frame's code runs only once the body got there. One counter per frame,
//! not a flag per defer: the body's future holds one reference to it,
//! however many defers the frame has.

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::visit::Visit;

use super::ast::{is_placeholder, Segment};
use super::split::plain_stmts;
use crate::defer::ast::Body;

/// For each level of a frame, the mark its body sets on reaching it, if it
/// needs one: the `defer!`s after the frame's first level are numbered 1,
/// 2, .. in order. A defer runs after the body only if the body counted up
/// to its mark (as a manager is exited only if its slot was entered); the
/// first level needs none, since the frame's code runs only when the body
/// reached it.
pub(crate) fn defer_marks(segments: &[Segment], levels: &[usize]) -> Vec<Option<usize>> {
    let mut marked = 0;
    let mut marks = vec![None; levels.len()];
    for (k, &index) in levels.iter().enumerate().skip(1) {
        if matches!(segments[index], Segment::Defer(_)) {
            marked += 1;
            marks[k] = Some(marked);
        }
    }
    marks
}

/// The split points that share the frame starting at `start`: `start`,
/// then each next one as long as flattening it cannot be seen. A level
/// joins when
///
/// - the level before it binds only the `with!` target (`let x =
///   with!(m)?;`, possibly through `.map_err(..)` / `.context(..)`), which
///   is a reference: dropping it at the end of the body changes nothing;
/// - the plain statements between them bind no local (a `let`, or a
///   statement macro that may expand to one): such a local would be dropped
///   before the newer exits instead of after them;
/// - a `with!` does not borrow a `with!` binding of the frame itself (`&x`,
///   or `x` inside a closure, an `async` block or a macro): its slot
///   outlives the body, so it may hold a reborrow of the target (`x.tx()`)
///   but not a borrow of the local;
/// - a `defer!` does not name a `with!` binding of the frame: it runs after
///   the body, when those locals are gone.
///
/// Any other level starts a nested frame in the body (exactly the
/// expansion of one level per frame), so the rule only decides the cost.
pub(crate) fn frame_levels(segments: &[Segment], start: usize) -> Vec<usize> {
    let mut levels = vec![start];
    let mut bound: Vec<String> = Vec::new();
    let mut at = start;
    loop {
        if let Segment::With(w) = &segments[at] {
            match target_bindings(&w.stmt) {
                Some(names) => bound.extend(names),
                None => break,
            }
        }
        let Some(next) = segments[at + 1..].iter().position(|s| !matches!(s, Segment::Plain(_))) else { break };
        let next = at + 1 + next;
        if !plain_stmts(&segments[at + 1..next]).all(binds_nothing) {
            break;
        }
        let joins = match &segments[next] {
            Segment::With(w) => !borrows_binding(&w.manager, &bound),
            Segment::Defer(d) => !mentions(&defer_tokens(&d.defer.body), &bound),
            Segment::Plain(_) => unreachable!("`next` is a split point"),
        };
        if !joins {
            break;
        }
        levels.push(next);
        at = next;
    }
    levels
}

/// The names a `with!` statement binds, when it binds only the target (or
/// the enter's `Result`): `None` when its value may be something else.
fn target_bindings(stmt: &syn::Stmt) -> Option<Vec<String>> {
    match stmt {
        syn::Stmt::Expr(..) => Some(Vec::new()),
        syn::Stmt::Local(local) => {
            let init = local.init.as_ref()?;
            if !only_target(&init.expr) {
                return None;
            }
            let mut names = Names::default();
            names.visit_pat(&local.pat);
            Some(names.0)
        }
        _ => None,
    }
}

/// Whether `expr` is the `with!` placeholder under only `?`, parentheses and
/// error-mapping calls, so its value is the target (or the `Result`).
fn only_target(expr: &syn::Expr) -> bool {
    match expr {
        e if is_placeholder(e) => true,
        syn::Expr::Try(e) => only_target(&e.expr),
        syn::Expr::Paren(e) => only_target(&e.expr),
        syn::Expr::MethodCall(e) => {
            matches!(e.method.to_string().as_str(), "map_err" | "context" | "with_context") && only_target(&e.receiver)
        }
        _ => false,
    }
}

/// The identifiers a pattern binds.
#[derive(Default)]
struct Names(Vec<String>);

impl Visit<'_> for Names {
    fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
        self.0.push(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }
}

/// Whether a plain statement between two levels surely binds no local: a
/// `let` does, and a statement macro may (`tokio::pin!(f)` rebinds `f`),
/// unless it is one of the common ones known not to.
fn binds_nothing(stmt: &syn::Stmt) -> bool {
    let mac = match stmt {
        syn::Stmt::Local(_) => return false,
        syn::Stmt::Macro(m) => &m.mac,
        syn::Stmt::Expr(syn::Expr::Macro(m), _) => &m.mac,
        // An item is no local; an expression statement's temporaries are
        // dropped at its `;`.
        syn::Stmt::Item(_) | syn::Stmt::Expr(..) => return true,
    };
    let Some(last) = mac.path.segments.last() else { return false };
    matches!(
        last.ident.to_string().as_str(),
        "println"
            | "print"
            | "eprintln"
            | "eprint"
            | "dbg"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
            | "write"
            | "writeln"
            | "panic"
            | "unreachable"
            | "trace"
            | "debug"
            | "info"
            | "warn"
            | "error"
            | "event"
            | "scope"
    )
}

/// Whether a manager expression may borrow one of the `bound` locals
/// itself (not only through it): `&x`, `&mut x`, or `x` inside a closure,
/// an `async` block or a macro call, whose captures are not visible here.
fn borrows_binding(manager: &syn::Expr, bound: &[String]) -> bool {
    struct Finder<'b> {
        bound: &'b [String],
        found: bool,
    }
    impl Visit<'_> for Finder<'_> {
        fn visit_expr_reference(&mut self, e: &syn::ExprReference) {
            let mut inner = &*e.expr;
            while let syn::Expr::Paren(p) = inner {
                inner = &p.expr;
            }
            if let syn::Expr::Path(path) = inner {
                if path.path.get_ident().is_some_and(|i| self.bound.contains(&i.to_string())) {
                    self.found = true;
                }
            }
            syn::visit::visit_expr_reference(self, e);
        }
        fn visit_expr_closure(&mut self, e: &syn::ExprClosure) {
            self.found |= mentions(&e.to_token_stream(), self.bound);
        }
        fn visit_expr_async(&mut self, e: &syn::ExprAsync) {
            self.found |= mentions(&e.to_token_stream(), self.bound);
        }
        fn visit_macro(&mut self, m: &syn::Macro) {
            self.found |= mentions(&m.tokens, self.bound);
        }
    }
    if bound.is_empty() {
        return false;
    }
    let mut finder = Finder { bound, found: false };
    finder.visit_expr(manager);
    finder.found
}

/// Whether `tokens` name any of `bound`.
fn mentions(tokens: &TokenStream, bound: &[String]) -> bool {
    !bound.is_empty()
        && tokens.clone().into_iter().any(|t| match t {
            TokenTree::Ident(i) => bound.contains(&i.to_string()),
            TokenTree::Group(g) => mentions(&g.stream(), bound),
            _ => false,
        })
}

fn defer_tokens(body: &Body) -> TokenStream {
    match body {
        Body::Stmts(stmts) => quote!(#(#stmts)*),
        Body::Closure(closure) => closure.to_token_stream(),
        Body::Async(block) => block.to_token_stream(),
    }
}
