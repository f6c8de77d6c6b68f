//! `scope!`'s input as a model: the block's top-level statements, each a
//! plain statement or a split point (a `with!` statement, a `defer!`
//! statement). Structural mistakes that leave no model (a `with!` without
//! a manager, a `#[cfg]` on a split point) are parse errors here; the
//! rest is checked by `valid`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Block, Expr, Stmt, Token};

use crate::defer::ast::Defer;
use crate::paths;

/// A parsed `scope!`.
pub(crate) struct Scope {
    /// `Some` for `scope!(async { .. })` / `scope!(async move { .. })`.
    pub(crate) asyncness: Option<Asyncness>,
    pub(crate) segments: Vec<Segment>,
    /// Where the scope's block is, for errors about the whole block.
    pub(crate) span: Span,
    /// The facade's path (`$crate` of its `scope!` wrapper).
    pub(crate) facade: TokenStream,
}

/// The `async` / `async move` of an async scope.
pub(crate) struct Asyncness {
    pub(crate) async_token: Token![async],
    pub(crate) move_token: Option<Token![move]>,
}

/// One top-level statement of the scope's block.
pub(crate) enum Segment {
    /// Copied as written.
    Plain(Stmt),
    /// A statement with one `with!(manager)` in it.
    With(Box<WithStmt>),
    /// A `defer!(..)` statement.
    Defer(DeferStmt),
}

pub(crate) struct WithStmt {
    /// The statement with the `with!(..)` call replaced by a placeholder
    /// (see [`with_slot`]).
    pub(crate) stmt: Stmt,
    /// The manager expression given to `with!`.
    pub(crate) manager: Expr,
    /// The `with!` invocation, for errors.
    pub(crate) span: Span,
    /// `with` as the user wrote it (`with`, `managed::with`).
    pub(crate) path: syn::Path,
}

pub(crate) struct DeferStmt {
    pub(crate) defer: Defer,
    pub(crate) span: Span,
    /// `defer` as the user wrote it.
    pub(crate) path: syn::Path,
}

pub(crate) fn parse(facade: TokenStream, input: TokenStream) -> syn::Result<Scope> {
    Parser::parse2(|input: ParseStream| parse_scope(input, facade), input)
}

fn parse_scope(input: ParseStream, facade: TokenStream) -> syn::Result<Scope> {
    let span = input.span();
    let (asyncness, stmts) = if input.peek(Token![async]) && !input.peek2(Token![fn]) {
        let async_token: Token![async] = input.parse()?;
        let move_token: Option<Token![move]> = input.parse()?;
        let block: Block = input.parse()?;
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the async block: write `scope!(async { .. })`"));
        }
        (Some(Asyncness { async_token, move_token }), block.stmts)
    } else {
        (None, Block::parse_within(input)?)
    };
    let segments = stmts.into_iter().map(classify).collect::<syn::Result<Vec<_>>>()?;
    Ok(Scope { asyncness, segments: hoist_items(segments), span, facade })
}

/// Moves the items of the block (`fn`, `struct`, `impl`, `use`, ..) before
/// its first statement. In a Rust block an item is visible in the whole
/// block, also above it; the expansion nests the rest of the block after
/// each `with!` / `defer!` in a closure, which would hide an item declared
/// below a split point from the code above it. Items capture no locals, so
/// where they stand in the block changes nothing else. `macro_rules!` stays
/// in place: its scope is textual, from the definition down.
fn hoist_items(segments: Vec<Segment>) -> Vec<Segment> {
    let (items, rest): (Vec<Segment>, Vec<Segment>) = segments
        .into_iter()
        .partition(|s| matches!(s, Segment::Plain(Stmt::Item(item)) if !matches!(item, syn::Item::Macro(_))));
    items.into_iter().chain(rest).collect()
}

/// Sorts one top-level statement into plain / with / defer.
fn classify(mut stmt: Stmt) -> syn::Result<Segment> {
    let cfg = cfg_attribute(&stmt);
    if let Some(mac) = statement_macro(&stmt) {
        if paths::is_our_macro(&mac.path, "defer") {
            reject_cfg(cfg, "defer!")?;
            let defer: Defer = mac.parse_body()?;
            return Ok(Segment::Defer(DeferStmt { defer, span: mac.span(), path: mac.path.clone() }));
        }
    }
    // A `with!(m);` statement: enter and ignore the target.
    if let Stmt::Macro(m) = &stmt {
        if paths::is_our_macro(&m.mac.path, "with") {
            reject_cfg(cfg, "with!")?;
            let manager = parse_manager(&m.mac)?;
            let span = m.mac.span();
            let semi = m.semi_token.unwrap_or_default();
            let stmt = Stmt::Expr(unused_result(span), Some(semi));
            return Ok(Segment::With(Box::new(WithStmt { stmt, manager, span, path: m.mac.path.clone() })));
        }
    }
    let slot = match &mut stmt {
        Stmt::Local(local) => local.init.as_mut().and_then(|init| with_slot(&mut init.expr, is_with_call)),
        Stmt::Expr(expr, _) => with_slot(expr, is_with_call),
        _ => None,
    };
    let Some(slot) = slot else { return Ok(Segment::Plain(stmt)) };
    reject_cfg(cfg, "with!")?;
    let Expr::Macro(mac) = std::mem::replace(slot, placeholder()) else {
        unreachable!("with_slot returns a `with!` call")
    };
    let manager = parse_manager(&mac.mac)?;
    Ok(Segment::With(Box::new(WithStmt { stmt, manager, span: mac.mac.span(), path: mac.mac.path })))
}

/// Where a `#[cfg]` / `#[cfg_attr]` on the statement is. Attributes of an
/// expression statement are those of its outermost expression; a `with!`
/// statement's is one of the forms `with_slot` follows.
fn cfg_attribute(stmt: &Stmt) -> Option<Span> {
    let attrs: &[syn::Attribute] = match stmt {
        Stmt::Local(local) => &local.attrs,
        Stmt::Macro(m) => &m.attrs,
        Stmt::Expr(expr, _) => match expr {
            Expr::Macro(e) => &e.attrs,
            Expr::Try(e) => &e.attrs,
            Expr::MethodCall(e) => &e.attrs,
            Expr::Paren(e) => &e.attrs,
            Expr::Field(e) => &e.attrs,
            Expr::Await(e) => &e.attrs,
            _ => &[],
        },
        Stmt::Item(_) => &[],
    };
    attrs.iter().find(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr")).map(|a| a.path().span())
}

/// A `#[cfg]` on a `with!` / `defer!` statement would only remove the
/// statement, not the enter or the deferred code the scope builds from it
/// (the rest of the scope is nested inside them): a compiled-out `with!`
/// still evaluated its manager, a compiled-out `defer!` still ran.
fn reject_cfg(cfg: Option<Span>, what: &str) -> syn::Result<()> {
    let instead = if what == "defer!" {
        "test the condition inside: `defer!(if cfg!(..) { .. })`"
    } else {
        "put the code that needs the manager in a nested `scope! { let x = with!(m)?; ..; Ok(()) }?` \
         (or a function) under the `#[cfg]`"
    };
    match cfg {
        None => Ok(()),
        Some(at) => Err(syn::Error::new(
            at,
            format!(
                "`#[cfg]` cannot remove a `{what}` statement of a `scope!` (the rest of the scope is nested \
                 inside it, so it would still run); {instead}"
            ),
        )),
    }
}

/// The macro of a statement that is only a macro call.
fn statement_macro(stmt: &Stmt) -> Option<&syn::Macro> {
    match stmt {
        Stmt::Macro(m) => Some(&m.mac),
        Stmt::Expr(Expr::Macro(m), _) => Some(&m.mac),
        _ => None,
    }
}

fn parse_manager(mac: &syn::Macro) -> syn::Result<Expr> {
    if mac.tokens.is_empty() {
        return Err(syn::Error::new_spanned(
            mac,
            "`with!` needs the manager to enter: `with!(manager)`, e.g. `with!(BufWriter::new(file))`",
        ));
    }
    let parse_list = syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated;
    let Ok(list) = mac.parse_body_with(parse_list) else {
        return mac.parse_body::<Expr>().map_err(|e| {
            syn::Error::new(e.span(), format!("{e}; `with!` takes one expression: the manager to enter"))
        });
    };
    let mut managers = list.into_iter();
    match (managers.next(), managers.next()) {
        (Some(manager), None) => Ok(manager),
        (_, Some(second)) => Err(syn::Error::new_spanned(
            second,
            "`with!` enters one manager: give each manager its own statement, \
             `let a = with!(first)?; let b = with!(second)?;` (they exit in reverse order)",
        )),
        (None, None) => Err(syn::Error::new_spanned(mac, "`with!` needs the manager to enter: `with!(manager)`")),
    }
}

fn is_with_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Macro(m) if paths::is_our_macro(&m.mac.path, "with"))
}

/// What stands where the `with!(..)` call was, until expansion replaces it
/// with the enter call.
fn placeholder() -> Expr {
    Expr::Verbatim(quote::quote!(__managed_with_slot))
}

/// `with!(m);`: the enter's `Result` is unused. It is passed through a call
/// located at the user's `with!`, so that rustc's `unused_must_use` warning
/// (a failed enter is ignored there) points at it and suggests `let _ =`
/// there; the bare enter call carries the macro's hygiene, and rustc put the
/// warning on the whole scope with a suggestion that does not compile.
fn unused_result(at: Span) -> Expr {
    Expr::Call(syn::ExprCall {
        attrs: Vec::new(),
        func: Box::new(syn::parse_quote_spanned!(at=> ::core::convert::identity)),
        paren_token: syn::token::Paren(at),
        args: std::iter::once(placeholder()).collect(),
    })
}

pub(crate) fn is_placeholder(expr: &Expr) -> bool {
    matches!(expr, Expr::Verbatim(t) if t.to_string() == "__managed_with_slot")
}

/// The `with!` call of a statement, where the statement's own value flows
/// from it: `with!(m)`, then any chain of `?`, `.method(..)`, `.field`,
/// `.await` and parentheses on it (`let x = with!(m).map_err(E::Db)?;`).
/// Anywhere else (an argument, a branch, a closure) it is not at the top
/// level of the scope, and validation reports it.
pub(crate) fn with_slot(expr: &mut Expr, is_slot: fn(&Expr) -> bool) -> Option<&mut Expr> {
    if is_slot(expr) {
        return Some(expr);
    }
    match expr {
        Expr::Try(e) => with_slot(&mut e.expr, is_slot),
        Expr::MethodCall(e) => with_slot(&mut e.receiver, is_slot),
        Expr::Paren(e) => with_slot(&mut e.expr, is_slot),
        Expr::Field(e) => with_slot(&mut e.base, is_slot),
        Expr::Await(e) => with_slot(&mut e.base, is_slot),
        _ => None,
    }
}
