//! The analysis both `yield_!` fn forms share (`expand_fn`, sync, and
//! `expand_fn_async`): the body split at its `yield_!` statement, with the
//! `return`s of both parts rewritten; the bindings of arguments and
//! `let`s; the lifetimes the returned manager captures; the target's type
//! as the body may name it; the exit part as a body that returns
//! `Result<(), E>`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use super::ast::{FnModel, YieldSites};

/// A `#[managed]` fn that passed validation, split at its one top-level
/// `yield_!` statement.
pub(crate) struct YieldFn {
    pub(crate) attrs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) sig: syn::Signature,
    /// The statements before the `yield_!`: the enter part.
    pub(crate) before: Vec<syn::Stmt>,
    /// `let PAT = yield_!(lent);` or `yield_!(lent);`.
    pub(crate) yield_stmt: syn::Stmt,
    /// The statements after the `yield_!`: the exit part.
    pub(crate) after: Vec<syn::Stmt>,
    /// The argument of `yield_!`.
    pub(crate) lent: syn::Expr,
    pub(crate) target: TokenStream,
    pub(crate) error: TokenStream,
    /// `yield_!(@used);`, which keeps the user's import of `yield_` used
    /// (the `yield_!` calls are rewritten away).
    pub(crate) keep_import: Option<TokenStream>,
}

impl YieldFn {
    /// The fn of `model`, if it has a top-level `yield_!` with a parsed
    /// argument and a readable return type (which validation ensures).
    pub(crate) fn new(model: FnModel) -> Option<Self> {
        let keep_import = keep_import(&model.yields);
        let (Some(&at), Some(Ok(lent)), Ok(returns)) = (model.yields.top.first(), model.lent, model.returns) else {
            return None;
        };
        let syn::ItemFn { attrs, vis, sig, block } = model.item;
        let mut stmts = block.stmts;
        let after = stmts.split_off(at + 1);
        let yield_stmt = stmts.pop()?;
        Some(YieldFn {
            attrs,
            vis,
            sig,
            before: stmts,
            yield_stmt,
            after,
            lent,
            target: returns.target,
            error: returns.error,
            keep_import,
        })
    }

    /// Rewrites the `return`s of both parts: before the `yield_!`, `return
    /// e` to `return failed(e)` (`failed`: the form's enter failure); after
    /// it, a bare `return;` to `return Ok(());` (`p`: the runtime's path).
    pub(crate) fn rewrite_returns(&mut self, failed: &TokenStream, p: &TokenStream) {
        let mut returns = EnterReturns { failed };
        for stmt in &mut self.before {
            returns.visit_stmt_mut(stmt);
        }
        for stmt in &mut self.after {
            ExitReturns { p }.visit_stmt_mut(stmt);
        }
    }
}

/// The pattern the outcome is bound to: `PAT` in `let PAT = yield_!(..);`.
pub(crate) fn outcome_pat(yield_stmt: &syn::Stmt) -> Option<&syn::Pat> {
    match yield_stmt {
        syn::Stmt::Local(local) => Some(&local.pat),
        _ => None,
    }
}

/// `yield_!(@used);` for the path of the fn's first `yield_!`.
pub(crate) fn keep_import(sites: &YieldSites) -> Option<TokenStream> {
    sites.path.as_ref().map(|path| quote!(#path!(@used);))
}

/// `#[must_use = note]`, unless the fn has its own `#[must_use]`.
pub(crate) fn must_use(attrs: &[syn::Attribute], note: &str) -> TokenStream {
    if attrs.iter().any(|a| a.path().is_ident("must_use")) {
        quote!()
    } else {
        quote!(#[must_use = #note])
    }
}

/// A binding a local or an argument introduces.
pub(crate) struct Binding {
    pub(crate) ident: syn::Ident,
    pub(crate) mutability: Option<syn::Token![mut]>,
    /// `ref x` / `ref mut x`: a reference to the matched value.
    pub(crate) by_ref: bool,
    /// Index of the statement that binds it; `None` for an argument.
    pub(crate) at: Option<usize>,
}

/// Names the elided lifetimes of the arguments (adding them to the
/// generics), and returns the bound that makes the returned opaque type
/// capture every lifetime of the arguments (`+ Captures<(&'a (), ..)>`, or
/// nothing), with the target and error types as the signature now spells
/// them.
///
/// Not `+ use<..>`: it must list every type parameter in scope, and the
/// attribute cannot see an enclosing impl's (an associated fn of
/// `impl<T> Pool<T>`) nor name an `impl Trait` argument's; without it the
/// type parameters are captured anyway (in every edition), and a lifetime
/// named in a bound is too.
pub(crate) fn captures(
    sig: &mut syn::Signature,
    p: &TokenStream,
    target: &TokenStream,
    error: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    let lifetimes = name_elided_lifetimes(sig);
    // Elided lifetimes of the output follow the (now named) single input
    // lifetime: name them the same, as rustc's `mismatched_lifetime_syntaxes`
    // asks.
    let (target, error) = match single_input_lifetime(sig) {
        Some(lifetime) => (name_output(target, &lifetime), name_output(error, &lifetime)),
        None => (target.clone(), error.clone()),
    };
    for lifetime in lifetimes.into_iter().rev() {
        sig.generics.params.insert(0, syn::GenericParam::Lifetime(syn::LifetimeParam::new(lifetime)));
    }
    let mut captured = input_lifetimes(sig);
    for param in sig.generics.lifetimes() {
        if !captured.contains(&param.lifetime) {
            captured.push(param.lifetime.clone());
        }
    }
    captured.retain(|l| l.ident != "static");
    let bound = if captured.is_empty() { quote!() } else { quote!(+ #p::Captures<(#(&#captured (),)*)>) };
    (bound, target, error)
}

/// `ty` with each `impl Trait` in it written `_`: the target's type where
/// the body names it (`let lent: _ = ..`), as `impl Trait` is only allowed
/// in the signature (`-> Result<impl Write, E>`).
pub(crate) fn inferred(ty: &TokenStream) -> TokenStream {
    struct Infer;
    impl VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut syn::Type) {
            if let syn::Type::ImplTrait(i) = ty {
                *ty = syn::Type::Infer(syn::TypeInfer { underscore_token: syn::Token![_](i.impl_token.span) });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    match syn::parse2::<syn::Type>(ty.clone()) {
        Ok(mut parsed) => {
            Infer.visit_type_mut(&mut parsed);
            parsed.to_token_stream()
        }
        Err(_) => ty.clone(),
    }
}

/// The exit part as the exit closure's body. A tail expression is its value
/// (`()` or `Result<(), E>`, converted by `Returns`); otherwise it ends with
/// `Ok(())` (unreachable when it diverges, which must not make its type `!`).
pub(crate) fn exit_body(after: &[syn::Stmt], p: &TokenStream, error: &TokenStream) -> TokenStream {
    let ok = syn::Ident::new("ok", Span::mixed_site());
    match after.split_last() {
        Some((tail @ syn::Stmt::Expr(_, None), rest)) => quote! {
            #(#rest)*
            <_ as #p::Returns<#error>>::into_result(#tail)
        },
        Some((syn::Stmt::Macro(tail), rest)) if tail.semi_token.is_none() => quote! {
            #(#rest)*
            #tail;
            #[allow(unreachable_code)]
            let #ok = #p::Ok(());
            #ok
        },
        _ => quote! {
            #(#after)*
            #[allow(unreachable_code)]
            let #ok = #p::Ok(());
            #ok
        },
    }
}

pub(crate) fn collect_bindings(pat: &syn::Pat, at: Option<usize>, out: &mut Vec<Binding>) {
    match pat {
        syn::Pat::Ident(p) => {
            let looks_like_const =
                p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() && starts_uppercase(&p.ident);
            if !looks_like_const {
                out.push(Binding { ident: p.ident.clone(), mutability: p.mutability, by_ref: p.by_ref.is_some(), at });
            }
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, at, out);
            }
        }
        syn::Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_bindings(p, at, out)),
        syn::Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_bindings(p, at, out)),
        syn::Pat::Struct(s) => s.fields.iter().for_each(|f| collect_bindings(&f.pat, at, out)),
        syn::Pat::Slice(s) => s.elems.iter().for_each(|p| collect_bindings(p, at, out)),
        syn::Pat::Reference(r) => collect_bindings(&r.pat, at, out),
        syn::Pat::Type(t) => collect_bindings(&t.pat, at, out),
        syn::Pat::Paren(p) => collect_bindings(&p.pat, at, out),
        syn::Pat::Or(o) => {
            if let Some(first) = o.cases.first() {
                collect_bindings(first, at, out);
            }
        }
        _ => {}
    }
}

fn starts_uppercase(ident: &syn::Ident) -> bool {
    ident.to_string().chars().next().is_some_and(char::is_uppercase)
}

/// Names every elided lifetime of the arguments (`&T`, `'_`), so that the
/// returned `impl Manage + Captures<..>` can capture them.
fn name_elided_lifetimes(sig: &mut syn::Signature) -> Vec<syn::Lifetime> {
    let mut namer = Namer { made: Vec::new() };
    for input in &mut sig.inputs {
        match input {
            syn::FnArg::Typed(t) => namer.visit_type_mut(&mut t.ty),
            syn::FnArg::Receiver(r) => match &mut r.reference {
                // `&self`: the printed form; `ty` (`&Self`) follows it.
                Some((and, lifetime @ None)) => {
                    let fresh = namer.fresh(and.span);
                    if let syn::Type::Reference(ty) = &mut *r.ty {
                        ty.lifetime = Some(fresh.clone());
                    }
                    *lifetime = Some(fresh);
                }
                Some((_, Some(_))) => {}
                None => namer.visit_type_mut(&mut r.ty),
            },
        }
    }
    namer.made
}

/// The only lifetime the arguments mention, if there is exactly one.
fn single_input_lifetime(sig: &syn::Signature) -> Option<syn::Lifetime> {
    // With `&self`, elided output lifetimes are the receiver's.
    if let Some(syn::FnArg::Receiver(syn::Receiver { reference: Some((_, Some(lifetime))), .. })) = sig.inputs.first() {
        return Some(lifetime.clone());
    }
    match input_lifetimes(sig).as_slice() {
        [only] if only.ident != "static" => Some(only.clone()),
        _ => None,
    }
}

/// The lifetimes the arguments mention, in order, without those a
/// `fn(&T)`, `Fn(&T)` or `for<'a>` binds.
fn input_lifetimes(sig: &syn::Signature) -> Vec<syn::Lifetime> {
    struct Lifetimes {
        found: Vec<syn::Lifetime>,
        bound: Vec<syn::Lifetime>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Lifetimes {
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            if !self.found.contains(l) && !self.bound.contains(l) {
                self.found.push(l.clone());
            }
        }
        fn visit_bound_lifetimes(&mut self, b: &'ast syn::BoundLifetimes) {
            self.bound.extend(b.lifetimes.iter().filter_map(|p| match p {
                syn::GenericParam::Lifetime(l) => Some(l.lifetime.clone()),
                _ => None,
            }));
        }
        fn visit_type_bare_fn(&mut self, _: &'ast syn::TypeBareFn) {}
        fn visit_parenthesized_generic_arguments(&mut self, _: &'ast syn::ParenthesizedGenericArguments) {}
    }
    let mut lifetimes = Lifetimes { found: Vec::new(), bound: Vec::new() };
    for input in &sig.inputs {
        match input {
            syn::FnArg::Typed(t) => syn::visit::Visit::visit_type(&mut lifetimes, &t.ty),
            syn::FnArg::Receiver(syn::Receiver { reference: Some((_, Some(lifetime))), .. }) => {
                syn::visit::Visit::visit_lifetime(&mut lifetimes, lifetime);
            }
            syn::FnArg::Receiver(r) => syn::visit::Visit::visit_type(&mut lifetimes, &r.ty),
        }
    }
    lifetimes.found
}

/// `ty` with its elided lifetimes written as `lifetime`.
fn name_output(ty: &TokenStream, lifetime: &syn::Lifetime) -> TokenStream {
    struct Fill<'l>(&'l syn::Lifetime);
    impl VisitMut for Fill<'_> {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                r.lifetime = Some(self.0.clone());
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident == "_" {
                *l = self.0.clone();
            }
        }
        fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
        fn visit_parenthesized_generic_arguments_mut(&mut self, _: &mut syn::ParenthesizedGenericArguments) {}
    }
    match syn::parse2::<syn::Type>(ty.clone()) {
        Ok(mut parsed) => {
            Fill(lifetime).visit_type_mut(&mut parsed);
            parsed.to_token_stream()
        }
        Err(_) => ty.clone(),
    }
}

struct Namer {
    made: Vec<syn::Lifetime>,
}

impl Namer {
    fn fresh(&mut self, span: Span) -> syn::Lifetime {
        let lifetime = syn::Lifetime::new(&format!("'__managed_l{}", self.made.len()), span);
        self.made.push(lifetime.clone());
        lifetime
    }
}

impl VisitMut for Namer {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        if r.lifetime.is_none() {
            r.lifetime = Some(self.fresh(r.and_token.span));
        }
        syn::visit_mut::visit_type_reference_mut(self, r);
    }
    fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
        if l.ident == "_" {
            *l = self.fresh(l.span());
        }
    }
    // Elided lifetimes in `fn(&T)` and `Fn(&T)` are bound there, not by the fn.
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments_mut(&mut self, _: &mut syn::ParenthesizedGenericArguments) {}
}

/// Rewrites `return e` before the `yield_!` to `return enter_failed(e)`
/// (not inside closures, async blocks or items, whose `return` is theirs):
/// only `Err(..)` may leave the enter early, and the diagnostic says so.
struct EnterReturns<'p> {
    /// `enter_failed` (async) or `fn_enter_failed` (sync).
    failed: &'p TokenStream,
}

impl VisitMut for EnterReturns<'_> {
    fn visit_expr_return_mut(&mut self, r: &mut syn::ExprReturn) {
        let failed = self.failed;
        if let Some(value) = r.expr.take() {
            let span = value.span();
            let value = value.to_token_stream();
            r.expr = Some(Box::new(syn::parse_quote_spanned!(span=> #failed(#value))));
        } else {
            // A bare `return;` has nothing to lend either: `return
            // failed(())`, located at the `return` so the one error is there.
            let span = r.return_token.span;
            let failed: TokenStream = failed
                .clone()
                .into_iter()
                .map(|mut token| {
                    token.set_span(span);
                    token
                })
                .collect();
            r.expr = Some(Box::new(syn::parse_quote_spanned!(span=> #failed(()))));
        }
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Rewrites a bare `return;` after the `yield_!` to `return Ok(());`: the
/// exit part ends with `()` like a fn body, also early (the exit part runs
/// in a closure or coroutine that returns `Result<(), E>`).
struct ExitReturns<'p> {
    p: &'p TokenStream,
}

impl VisitMut for ExitReturns<'_> {
    fn visit_expr_return_mut(&mut self, r: &mut syn::ExprReturn) {
        if let Some(value) = &mut r.expr {
            self.visit_expr_mut(value);
        } else {
            let p = self.p;
            r.expr = Some(Box::new(syn::parse_quote_spanned!(r.return_token.span=> #p::Ok(()))));
        }
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
