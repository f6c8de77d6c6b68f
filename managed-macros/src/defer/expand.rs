//! `defer!` outside a scope: a drop guard bound for the rest of the block
//! (expansion: `tests/expand/defer/standalone.expanded.rs`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::ast::{Body, Defer, Filter};
use crate::paths;

/// The guard of a validated drop-guard form (`defer! { .. }`,
/// `defer!(panic => ..)`); `facade` is the path of `managed`.
pub(crate) fn expand(facade: &TokenStream, defer: &Defer) -> TokenStream {
    let guard = paths::local("defer", 0);
    let Body::Stmts(stmts) = &defer.body else { unreachable!("validation leaves only the drop-guard forms") };
    let span = stmts.first().map_or_else(Span::call_site, Spanned::span);
    let ty = if defer.filter == Filter::Panic { quote!(DeferOnPanic) } else { quote!(Defer) };
    let body = quote_spanned!(span=> || { #(#stmts)* });
    quote! {
        let #guard = #facade::__private::#ty::new(#body);
    }
}
