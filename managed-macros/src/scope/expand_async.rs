//! Code generation for `scope!(async { .. })`: the sync expansion's
//! continuation passing, with `async` blocks instead of closures.
//!
//! Each `with!` level becomes
//!
//! ```text
//! let (body, entered) = {
//!     let mut slot = AsyncSlot::new(<the manager, sync ones wrapped>);
//!     let body = catch_async(async { <the with! statement, entering the slot>; <rest> }).await;
//!     (body, into_entered(slot))
//! };
//! let outcome = outcome_of(&body);
//! let exited = exit_async(entered, &outcome).await;
//! settle_exit(body, exited)
//! ```
//!
//! The slot sits in an inner block so that its memory is free again while
//! the exit is awaited, and so that, when the scope's future is dropped
//! mid-block, the rest (holding the newer slots) is dropped before it: the
//! newest manager gets `exit_cancelled` first. The manager moves from the
//! slot straight into its exit future (`entered` is never borrowed, so its
//! storage is not kept either): the future holds each manager once.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use super::parse::{is_placeholder, with_slot, Asyncness, Scope, Segment, WithStmt};
use crate::defer::Body;
use crate::paths;

pub fn expand(scope: &Scope, asyncness: &Asyncness) -> TokenStream {
    let body = expand_from(&scope.segments, 0);
    let seen = super::expand::seen_macros(scope);
    let async_token = asyncness.async_token;
    let move_token = asyncness.move_token;
    quote! {
        #async_token #move_token { #seen #body }
    }
}

/// The body of the async block that runs `segments[from..]` (see the sync
/// `expand_from`).
fn expand_from(segments: &[Segment], from: usize) -> TokenStream {
    let p = paths::private();
    let rest = &segments[from..];
    let split = rest.iter().position(|s| !matches!(s, Segment::Plain(_)));
    let plain = rest[..split.unwrap_or(rest.len())].iter().filter_map(|s| match s {
        Segment::Plain(stmt) => Some(stmt),
        _ => None,
    });
    let Some(at) = split else { return quote!(#(#plain)*) };
    let index = from + at;
    let inner = expand_from(segments, index + 1);
    let body = paths::local("body", index);
    let split_code = match &segments[index] {
        Segment::With(w) => {
            let slot = paths::local("slot", index);
            let entered = paths::local("entered", index);
            let outcome = paths::local("outcome", index);
            let exited = paths::local("exited", index);
            let stmt = with_enter(w, &slot);
            let manager = pick_kind(&w.manager);
            quote! {
                let (#body, #entered) = {
                    let mut #slot = #p::AsyncSlot::new(#manager);
                    let #body = #p::catch_async(async { #stmt #inner }).await;
                    (#body, #p::into_entered(#slot))
                };
                let #outcome = #p::outcome_of(&#body);
                let #exited = #p::exit_async(#entered, &#outcome).await;
                #p::settle_exit(#body, #exited)
            }
        }
        Segment::Defer(d) => {
            let when = d.defer.filter.when();
            let run = match &d.defer.body {
                Body::Async(block) => quote!(#p::defer_level_async(#body, #when, #block).await),
                Body::Stmts(stmts) => {
                    let span = stmts.first().map_or_else(Span::call_site, Spanned::span);
                    let deferred = quote_spanned!(span=> |_: &#p::Outcome<'_>| { #(#stmts)* });
                    quote!(#p::defer_level(#body, #when, #deferred))
                }
                Body::Closure(closure) => quote!(#p::defer_level(#body, #when, #closure)),
            };
            quote! {
                let #body = #p::catch_async(async { #inner }).await;
                #run
            }
        }
        Segment::Plain(_) => unreachable!("a split point is not plain"),
    };
    quote!(#(#plain)* #split_code)
}

/// The manager expression, with a sync `Manage` wrapped so that it is an
/// `AsyncManage` (autoref specialization on the concrete type; see
/// `managed_core::async_support::AsyncKind`). Spanned at the user's
/// expression, so "not a manager" errors point there.
fn pick_kind(manager: &syn::Expr) -> TokenStream {
    let p = paths::private();
    let m = syn::Ident::new("__managed_manager", Span::mixed_site());
    let tag = syn::Ident::new("__managed_kind", Span::mixed_site());
    quote_spanned! {manager.span()=>
        {
            // Only one of the two is used, depending on the manager's type.
            #[allow(unused_imports)]
            use #p::{AsyncKind as _, SyncKind as _};
            let #m = #manager;
            // The borrow is the point: it makes method lookup try the
            // `AsyncManage` impl on the bare type first.
            #[allow(clippy::needless_borrow)]
            let #tag = (&#m).__managed_async_kind();
            #tag.wrap(#m)
        }
    }
}

/// The `with!` statement with the call replaced by the awaited enter of
/// the manager in `slot`.
fn with_enter(w: &WithStmt, slot: &syn::Ident) -> syn::Stmt {
    let p = paths::private();
    let enter = quote_spanned!(w.manager.span()=> #p::enter_async(&mut #slot).await);
    let mut stmt = w.stmt.clone();
    ReplaceSlot(Some(enter)).visit_stmt_mut(&mut stmt);
    stmt
}

struct ReplaceSlot(Option<TokenStream>);

impl VisitMut for ReplaceSlot {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let Some(slot) = with_slot(expr, is_placeholder) {
            if let Some(tokens) = self.0.take() {
                *slot = syn::Expr::Verbatim(tokens);
            }
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}
