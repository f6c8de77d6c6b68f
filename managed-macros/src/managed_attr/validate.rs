//! Checks the expansions rely on, each with a message that says what to
//! write instead. Every error is recorded (one compile shows them all) and
//! points at the user's token.

use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use super::parse::{ImplModel, Marked};
use crate::diag::Errors;
use crate::paths;

/// What a method or fn says about its error type.
pub enum ErrorType {
    /// Returns `()` (or nothing): cannot fail.
    Infallible,
    /// Returns `Result<_, E>`: this is `E`.
    Written(syn::Type),
    /// Returns some other type (an alias like `io::Result<()>`): the error
    /// is read from it by a trait.
    Of(syn::Type),
}

/// The error type a return type declares.
pub fn error_type(output: &syn::ReturnType) -> ErrorType {
    let syn::ReturnType::Type(_, ty) = output else { return ErrorType::Infallible };
    if matches!(&**ty, syn::Type::Tuple(t) if t.elems.is_empty()) {
        return ErrorType::Infallible;
    }
    match result_args(ty) {
        Some((_, Some(error))) => ErrorType::Written(error.clone()),
        _ => ErrorType::Of((**ty).clone()),
    }
}

/// `Result<T, E>` / `Result<T>` (by its last path segment): `(T, Some(E))`
/// or `(T, None)`.
pub fn result_args(ty: &syn::Type) -> Option<(&syn::Type, Option<&syn::Type>)> {
    let syn::Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let types: Vec<&syn::Type> = args
        .args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect();
    match types.as_slice() {
        [ok] => Some((ok, None)),
        [ok, err] => Some((ok, Some(err))),
        _ => None,
    }
}

/// Checks of a `#[managed]` impl block.
pub fn check_impl(model: &ImplModel, errors: &mut Errors) {
    if let Some((_, path, _)) = &model.item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[managed]` goes on an inherent impl block (`impl Type { .. }`) with `#[enter]`/`#[exit]` methods, not \
             on an impl of a trait; it writes the `managed::Manage` impl for you",
        ));
    }
    match &model.exit {
        None => errors.push(syn::Error::new(
            model.item.self_ty.span(),
            "`#[managed]` impl block without an `#[exit]` method: mark the method that releases the resource, \
             e.g. `#[exit] fn close(self, outcome: &Outcome) -> Result<(), E>` (`#[enter]` is optional)",
        )),
        Some(exit) => check_exit(exit, errors),
    }
    if let Some(enter) = &model.enter {
        check_enter(enter, errors);
    }
    let enter_async = model.enter.as_ref().and_then(|m| m.sig.asyncness);
    let exit_async = model.exit.as_ref().and_then(|m| m.sig.asyncness);
    match (enter_async, exit_async, &model.enter) {
        (None, Some(a), Some(enter)) => errors.push(syn::Error::new(
            a.span,
            format!(
                "the `#[exit]` method is `async` but the `#[enter]` method `{}` is not: an async manager \
                 (`AsyncManage`) has both `async`; write `async fn {}` too, or make the exit sync",
                enter.sig.ident, enter.sig.ident
            ),
        )),
        (Some(a), None, Some(_)) => errors.push(syn::Error::new(
            a.span,
            "the `#[enter]` method is `async` but the `#[exit]` method is not: an async manager (`AsyncManage`) \
             has both `async`; make the exit `async fn` too, or the enter sync",
        )),
        _ => {}
    }
}

fn check_common(m: &Marked, name: &str, errors: &mut Errors) {
    let sig = &m.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "an `#[{name}]` method cannot be generic: `managed::Manage::{name}` calls it with no type arguments; \
                 put the parameters on the impl block"
            ),
        ));
    }
    if let Some(u) = &sig.unsafety {
        errors.push(syn::Error::new(
            u.span,
            format!("an `#[{name}]` method cannot be `unsafe fn`: `Manage::{name}` is safe to call"),
        ));
    }
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new(c.span, format!("an `#[{name}]` method cannot be `const fn`")));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new_spanned(v, format!("an `#[{name}]` method cannot be variadic")));
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        let unit = matches!(&**ty, syn::Type::Tuple(t) if t.elems.is_empty());
        if !unit && !is_result(ty) {
            errors.push(syn::Error::new_spanned(
                ty,
                format!(
                    "an `#[{name}]` method returns `()` or `Result<(), E>` (`E` is the manager's error type), not \
                     `{}`",
                    quote::quote!(#ty).to_string().replace(' ', "")
                ),
            ));
        }
    }
}

/// A type named `Result` (`Result<(), E>`, `io::Result<()>`, `fmt::Result`).
fn is_result(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Result"))
}

fn receiver(sig: &syn::Signature) -> Option<&syn::Receiver> {
    match sig.inputs.first() {
        Some(syn::FnArg::Receiver(r)) => Some(r),
        _ => None,
    }
}

fn check_enter(m: &Marked, errors: &mut Errors) {
    check_common(m, "enter", errors);
    let sig = &m.sig;
    match receiver(sig) {
        None => errors.push(syn::Error::new(
            sig.ident.span(),
            "an `#[enter]` method takes `&mut self`: `#[enter] fn open(&mut self) -> Result<(), E>`",
        )),
        Some(r) if !is_ref_mut_self(&r.ty) => errors.push(syn::Error::new_spanned(
            r,
            "an `#[enter]` method takes `&mut self`: enter acquires the resource and lends the manager to the \
             block, and only the `#[exit]` consumes it; write `fn ..(&mut self)`",
        )),
        Some(_) => {}
    }
    if let Some(extra) = sig.inputs.iter().nth(1) {
        errors.push(syn::Error::new_spanned(
            extra,
            "an `#[enter]` method takes only `&mut self`: pass what it needs when building the manager",
        ));
    }
}

fn check_exit(m: &Marked, errors: &mut Errors) {
    check_common(m, "exit", errors);
    let sig = &m.sig;
    match receiver(sig) {
        None => errors.push(syn::Error::new(
            sig.ident.span(),
            "an `#[exit]` method takes `self` by value: `#[exit] fn close(self, outcome: &Outcome) -> Result<(), E>`",
        )),
        Some(r) if !is_self(&r.ty) => errors.push(syn::Error::new_spanned(
            r,
            "an `#[exit]` method takes `self` by value (`fn close(self, ..)` or `fn close(mut self, ..)`): the exit \
             consumes the manager, so nothing can use it after it is released",
        )),
        Some(_) => {}
    }
    if let Some(extra) = sig.inputs.iter().nth(2) {
        errors.push(syn::Error::new_spanned(
            extra,
            "an `#[exit]` method takes `self` and at most the outcome: `fn close(self, outcome: &Outcome)`",
        ));
    }
}

fn is_self(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self"))
}

fn is_ref_mut_self(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Reference(r) if r.mutability.is_some() && is_self(&r.elem))
}

/// Where each `yield_!` of a fn body is, and whether it is a top-level
/// statement.
pub struct YieldSites {
    /// Indices of the top-level statements that are `yield_!` statements.
    pub top: Vec<usize>,
    /// How many `yield_!` are misplaced (each reported).
    pub nested: usize,
    /// The path of the first `yield_!` (to keep the user's import used).
    pub path: Option<syn::Path>,
}

/// Finds the `yield_!` statements of `body` and reports every `yield_!` that
/// is not one (nested in a loop, a closure, a block or an expression).
pub fn find_yields(body: &syn::Block, errors: &mut Errors) -> YieldSites {
    let mut top = Vec::new();
    let mut nested = NestedYields::new(errors);
    for (index, stmt) in body.stmts.iter().enumerate() {
        if yield_statement(stmt).is_some() {
            top.push(index);
            if let Some(mac) = yield_macro_of(stmt) {
                // The argument itself must not contain another `yield_!`.
                if let Ok(expr) = mac.parse_body::<syn::Expr>() {
                    nested.visit_expr(&expr);
                }
            }
            if let syn::Stmt::Local(syn::Local { init: Some(syn::LocalInit { diverge: Some((e, _)), .. }), .. }) = stmt
            {
                nested.errors.push(syn::Error::new_spanned(
                    e,
                    "`yield_!` cannot be used with `let .. else`: the exit part runs however the block ended; bind \
                     the outcome, `let outcome = yield_!(value);`, and test it after: `if outcome.is_ok() { .. }`",
                ));
            }
        } else {
            nested.visit_stmt(stmt);
        }
    }
    let (count, nested_path) = (nested.count, nested.path.take());
    top.iter().skip(1).filter_map(|&i| yield_macro_of(&body.stmts[i])).for_each(|mac| {
        errors.push(syn::Error::new_spanned(
            mac,
            "a second `yield_!`: a `#[managed] fn` lends its value exactly once (as Python's \
                 `@contextmanager` yields once); keep one `yield_!`, and put the rest of the work before it (enter) \
                 or after it (exit)",
        ));
    });
    let path = top.first().and_then(|&i| yield_macro_of(&body.stmts[i])).map(|m| m.path.clone()).or(nested_path);
    YieldSites { top, nested: count, path }
}

/// The `yield_!` statement forms: `let PAT = yield_!(e);`, `yield_!(e);`.
pub fn yield_statement(stmt: &syn::Stmt) -> Option<&syn::Macro> {
    match stmt {
        syn::Stmt::Local(local) => match &local.init {
            Some(init) => match &*init.expr {
                syn::Expr::Macro(m) if is_yield(&m.mac) => Some(&m.mac),
                _ => None,
            },
            None => None,
        },
        _ => yield_macro_of(stmt),
    }
}

fn yield_macro_of(stmt: &syn::Stmt) -> Option<&syn::Macro> {
    match stmt {
        syn::Stmt::Macro(m) if is_yield(&m.mac) => Some(&m.mac),
        syn::Stmt::Expr(syn::Expr::Macro(m), _) if is_yield(&m.mac) => Some(&m.mac),
        syn::Stmt::Local(syn::Local { init: Some(init), .. }) => match &*init.expr {
            syn::Expr::Macro(m) if is_yield(&m.mac) => Some(&m.mac),
            _ => None,
        },
        _ => None,
    }
}

/// `yield_!`, `managed::yield_!`, and the facade under another name
/// (`mg::yield_!` beside `#[managed(crate = "mg")]`, a re-export's path):
/// any path ending in `yield_`, which no other macro in a `#[managed] fn`
/// body is expected to be called.
pub fn is_yield(mac: &syn::Macro) -> bool {
    paths::is_our_macro(&mac.path, "yield_")
        || mac.path.segments.last().is_some_and(|s| s.ident == "yield_" && s.arguments.is_none())
}

/// Reports every `yield_!` it visits, saying where it is.
struct NestedYields<'e> {
    errors: &'e mut Errors,
    loops: usize,
    closures: usize,
    count: usize,
    path: Option<syn::Path>,
}

impl<'e> NestedYields<'e> {
    fn new(errors: &'e mut Errors) -> Self {
        NestedYields { errors, loops: 0, closures: 0, count: 0, path: None }
    }
}

impl<'ast> Visit<'ast> for NestedYields<'_> {
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.loops += 1;
        visit::visit_expr_loop(self, e);
        self.loops -= 1;
    }
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.loops += 1;
        visit::visit_expr_while(self, e);
        self.loops -= 1;
    }
    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.loops += 1;
        visit::visit_expr_for_loop(self, e);
        self.loops -= 1;
    }
    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        self.closures += 1;
        visit::visit_expr_closure(self, e);
        self.closures -= 1;
    }
    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        self.closures += 1;
        visit::visit_expr_async(self, e);
        self.closures -= 1;
    }
    fn visit_item(&mut self, _: &'ast syn::Item) {
        // A nested item is its own world: a `yield_!` there is reported by
        // the `yield_!` macro itself ("outside a `#[managed]` fn").
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if !is_yield(mac) {
            return;
        }
        self.count += 1;
        if self.path.is_none() {
            self.path = Some(mac.path.clone());
        }
        let message = if self.closures > 0 {
            "`yield_!` inside a closure or async block: the value is lent by the `#[managed] fn` itself, so \
             `yield_!` must be a top-level statement of its body: `let outcome = yield_!(value);`"
        } else if self.loops > 0 {
            "`yield_!` inside a loop: a `#[managed] fn` lends its value exactly once; move `yield_!` out of the \
             loop, to a top-level statement of the fn body (`let outcome = yield_!(value);`)"
        } else {
            "`yield_!` must be a top-level statement of the `#[managed] fn` body, `let outcome = yield_!(value);` \
             or `yield_!(value);`: the body is split there into enter and exit; compute conditions before it"
        };
        self.errors.push(syn::Error::new_spanned(mac, message));
    }
}
