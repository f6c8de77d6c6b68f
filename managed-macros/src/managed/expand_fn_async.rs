//! `#[managed] async fn` with one `yield_!`: the whole body becomes one
//! `async move` coroutine, and `yield_!(value)` a hand-off `.await` that
//! lends `&mut value` (runtime: `managed_core::coroutine`). Locals stay in
//! the coroutine, so borrows across the yield work and the lent value is
//! usable by name after it. The expansion:
//! `tests/expand/managed/async_yield_fn.expanded.rs`.
//!
//! The manager's type is written out (its body future an opaque type), not
//! `impl AsyncManage`: an opaque manager would hide whether its enter and
//! exit futures are `Send`, while this way a scope over a manager built
//! from `Send` arguments is a `Send` future.
//!
//! A `return` before the `yield_!` goes through `enter_failed`, which only
//! takes an `Err`: leaving the enter with `Ok` would have nothing to lend.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::attr::Options;
use super::yield_fn::{captures, collect_bindings, exit_body, inferred, must_use, outcome_pat, YieldFn};

/// The manager-returning fn of a validated `yield_!` async fn.
pub(crate) fn expand(mut yield_fn: YieldFn, options: &Options) -> TokenStream {
    let p = options.private();
    yield_fn.rewrite_returns(&quote!(#p::enter_failed), &p);
    let YieldFn { attrs, vis, mut sig, before, yield_stmt, after, lent, target, error, keep_import } = yield_fn;
    let name = sig.ident.to_string();
    let outcome_pat = outcome_pat(&yield_stmt);

    let lender = syn::Ident::new("lender", Span::mixed_site());
    let lent_local = syn::Ident::new("lent", Span::mixed_site());
    let lent_span = lent.span();
    // A place (`conn`, `self_.conn`, `*slot`) is lent where it is, and stays
    // usable by name after the yield; any other value is moved into a local
    // of the coroutine first (alive until its end, as in the sync form).
    let (bind_lent, lent_place) = if is_place(&lent) {
        // `&mut` needs a `mut` binding, which the sync form (it moves the
        // value) does not: rebind one that was declared without it.
        let rebind = place_root(&lent)
            .filter(|root| immutable_binding(&sig, &before, root))
            .map(|root| quote!(let mut #root = #root;));
        (quote!(#rebind), quote_spanned!(lent_span=> &mut #lent))
    } else {
        let lent_type = inferred(&target);
        (quote_spanned!(lent_span=> let mut #lent_local: #lent_type = #lent;), quote!(&mut #lent_local))
    };
    let handoff = quote!(#lender.lend(#lent_place).await);
    let yield_stmt = outcome_pat.map_or_else(|| quote!(#handoff;), |pat| quote!(let #pat = #handoff;));
    let body = exit_body(&after, &p, &error);

    let (captured, target, error) = captures(&mut sig, &p, &target, &error);
    let body_target = inferred(&target);
    sig.asyncness = None;
    sig.output = syn::parse_quote! {
        -> #p::AsyncFnManager<
            #target,
            #error,
            impl ::core::future::Future<Output = #p::Result<(), #error>> #captured,
        >
    };
    let on_cancel = options.on_cancel.as_ref().map(|fallback| {
        // Spanned at the path, so a fallback of the wrong type is pointed at.
        let value = syn::Ident::new("value", fallback.span().resolved_at(Span::mixed_site()));
        quote_spanned! {fallback.span()=>
            .on_cancel(|#value: &mut #body_target| <_ as #p::Returns<#error>>::into_result(#fallback(#value)))
        }
    });
    let must_use =
        must_use(&attrs, "a `#[managed] async fn` returns a manager: enter it with `with!` in an async `scope!`");
    let coroutine = syn::Ident::new("coroutine", Span::mixed_site());
    let manager = syn::Ident::new("manager", Span::mixed_site());
    quote! {
        #(#attrs)*
        #must_use
        #vis #sig {
            #keep_import
            // Built outside the `unsafe` block: the user's code must not
            // run in an unsafe context.
            let #coroutine = #p::coroutine::<#body_target, _, _>(move |mut #lender| async move {
                #(#before)*
                #bind_lent
                #yield_stmt
                #body
            });
            // SAFETY: the coroutine moves the lender in and uses it once,
            // as the hand-off `.await` of the `yield_!` statement, lending
            // a local of the coroutine (the contract of `new`). Code a proc
            // macro generates is not linted as the user's `unsafe_code`.
            let #manager = unsafe { #p::AsyncFnManager::<#body_target, #error, _>::new(#name, #coroutine) };
            #manager #on_cancel
        }
    }
}

/// `conn`, `a.b`, `a[i]`, `*a`: lent in place.
fn is_place(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Path(p) => {
            p.qself.is_none()
                && p.path.get_ident().is_some_and(|i| !i.to_string().chars().next().is_some_and(char::is_uppercase))
        }
        syn::Expr::Field(f) => is_place(&f.base),
        syn::Expr::Index(i) => is_place(&i.expr),
        syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Deref(_), .. }) => true,
        syn::Expr::Paren(p) => is_place(&p.expr),
        _ => false,
    }
}

/// The local a place is part of: `conn` in `conn`, `cfg.conn`, `rows[0]`
/// (not through a `*`, which lends what a reference points to).
fn place_root(expr: &syn::Expr) -> Option<&syn::Ident> {
    match expr {
        syn::Expr::Path(p) => p.path.get_ident(),
        syn::Expr::Field(f) => place_root(&f.base),
        syn::Expr::Index(i) => place_root(&i.expr),
        syn::Expr::Paren(p) => place_root(&p.expr),
        _ => None,
    }
}

/// Whether the last binding of `name` among the arguments and the
/// top-level `let`s before the `yield_!` is declared without `mut`.
fn immutable_binding(sig: &syn::Signature, before: &[syn::Stmt], name: &syn::Ident) -> bool {
    let mut bindings = Vec::new();
    for input in &sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            collect_bindings(&t.pat, None, &mut bindings);
        }
    }
    for stmt in before {
        if let syn::Stmt::Local(local) = stmt {
            collect_bindings(&local.pat, None, &mut bindings);
        }
    }
    bindings.iter().rev().find(|b| b.ident == *name).is_some_and(|b| b.mutability.is_none() && !b.by_ref)
}
