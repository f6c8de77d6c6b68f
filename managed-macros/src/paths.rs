//! Names the generated code uses and the macro names we recognise.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// `::managed::__private`: the only path generated code uses to reach the
/// runtime (the facade re-exports what is needed, so users depend on
/// `managed` alone).
pub fn private() -> TokenStream {
    quote!(::managed::__private)
}

/// A hygienic local for generated code: `Span::mixed_site()` keeps it from
/// clashing with the user's names (as a `macro_rules!` local would).
pub fn local(name: &str, index: usize) -> syn::Ident {
    syn::Ident::new(&format!("__managed_{name}{index}"), Span::mixed_site())
}

/// Whether `path` names one of our macros: `name!`, `managed::name!` or
/// `::managed::name!`.
pub fn is_our_macro(path: &syn::Path, name: &str) -> bool {
    let segments: Vec<_> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [only] => only == name,
        [krate, last] => krate == "managed" && last == name,
        _ => false,
    }
}

/// The argument of the call `scope!` makes to each `with!` / `defer!` path it
/// consumed, `with!(@managed_seen)`, which expands to nothing: it makes the
/// user's `use managed::with;` count as used (rustc never sees the consumed
/// calls), and it resolves the path as the user wrote it.
pub fn seen_marker() -> TokenStream {
    quote!(@managed_seen)
}

pub fn is_seen_marker(input: &TokenStream) -> bool {
    input.to_string() == seen_marker().to_string()
}

/// `::managed::__private` with every token at `at`: generated code located
/// at the user's `with!`, so that type errors in it point there. (rustc
/// underlines the whole macro call when a call and its arguments come from
/// different hygiene contexts, so the whole call is given one.)
pub fn private_at(at: Span) -> TokenStream {
    quote::quote_spanned!(at=> ::managed::__private)
}

/// A hygienic local located at the user's token (see [`private_at`]).
pub fn local_at(name: &str, index: usize, at: Span) -> syn::Ident {
    syn::Ident::new(&format!("__managed_{name}{index}"), Span::mixed_site().located_at(at))
}
