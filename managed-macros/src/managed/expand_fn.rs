//! `#[managed]` on a sync fn with one `yield_!` (Python's
//! `@contextmanager`). The expansion: `tests/expand/managed/yield_fn.expanded.rs`.
//!
//! The body is split at the `yield_!` statement. The enter part becomes a
//! closure that returns the lent value and the locals the exit part needs,
//! as a tuple whose type the compiler infers; the exit part becomes a
//! closure that takes them back. No allocation, no `unsafe`.
//!
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

use super::ast::yield_macro;
use super::attr::Options;
use super::yield_fn::{captures, collect_bindings, exit_body, inferred, must_use, outcome_pat, Binding, YieldFn};

/// The manager-returning fn of a validated sync `yield_!` fn.
pub(crate) fn expand(mut yield_fn: YieldFn, options: &Options) -> TokenStream {
    let p = options.private();
    let krate = options.krate();
    allow_unused_mut(&mut yield_fn.sig, &mut yield_fn.before);
    yield_fn.rewrite_returns(&quote!(#p::fn_enter_failed), &p);
    let YieldFn { attrs, vis, mut sig, before, yield_stmt, after, lent, target, error, keep_import } = yield_fn;
    let outcome_pat = outcome_pat(&yield_stmt);

    let bindings = fn_bindings(&sig, &before);
    let exit_mentions = exit_mentions(outcome_pat, &after);
    let lent_ident = match &lent {
        syn::Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    let (kept, shadowed) = kept_bindings(&bindings, &before, &lent, lent_ident.as_deref(), &exit_mentions);
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
    let handed_over = handed_over(&yield_stmt, options, &lent_local, &state);
    let mut after = after;
    for stmt in &mut after {
        RenameSelf.visit_stmt_mut(stmt);
    }
    let exit_body = exit_body(&after, &p, &error);
    let lent_span = lent.span();
    let lent_type = inferred(&target);
    let typed_lent = quote_spanned!(lent_span=> let #lent_local: #lent_type = #lent;);

    let error = &manager_signature(&mut sig, &krate, &target, &error);
    let must_use =
        must_use(&attrs, "a `#[managed] fn` returns a manager: enter it with `with!` in a `scope!`, or a `Guard`");
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
    let at = yield_macro(yield_stmt).map_or_else(Span::call_site, |mac| mac.path.span());
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
