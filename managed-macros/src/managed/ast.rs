//! From syn items to the models `valid` checks and the expansions read:
//! the marked methods of an impl block, the marked fields of a struct, the
//! `yield_!` sites of a fn. Our helper attributes are stripped from the
//! item here, so the item can be emitted even when a check fails; errors
//! in them (a marker with arguments, a repeated one) are reported here, as
//! they leave nothing to model.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use crate::diag::Errors;
use crate::paths;

/// A method marked `#[enter]` or `#[exit]`.
pub(crate) struct Marked {
    pub(crate) sig: syn::Signature,
}

pub(crate) struct ImplModel {
    /// The impl block, `#[enter]` / `#[exit]` removed.
    pub(crate) item: syn::ItemImpl,
    pub(crate) enter: Option<Marked>,
    pub(crate) exit: Option<Marked>,
}

/// The impl block's `#[enter]` / `#[exit]` methods, their markers removed.
pub(crate) fn parse_impl(mut item: syn::ItemImpl, errors: &mut Errors) -> ImplModel {
    let mut enter: Option<Marked> = None;
    let mut exit: Option<Marked> = None;
    for impl_item in &mut item.items {
        let (attrs, sig) = match impl_item {
            syn::ImplItem::Fn(f) => (&mut f.attrs, Some(&f.sig)),
            syn::ImplItem::Const(c) => (&mut c.attrs, None),
            syn::ImplItem::Type(t) => (&mut t.attrs, None),
            syn::ImplItem::Macro(m) => (&mut m.attrs, None),
            _ => continue,
        };
        let markers = take_markers(attrs, errors);
        let Some(sig) = sig else {
            for (name, attr) in markers {
                errors.push(syn::Error::new_spanned(
                    attr,
                    format!("`#[{name}]` goes on a method (`fn`) of the impl block"),
                ));
            }
            continue;
        };
        if markers.len() == 2 {
            errors.push(syn::Error::new_spanned(
                &markers[1].1,
                "one method cannot be both `#[enter]` and `#[exit]`: enter lends the manager, exit consumes it; \
                 write two methods",
            ));
            continue;
        }
        for (name, marker) in markers {
            let slot = if name == "enter" { &mut enter } else { &mut exit };
            if let Some(first) = slot {
                errors.push(syn::Error::new_spanned(
                    marker,
                    format!(
                        "a second `#[{name}]` method: a manager has one {name}, and `{}` is already marked \
                         `#[{name}]`; call one from the other, or merge them",
                        first.sig.ident
                    ),
                ));
            } else {
                *slot = Some(Marked { sig: sig.clone() });
            }
        }
    }
    ImplModel { item, enter, exit }
}

/// Removes `#[enter]` / `#[exit]` from `attrs`, returning which were there
/// (deduplicated: a repeated marker is an error).
fn take_markers(attrs: &mut Vec<syn::Attribute>, errors: &mut Errors) -> Vec<(&'static str, syn::Attribute)> {
    let mut markers: Vec<(&'static str, syn::Attribute)> = Vec::new();
    attrs.retain(|a| {
        let name = if a.path().is_ident("enter") {
            "enter"
        } else if a.path().is_ident("exit") {
            "exit"
        } else {
            return true;
        };
        if !matches!(a.meta, syn::Meta::Path(_)) {
            errors.push(syn::Error::new_spanned(
                &a.meta,
                format!("`#[{name}]` takes no arguments: write `#[{name}]` on the method"),
            ));
        }
        if markers.iter().any(|(n, _)| *n == name) {
            errors.push(syn::Error::new_spanned(a, format!("`#[{name}]` is repeated on this method")));
        } else {
            markers.push((name, a.clone()));
        }
        false
    });
    markers
}

/// A struct field marked `#[managed]`.
pub(crate) struct ManagedField {
    pub(crate) member: syn::Member,
    /// The field's type as the user wrote it (the item has `Slot<ty>`).
    pub(crate) ty: syn::Type,
    /// Marked `#[managed(async)]`: an async manager, entered and exited
    /// with `.await` (the macro cannot see which traits a type implements).
    pub(crate) is_async: bool,
}

pub(crate) struct StructModel {
    /// The struct, `#[managed]` removed from fields, their types rewritten
    /// to `Slot<ty>`.
    pub(crate) item: syn::ItemStruct,
    pub(crate) fields: Vec<ManagedField>,
}

/// The struct's `#[managed]` fields, their marks removed and their types
/// rewritten to `Slot<ty>` (`krate`: the facade's path).
pub(crate) fn parse_struct(mut item: syn::ItemStruct, krate: &TokenStream, errors: &mut Errors) -> StructModel {
    let mut fields = Vec::new();
    for (index, field) in item.fields.iter_mut().enumerate() {
        let mut marked = false;
        let mut is_async = false;
        field.attrs.retain(|a| {
            if !a.path().is_ident("managed") {
                return true;
            }
            match &a.meta {
                syn::Meta::Path(_) => {}
                syn::Meta::List(list) if syn::parse2::<syn::Token![async]>(list.tokens.clone()).is_ok() => {
                    is_async = true;
                }
                meta => errors.push(syn::Error::new_spanned(
                    meta,
                    "`#[managed]` on a field takes no options but `async`: write `#[managed]` for a manager, \
                     `#[managed(async)]` for an async manager; hooks and options go on the struct's `#[managed(..)]`",
                )),
            }
            if marked {
                errors.push(syn::Error::new_spanned(a, "`#[managed]` is repeated on this field"));
            }
            marked = true;
            false
        });
        if !marked {
            continue;
        }
        let member = match &field.ident {
            Some(ident) => syn::Member::Named(ident.clone()),
            None => {
                syn::Member::Unnamed(syn::Index { index: u32::try_from(index).unwrap_or(u32::MAX), span: field.span() })
            }
        };
        let ty = field.ty.clone();
        let span = ty.span();
        field.ty = syn::parse_quote_spanned!(span=> #krate::Slot<#ty>);
        fields.push(ManagedField { member, ty, is_async });
    }
    StructModel { item, fields }
}

/// What a method or fn says about its error type.
pub(crate) enum ErrorType {
    /// Returns `()` (or nothing): cannot fail.
    Infallible,
    /// Returns `Result<_, E>`: this is `E`.
    Written(syn::Type),
    /// Returns some other type (an alias like `io::Result<()>`): the error
    /// is read from it by a trait.
    Of(syn::Type),
}

/// The error type a return type declares.
pub(crate) fn error_type(output: &syn::ReturnType) -> ErrorType {
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
fn result_args(ty: &syn::Type) -> Option<(&syn::Type, Option<&syn::Type>)> {
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

/// A fn with `yield_!`, as written.
pub(crate) struct FnModel {
    pub(crate) item: syn::ItemFn,
    /// The target and error types from the return type, or why they cannot
    /// be read from it.
    pub(crate) returns: syn::Result<Returns>,
    pub(crate) yields: YieldSites,
    /// The argument of the first top-level `yield_!`, parsed; `None`
    /// without one.
    pub(crate) lent: Option<syn::Result<syn::Expr>>,
}

/// `Result<Target, Error>`, or a bare `Target` that cannot fail.
pub(crate) struct Returns {
    pub(crate) target: TokenStream,
    pub(crate) error: TokenStream,
}

/// Where each `yield_!` of a fn body is.
pub(crate) struct YieldSites {
    /// Indices of the top-level statements that are `yield_!` statements.
    pub(crate) top: Vec<usize>,
    /// What is wrong with the other sites, in the order of the body.
    pub(crate) misplaced: Vec<Misplaced>,
    /// The path of the first `yield_!` (to keep the user's import used).
    pub(crate) path: Option<syn::Path>,
}

/// A `yield_!` that cannot be split at.
pub(crate) enum Misplaced {
    /// Inside a closure or an async block.
    InClosure(syn::Macro),
    InLoop(syn::Macro),
    /// Anywhere else that is not a top-level statement.
    Nested(syn::Macro),
    /// The `else` of `let PAT = yield_!(..) else { .. };`.
    LetElse(syn::Token![else]),
}

impl YieldSites {
    /// How many `yield_!` calls are not top-level statements.
    pub(crate) fn nested(&self) -> usize {
        self.misplaced.iter().filter(|m| !matches!(m, Misplaced::LetElse(_))).count()
    }
}

impl FnModel {
    pub(crate) fn from_syn(item: syn::ItemFn) -> Self {
        let returns = returns(&item.sig.output);
        let yields = find_yields(&item.block);
        let lent = yields.top.first().and_then(|&i| yield_macro(&item.block.stmts[i])).map(|mac| {
            if mac.tokens.is_empty() {
                Err(syn::Error::new_spanned(mac, "`yield_!` needs the value to lend to the block: `yield_!(value)`"))
            } else {
                mac.parse_body::<syn::Expr>().map_err(|e| {
                    syn::Error::new(e.span(), format!("{e}; `yield_!` takes one expression: the value to lend"))
                })
            }
        });
        FnModel { item, returns, yields, lent }
    }
}

/// `Target` and `Error` from the return type.
fn returns(output: &syn::ReturnType) -> syn::Result<Returns> {
    let infallible = || quote::quote!(::core::convert::Infallible);
    let syn::ReturnType::Type(_, ty) = output else {
        return Ok(Returns { target: quote::quote!(()), error: infallible() });
    };
    match result_args(ty) {
        Some((target, Some(error))) => Ok(Returns { target: target.to_token_stream(), error: error.to_token_stream() }),
        Some((_, None)) => Err(syn::Error::new_spanned(
            ty,
            "write the return type of a `#[managed] fn` as `Result<Target, Error>` in full: `#[managed]` reads the \
             error type from it (an alias like `io::Result<T>` hides it)",
        )),
        None => Ok(Returns { target: ty.to_token_stream(), error: infallible() }),
    }
}

/// Finds the `yield_!` statements of `body`, and every `yield_!` that is
/// not one (nested in a loop, a closure, a block or an expression, or in
/// the argument of another).
fn find_yields(body: &syn::Block) -> YieldSites {
    let mut top = Vec::new();
    let mut nested = NestedYields::default();
    for (index, stmt) in body.stmts.iter().enumerate() {
        if let Some(mac) = yield_macro(stmt) {
            top.push(index);
            // The argument itself must not contain another `yield_!`.
            if let Ok(expr) = mac.parse_body::<syn::Expr>() {
                nested.visit_expr(&expr);
            }
            if let syn::Stmt::Local(syn::Local { init: Some(syn::LocalInit { diverge: Some((e, _)), .. }), .. }) = stmt
            {
                nested.misplaced.push(Misplaced::LetElse(*e));
            }
        } else {
            nested.visit_stmt(stmt);
        }
    }
    let path = top.first().and_then(|&i| yield_macro(&body.stmts[i])).map(|m| m.path.clone()).or(nested.path);
    YieldSites { top, misplaced: nested.misplaced, path }
}

/// The `yield_!` of a `yield_!` statement: `let PAT = yield_!(e);`,
/// `yield_!(e);`.
pub(crate) fn yield_macro(stmt: &syn::Stmt) -> Option<&syn::Macro> {
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
fn is_yield(mac: &syn::Macro) -> bool {
    paths::is_our_macro(&mac.path, "yield_")
        || mac.path.segments.last().is_some_and(|s| s.ident == "yield_" && s.arguments.is_none())
}

/// Records every `yield_!` it visits, with where it is.
#[derive(Default)]
struct NestedYields {
    loops: usize,
    closures: usize,
    misplaced: Vec<Misplaced>,
    path: Option<syn::Path>,
}

impl<'ast> Visit<'ast> for NestedYields {
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
        if self.path.is_none() {
            self.path = Some(mac.path.clone());
        }
        self.misplaced.push(if self.closures > 0 {
            Misplaced::InClosure(mac.clone())
        } else if self.loops > 0 {
            Misplaced::InLoop(mac.clone())
        } else {
            Misplaced::Nested(mac.clone())
        });
    }
}
