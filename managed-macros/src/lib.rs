//! Procedural macros of [`managed`](https://docs.rs/managed): `scope!`,
//! `with!`, `defer!`. An implementation detail of `managed`, which
//! re-exports them with their documentation; depend on `managed`.
//!
//! Every macro is split parse -> validate -> expand; errors are collected
//! and point at the user's tokens.

#![warn(missing_docs)]
mod defer;
mod diag;
#[cfg(test)]
mod fuzz;
mod paths;
mod scope;
mod with;

use proc_macro::TokenStream;

/// See `managed::scope!`.
#[proc_macro]
pub fn scope(input: TokenStream) -> TokenStream {
    scope::expand(input.into()).into()
}

/// See `managed::with!`.
#[proc_macro]
pub fn with(input: TokenStream) -> TokenStream {
    let input = input.into();
    if paths::is_seen_marker(&input) {
        return TokenStream::new();
    }
    with::expand_standalone(input).into()
}

/// See `managed::defer!`.
#[proc_macro]
pub fn defer(input: TokenStream) -> TokenStream {
    let input = input.into();
    if paths::is_seen_marker(&input) {
        return TokenStream::new();
    }
    defer::expand_standalone(input).into()
}
