//! Procedural macros of [`managed`](https://docs.rs/managed): `scope!`,
//! `with!`, `defer!`. An implementation detail of `managed`, which
//! re-exports them with their documentation; depend on `managed`.
//! Also `#[managed]` and `yield_!` (in `managed_attr/`).
//!
//! Every macro is split parse -> validate -> expand; errors are collected
//! and point at the user's tokens.

#![warn(missing_docs)]
mod conversion;
mod defer;
mod diag;
#[cfg(test)]
mod fuzz;
mod paths;
mod scope;
mod with;

use proc_macro::TokenStream;

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, whose `scope!` wrapper calls it as `scope!([$crate] ..)`
/// and documents it.)
#[proc_macro]
pub fn scope(input: TokenStream) -> TokenStream {
    scope::expand_wrapped(input.into()).into()
}

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, which re-exports and documents it.)
#[proc_macro]
pub fn with(input: TokenStream) -> TokenStream {
    let input = input.into();
    if paths::is_seen_marker(&input) {
        return TokenStream::new();
    }
    with::expand_standalone(input).into()
}

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, whose `defer!` wrapper calls it as `defer!([$crate] ..)`
/// and documents it.)
#[proc_macro]
pub fn defer(input: TokenStream) -> TokenStream {
    defer::expand_wrapped(input.into()).into()
}

mod managed_attr;

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, which re-exports and documents it.)
#[proc_macro_attribute]
pub fn managed(args: TokenStream, input: TokenStream) -> TokenStream {
    managed_attr::expand(args.into(), &input.into()).into()
}

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, which re-exports and documents it. Inside a `#[managed] fn`
/// the attribute rewrites it before it expands; anywhere else it is an
/// error.)
#[proc_macro]
pub fn yield_(input: TokenStream) -> TokenStream {
    // `#[managed]` leaves `yield_!(@used)` behind so that the user's import
    // of `yield_` counts as used; it expands to nothing.
    if input.to_string() == "@ used" || input.to_string() == "@used" {
        return TokenStream::new();
    }
    syn::Error::new(
        proc_macro2::Span::call_site(),
        "`yield_!` outside a `#[managed]` fn: it lends a value to the block of the manager that a `#[managed] fn` \
         returns; write `#[managed]` on the enclosing fn (one `yield_!` as a top-level statement of its body)",
    )
    .to_compile_error()
    .into()
}

mod scoped;

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, which re-exports and documents it.)
#[proc_macro_attribute]
pub fn scoped(args: TokenStream, input: TokenStream) -> TokenStream {
    scoped::expand(args.into(), input.into()).into()
}
