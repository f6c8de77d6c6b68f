//! Names the generated code uses and the macro names we recognise.
//!
//! `scope!` and `defer!` are `macro_rules!` wrappers in the facade that call
//! the proc macros here with `[$crate]` before the user's tokens
//! ([`split_facade`]): `$crate` names the facade however it is reached
//! (`managed`, a renamed dependency, a re-export in another crate), so the
//! generated code never spells the crate's name.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote;

/// Splits `[$crate] tokens..`, as the facade's wrappers pass them, into the
/// facade's path and the user's tokens. Without the bracketed path in
/// front, the proc macro was called directly (`managed_macros::scope!`)
/// rather than through the facade: the error says to depend on `managed`.
pub(crate) fn split_facade(input: TokenStream, name: &str) -> Result<(TokenStream, TokenStream), TokenStream> {
    let mut tokens = input.into_iter();
    match tokens.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => Ok((g.stream(), tokens.collect())),
        first => {
            let span = first.map_or_else(Span::call_site, |t| t.span());
            let message = format!(
                "`managed_macros::{name}!` is an implementation detail of `managed`: depend on `managed` and use \
                 `managed::{name}!`"
            );
            Err(syn::Error::new(span, message).to_compile_error())
        }
    }
}

/// The name under which a scope's expansion imports the facade's
/// `__private` module ([`import_private`]), with the span `at`. An item
/// name: it resolves at the call site under both `Span::call_site()` and
/// `Span::mixed_site()` hygiene, so the paths built on it can carry the
/// span of any user token (see [`private_at`]), which a `$crate` token
/// cannot (it resolves by its own span).
fn private_alias(at: Span) -> syn::Ident {
    syn::Ident::new("__managed_private", at)
}

/// `use $crate::__private as __managed_private;`, first in every scope's
/// expansion: the one place the facade's path appears there.
pub(crate) fn import_private(facade: &TokenStream) -> TokenStream {
    let alias = private_alias(Span::call_site());
    quote! {
        #[allow(unused_imports)]
        use #facade::__private as #alias;
    }
}

/// The facade's `__private` module inside a scope's expansion (imported by
/// [`import_private`]): the only path generated code uses to reach the
/// runtime, so users depend on `managed` alone.
pub(crate) fn private() -> TokenStream {
    let alias = private_alias(Span::call_site());
    quote!(#alias)
}

/// [`private`] with the span `at` (a hygienic span located at the user's
/// token): generated code located at the user's `with!`, so that type
/// errors in it point there. (rustc underlines the whole macro call when a
/// call and its arguments come from different hygiene contexts, so the
/// whole call is given one.)
pub(crate) fn private_at(at: Span) -> TokenStream {
    let alias = private_alias(at);
    quote!(#alias)
}

/// `::managed::__private` with every token at `at`, for `#[managed]`
/// without `crate = ".."` (an attribute has no `$crate` to be given).
pub(crate) fn default_private_at(at: Span) -> TokenStream {
    quote::quote_spanned!(at=> ::managed::__private)
}

/// A hygienic local for generated code: `Span::mixed_site()` keeps it from
/// clashing with the user's names (as a `macro_rules!` local would).
pub(crate) fn local(name: &str, index: usize) -> syn::Ident {
    syn::Ident::new(&format!("__managed_{name}{index}"), Span::mixed_site())
}

/// Whether `path` names one of our macros: `name!`, or any path ending in
/// `::name!` (`managed::name!`, `mg::name!` for a renamed dependency,
/// `framework::managed::name!` for a re-export, `$crate::name!` in another
/// crate's macro). A macro cannot resolve paths, so it goes by the name: a
/// macro imported as another name is not recognised, and an unrelated
/// macro called `with!`/`defer!` at the top level of a scope is taken for
/// ours; the `name!(@managed_seen)` call the scope then makes with its
/// path ([`seen_marker`]) is an error for most macros but ours. Generic
/// arguments (`a::<T>::with!`) make no macro path.
pub(crate) fn is_our_macro(path: &syn::Path, name: &str) -> bool {
    path.segments.last().is_some_and(|last| last.ident == name) && path.segments.iter().all(|s| s.arguments.is_none())
}

/// The argument of the call `scope!` makes to each `with!` / `defer!` path it
/// consumed, `with!(@managed_seen)`, which expands to nothing: it makes the
/// user's `use managed::with;` count as used (rustc never sees the consumed
/// calls), and it resolves the path as the user wrote it.
pub(crate) fn seen_marker() -> TokenStream {
    quote!(@managed_seen)
}

pub(crate) fn is_seen_marker(input: &TokenStream) -> bool {
    input.to_string() == seen_marker().to_string()
}

/// A hygienic local located at the user's token (see [`private_at`]).
pub(crate) fn local_at(name: &str, index: usize, at: Span) -> syn::Ident {
    syn::Ident::new(&format!("__managed_{name}{index}"), Span::mixed_site().located_at(at))
}

#[cfg(test)]
mod tests {
    use super::is_our_macro;

    fn names(path: &str, name: &str) -> bool {
        is_our_macro(&syn::parse_str(path).expect("a path"), name)
    }

    #[test]
    fn our_macros_are_recognised_under_any_path() {
        for path in ["with", "managed::with", "::managed::with", "mg::with", "framework::managed::with"] {
            assert!(names(path, "with"), "{path}");
        }
        assert!(names("mg::defer", "defer"));
        for (path, name) in
            [("with", "defer"), ("mg::without", "with"), ("with::inner", "with"), ("a::<T>::with", "with")]
        {
            assert!(!names(path, name), "{path} taken for `{name}!`");
        }
    }
}
