//! `#[managed]` on a fn with one `yield_!` (Python's `@contextmanager`).
//!
//! The body is split at the `yield_!` statement. The enter part becomes a
//! closure that returns the lent value and the locals the exit part needs,
//! as a tuple whose type the compiler infers; the exit part becomes a
//! closure that takes them back. No allocation, no `unsafe`:
//!
//! ```text
//! #[managed] fn timed(name: &str) -> Result<Timer, E> { let t0 = now(); let o = yield_!(Timer); log(name, t0, o)?; }
//! // expands to
//! fn timed<'l0>(name: &'l0 str) -> impl Manage<Target = Timer, Error = E> + Captures<(&'l0 (),)> {
//!     FnManager::new(
//!         move || -> Result<_, E> { let t0 = now(); let lent: Timer = Timer; Ok((lent, (name, t0,))) },
//!         move |_target, state, outcome: &Outcome<'_>| -> Result<(), E> {
//!             let (name, t0,) = state;
//!             let o = outcome;
//!             Returns::<E>::into_result({ log(name, t0, o)?; })
//!         },
//!     )
//! }
//! ```
//! Which locals are kept: the arguments and top-level `let` bindings before
//! the `yield_!` that the exit part mentions, and those never mentioned
//! again after their `let` (kept alive for their drop, like a lock guard).
//! A local the enter part uses and the exit part does not mention is dropped
//! at enter (it may have been moved, which the macro cannot see).

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use super::attr::Options;
use super::expand_fn_async;
use super::validate::{find_yields, result_args, yield_statement};
use crate::diag::Errors;

/// A binding a local or an argument introduces.
pub(super) struct Binding {
    pub(super) ident: syn::Ident,
    pub(super) mutability: Option<syn::Token![mut]>,
    /// `ref x` / `ref mut x`: a reference to the matched value.
    pub(super) by_ref: bool,
    /// Index of the statement that binds it; `None` for an argument.
    at: Option<usize>,
}

pub fn expand(item: syn::ItemFn, options: &Options, mut errors: Errors) -> TokenStream {
    check_signature(&item.sig, &mut errors);
    if let (None, Some(fallback)) = (&item.sig.asyncness, &options.on_cancel) {
        errors.push(syn::Error::new_spanned(
            fallback,
            "`on_cancel` names the sync fallback of an `async fn` whose scope is cancelled; a sync `#[managed] fn` \
             is never cancelled (its exit always runs): remove `on_cancel`, or make the fn `async fn`",
        ));
    }
    let (target, error) = match returns(&item.sig.output) {
        Ok(te) => te,
        Err(e) => {
            errors.push(e);
            (quote!(()), quote!(::core::convert::Infallible))
        }
    };
    let sites = find_yields(&item.block, &mut errors);
    if sites.top.is_empty() && sites.nested == 0 {
        errors.push(syn::Error::new(
            item.sig.ident.span(),
            "`#[managed] fn` without `yield_!`: write `let outcome = yield_!(value);` where the block runs; the code \
             before it is the enter, the code after it the exit (as Python's `@contextmanager`)",
        ));
    }
    let yield_arg = sites.top.first().and_then(|&i| yield_statement(&item.block.stmts[i])).map(|mac| {
        if mac.tokens.is_empty() {
            Err(syn::Error::new_spanned(mac, "`yield_!` needs the value to lend to the block: `yield_!(value)`"))
        } else {
            mac.parse_body::<syn::Expr>().map_err(|e| {
                syn::Error::new(e.span(), format!("{e}; `yield_!` takes one expression: the value to lend"))
            })
        }
    });
    let yield_arg = match yield_arg {
        Some(Ok(expr)) => Some(expr),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    // The `yield_!` calls are rewritten away; this keeps the user's
    // `use managed::yield_;` from being reported unused.
    let keep_import = sites.path.map(|path| quote!(#path!(@used);));
    if let Err(all) = errors.finish() {
        return fallback(&all, &item, keep_import.as_ref());
    }
    let (Some(&at), Some(lent)) = (sites.top.first(), yield_arg) else {
        unreachable!("a missing or malformed `yield_!` is an error above")
    };
    if item.sig.asyncness.is_some() {
        return expand_fn_async::generate(item, options, at, &lent, &target, &error, keep_import.as_ref());
    }
    generate(item, options, at, &lent, &target, &error, keep_import.as_ref())
}

fn check_signature(sig: &syn::Signature, errors: &mut Errors) {
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new(
            c.span,
            "a `#[managed] fn` cannot be `const fn`: it returns a manager built from closures",
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new_spanned(v, "a `#[managed] fn` cannot be variadic"));
    }
}

/// `(Target, Error)` from the return type.
fn returns(output: &syn::ReturnType) -> syn::Result<(TokenStream, TokenStream)> {
    let syn::ReturnType::Type(_, ty) = output else {
        return Ok((quote!(()), quote!(::core::convert::Infallible)));
    };
    match result_args(ty) {
        Some((target, Some(error))) => Ok((target.to_token_stream(), error.to_token_stream())),
        Some((_, None)) => Err(syn::Error::new_spanned(
            ty,
            "write the return type of a `#[managed] fn` as `Result<Target, Error>` in full: `#[managed]` reads the \
             error type from it (an alias like `io::Result<T>` hides it)",
        )),
        None => Ok((ty.to_token_stream(), quote!(::core::convert::Infallible))),
    }
}

/// On an error: the errors, and the fn with its signature and a body that
/// compiles, so that uses of it do not add errors of their own.
fn fallback(errors: &TokenStream, item: &syn::ItemFn, keep_import: Option<&TokenStream>) -> TokenStream {
    let attrs = &item.attrs;
    let vis = &item.vis;
    let sig = &item.sig;
    quote! {
        #errors
        #(#attrs)*
        #[allow(unused_variables, unused_mut, unreachable_code, clippy::diverging_sub_expression)]
        #vis #sig {
            #keep_import
            ::core::panic!("`#[managed]` reported an error on this fn")
        }
    }
}

fn generate(
    item: syn::ItemFn,
    options: &Options,
    at: usize,
    lent: &syn::Expr,
    target: &TokenStream,
    error: &TokenStream,
    keep_import: Option<&TokenStream>,
) -> TokenStream {
    let p = options.private();
    let krate = options.krate();
    let syn::ItemFn { attrs, vis, mut sig, block } = item;
    let mut stmts = block.stmts;
    allow_unused_mut(&mut sig, &mut stmts[..at]);
    let failed = quote!(#p::fn_enter_failed);
    let mut returns = expand_fn_async::EnterReturns { failed: &failed };
    for stmt in &mut stmts[..at] {
        returns.visit_stmt_mut(stmt);
    }
    for stmt in &mut stmts[at + 1..] {
        expand_fn_async::ExitReturns { p: &p }.visit_stmt_mut(stmt);
    }
    let before = &stmts[..at];
    let after = &stmts[at + 1..];
    let outcome_pat = match &stmts[at] {
        syn::Stmt::Local(local) => Some(&local.pat),
        _ => None,
    };

    let bindings = fn_bindings(&sig, before);
    let exit_mentions = exit_mentions(outcome_pat, after);
    let lent_ident = match lent {
        syn::Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let (kept, shadowed) = kept_bindings(&bindings, before, lent, lent_ident.as_deref(), &exit_mentions);
    let warnings: Vec<TokenStream> = shadowed.into_iter().map(shadow_warning).collect();

    // Located where the exit part uses them: "used here after move" points
    // there when the enter part moved one.
    let captured: Vec<syn::Ident> = kept
        .iter()
        .map(|b| {
            let mut ident = b.ident.clone();
            if let Some(&span) = exit_mentions.get(&ident.to_string()) {
                ident.set_span(span);
            }
            ident
        })
        .collect();
    let captured_pats = kept.iter().map(|b| {
        let (m, i) = (&b.mutability, exit_ident(&b.ident));
        quote!(#m #i)
    });
    let target_local = syn::Ident::new("target", Span::mixed_site());
    let state = syn::Ident::new("state", Span::mixed_site());
    let outcome = syn::Ident::new("outcome", Span::mixed_site());
    let lent_local = syn::Ident::new("lent", Span::mixed_site());
    let rebind_target = match lent_ident.as_deref().and_then(|name| bindings.iter().rev().find(|b| b.ident == name)) {
        Some(b) if exit_mentions.contains_key(&b.ident.to_string()) => {
            let (m, i) = (&b.mutability, exit_ident(&b.ident));
            quote!(#[allow(unused_mut)] let #m #i = #target_local;)
        }
        _ => quote!(let _ = &#target_local;),
    };
    let bind_outcome = outcome_pat.map(|pat| quote!(let #pat = #outcome;));
    let handed_over = handed_over(&stmts[at], options, &lent_local, &state);
    let mut after = after.to_vec();
    for stmt in &mut after {
        RenameSelf.visit_stmt_mut(stmt);
    }
    let exit_body = exit_body(&after, &p, error);
    let lent_span = lent.span();
    let lent_type = inferred(target);
    let typed_lent = quote_spanned!(lent_span=> let #lent_local: #lent_type = #lent;);

    let error = &manager_signature(&mut sig, &krate, target, error);
    let must_use = if attrs.iter().any(|a| a.path().is_ident("must_use")) {
        quote!()
    } else {
        quote!(#[must_use = "a `#[managed] fn` returns a manager: enter it with `with!` in a `scope!`, or a `Guard`"])
    };
    quote! {
        #(#attrs)*
        #must_use
        #vis #sig {
            #keep_import
            #(#warnings)*
            #p::FnManager::new(
                move || -> #p::Result<_, #error> {
                    #(#before)*
                    #typed_lent
                    // `let _guard = ..;` kept alive until the exit is moved here.
                    #[allow(clippy::used_underscore_binding)]
                    let #state = (#(#captured,)*);
                    #handed_over
                },
                move |#target_local, #state, #outcome: &#p::Outcome<'_>| -> #p::Result<(), #error> {
                    #[allow(unused_variables, unused_mut)]
                    let (#(#captured_pats,)*) = #state;
                    #rebind_target
                    #bind_outcome
                    #exit_body
                },
            )
        }
    }
}

/// The name a kept local has in the exit part: `self` cannot be bound by a
/// pattern, so the exit part calls it `__managed_self` (`RenameSelf`).
fn exit_ident(ident: &syn::Ident) -> syn::Ident {
    if ident == "self" {
        syn::Ident::new("__managed_self", ident.span())
    } else {
        ident.clone()
    }
}

/// Renames `self` in the exit part (not `self::path`, nor in nested
/// items, whose `self` is their own) to what `exit_ident` binds.
struct RenameSelf;

impl RenameSelf {
    fn tokens(tokens: TokenStream) -> TokenStream {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out = Vec::with_capacity(trees.len());
        for (index, tree) in trees.iter().enumerate() {
            out.push(match tree {
                TokenTree::Ident(i)
                    if i == "self"
                        && !matches!(trees.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':') =>
                {
                    TokenTree::Ident(exit_ident(i))
                }
                TokenTree::Group(g) => {
                    let mut group = proc_macro2::Group::new(g.delimiter(), Self::tokens(g.stream()));
                    group.set_span(g.span());
                    TokenTree::Group(group)
                }
                other => other.clone(),
            });
        }
        out.into_iter().collect()
    }
}

impl VisitMut for RenameSelf {
    fn visit_expr_path_mut(&mut self, e: &mut syn::ExprPath) {
        if e.qself.is_none() && e.path.is_ident("self") {
            e.path.segments[0].ident = exit_ident(&e.path.segments[0].ident);
        } else {
            syn::visit_mut::visit_expr_path_mut(self, e);
        }
    }
    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        m.tokens = Self::tokens(core::mem::take(&mut m.tokens));
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// The arguments (`self` too) and the top-level `let` bindings before the
/// `yield_!`, in order.
fn fn_bindings(sig: &syn::Signature, before: &[syn::Stmt]) -> Vec<Binding> {
    let mut bindings = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Typed(t) => collect_bindings(&t.pat, None, &mut bindings),
            syn::FnArg::Receiver(r) => bindings.push(Binding {
                ident: syn::Ident::from(r.self_token),
                // `&mut self` is a `&mut` reference; `mut self` a `mut` binding.
                mutability: if r.reference.is_none() { r.mutability } else { None },
                by_ref: false,
                at: None,
            }),
        }
    }
    for (index, stmt) in before.iter().enumerate() {
        if let syn::Stmt::Local(local) = stmt {
            collect_bindings(&local.pat, Some(index), &mut bindings);
        }
    }
    bindings
}

/// `Ok((lent, state))`, what the enter part returns, located at the
/// `yield_!`: a kept local that borrows another one is reported there
/// ("returns a value referencing data owned by the current function").
fn handed_over(yield_stmt: &syn::Stmt, options: &Options, lent: &syn::Ident, state: &syn::Ident) -> TokenStream {
    let at = yield_statement(yield_stmt).map_or_else(Span::call_site, |mac| mac.path.span());
    let located = |ident: &syn::Ident| syn::Ident::new(&ident.to_string(), Span::mixed_site().located_at(at));
    let (lent, state) = (located(lent), located(state));
    let p = if options.krate.is_some() { options.private() } else { crate::paths::default_private_at(at) };
    quote_spanned!(at=> #p::Ok((#lent, #state)))
}

/// Rewrites the signature to return `impl Manage<Target = T, Error = E> +
/// Captures<..>`, naming elided argument lifetimes so the bound can list
/// them. Returns the error type as the signature now spells it.
fn manager_signature(
    sig: &mut syn::Signature,
    krate: &TokenStream,
    target: &TokenStream,
    error: &TokenStream,
) -> TokenStream {
    let (captured, target, error) = captures(sig, &quote!(#krate::__private), target, error);
    sig.output = syn::parse_quote! {
        -> impl #krate::Manage<Target = #target, Error = #error> #captured
    };
    error
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
pub(super) fn captures(
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
pub(super) fn inferred(ty: &TokenStream) -> TokenStream {
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
pub(super) fn exit_body(after: &[syn::Stmt], p: &TokenStream, error: &TokenStream) -> TokenStream {
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

/// A `mut` binding moved into the lent value or the kept state may be
/// mutated only in the exit part (where it is rebound `mut`), which leaves
/// the original `mut` unused: allow that on the user's `let`s and arguments.
fn allow_unused_mut(sig: &mut syn::Signature, before: &mut [syn::Stmt]) {
    let allow: syn::Attribute = syn::parse_quote!(#[allow(unused_mut)]);
    for input in &mut sig.inputs {
        match input {
            syn::FnArg::Typed(t) if has_mut_binding(&t.pat) => t.attrs.push(allow.clone()),
            syn::FnArg::Receiver(r) if r.reference.is_none() && r.mutability.is_some() => r.attrs.push(allow.clone()),
            _ => {}
        }
    }
    for stmt in before {
        if let syn::Stmt::Local(local) = stmt {
            if has_mut_binding(&local.pat) {
                local.attrs.push(allow.clone());
            }
        }
    }
}

fn has_mut_binding(pat: &syn::Pat) -> bool {
    let mut found = Vec::new();
    collect_bindings(pat, None, &mut found);
    found.iter().any(|b| b.mutability.is_some())
}

/// The bindings the exit part gets back (the last binding of each name).
/// Which bindings the exit part gets back, and which are shadowed before
/// the `yield_!` while only held for their drop (a warning: they are
/// dropped at enter, not at exit).
fn kept_bindings<'b>(
    bindings: &'b [Binding],
    before: &[syn::Stmt],
    lent: &syn::Expr,
    lent_ident: Option<&str>,
    exit_mentions: &Names,
) -> (Vec<&'b Binding>, Vec<&'b Binding>) {
    let mut kept: Vec<&Binding> = Vec::new();
    let mut shadowed_holders = Vec::new();
    for (index, binding) in bindings.iter().enumerate() {
        let name = binding.ident.to_string();
        let mut later = Names::new();
        let from = binding.at.map_or(0, |i| i + 1);
        before[from..].iter().for_each(|s| used_idents(s, &mut later));
        idents(lent.to_token_stream(), &mut later);
        if bindings[index + 1..].iter().any(|l| l.ident == binding.ident) {
            if !later.contains_key(&name) && !name.starts_with('_') {
                shadowed_holders.push(binding);
            }
            continue; // shadowed before the yield: dropped at enter
        }
        if lent_ident == Some(name.as_str()) {
            continue; // moved into the lent value
        }
        if exit_mentions.contains_key(&name) || !later.contains_key(&name) {
            kept.push(binding);
        }
    }
    (kept, shadowed_holders)
}

/// The names the exit part uses that may be locals from before the
/// `yield_!`: a name stops being one once the outcome's pattern or a
/// top-level `let` of the exit part rebinds it (`let msg = ..;` in both
/// parts keeps only the second `msg`).
fn exit_mentions(outcome_pat: Option<&syn::Pat>, after: &[syn::Stmt]) -> Names {
    let mut rebound = Vec::new();
    if let Some(pat) = outcome_pat {
        collect_bindings(pat, None, &mut rebound);
    }
    let mut mentions = Names::new();
    for stmt in after {
        let mut used = Names::new();
        used_idents(stmt, &mut used);
        for (name, span) in used {
            if !rebound.iter().any(|b| b.ident == name) {
                mentions.entry(name).or_insert(span);
            }
        }
        if let syn::Stmt::Local(local) = stmt {
            collect_bindings(&local.pat, None, &mut rebound);
        }
    }
    mentions
}

/// The identifiers a statement uses (a `let` pattern binds, it does not use).
fn used_idents(stmt: &syn::Stmt, out: &mut Names) {
    match stmt {
        syn::Stmt::Local(local) => {
            if let Some(init) = &local.init {
                idents(init.expr.to_token_stream(), out);
                if let Some((_, diverge)) = &init.diverge {
                    idents(diverge.to_token_stream(), out);
                }
            }
        }
        other => idents(other.to_token_stream(), out),
    }
}

/// A warning (through `#[deprecated]`, the only warning a proc macro can
/// raise on stable) at a local that is shadowed before `yield_!`.
fn shadow_warning(binding: &Binding) -> TokenStream {
    let name = &binding.ident;
    let note = format!(
        "`{name}` is shadowed before `yield_!`, so `#[managed]` drops the first `{name}` at enter, not at exit; \
         give it another name to keep it until the exit"
    );
    let constant = syn::Ident::new("managed_local_shadowed_before_yield", name.span());
    quote! {
        #[allow(clippy::let_unit_value)]
        let () = {
            #[deprecated(note = #note)]
            #[allow(non_upper_case_globals)]
            const #constant: () = ();
            #constant
        };
    }
}

pub(super) fn collect_bindings(pat: &syn::Pat, at: Option<usize>, out: &mut Vec<Binding>) {
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

/// Identifiers, each with where it is first mentioned.
type Names = HashMap<String, Span>;

/// Every identifier in `tokens`, macro arguments included.
fn idents(tokens: TokenStream, out: &mut Names) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(i) => {
                out.entry(i.to_string()).or_insert(i.span());
            }
            TokenTree::Group(g) => idents(g.stream(), out),
            TokenTree::Literal(l) => format_captures(&l.to_string(), l.span(), out),
            TokenTree::Punct(_) => {}
        }
    }
}

/// The names a format string captures (`"{count}"`, `"{name:>8}"`): a
/// string literal in a macro call mentions them as much as an argument does.
fn format_captures(literal: &str, span: Span, out: &mut Names) {
    if !(literal.starts_with('"') || literal.starts_with('r')) {
        return;
    }
    let mut rest = literal;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if rest.starts_with('{') {
            rest = &rest[1..];
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') {
            out.entry(name).or_insert(span);
        }
    }
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
