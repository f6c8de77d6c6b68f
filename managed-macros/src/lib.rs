//! Procedural macros of [`managed`](https://docs.rs/managed): `scope!`,
//! `with!`, `defer!`, `#[managed]`, `yield_!`, `#[scoped]`. An
//! implementation detail of `managed`, which re-exports them with their
//! documentation; depend on `managed`.
//!
//! One module per macro, each split parse -> validate -> expand: an `ast`
//! (the model, parsed from syn), `valid` (every error collected, pointing
//! at the user's tokens), generators that only read a validated model, and
//! a `fallback` for when validation failed. ARCHITECTURE.md, "What is
//! where", says which file does what for each macro.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conversion;
mod defer;
mod diag;
#[cfg(test)]
mod fuzz;
mod managed;
mod paths;
mod scope;
mod scoped;
mod with;
mod yield_;

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

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, which re-exports it as `managed::managed` and documents it.)
#[proc_macro_attribute]
pub fn facade_managed(args: TokenStream, input: TokenStream) -> TokenStream {
    managed::expand(args.into(), &input.into()).into()
}

/// `#[managed_macros::managed]`, used without the facade: an error that
/// says to depend on `managed` and use `#[managed::managed]` (the
/// generated code names the facade, which is then missing).
#[proc_macro_attribute]
pub fn managed(_args: TokenStream, _input: TokenStream) -> TokenStream {
    paths::attribute_called_directly("managed").into()
}

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, which re-exports and documents it. Inside a `#[managed] fn`
/// the attribute rewrites it before it expands; anywhere else it is an
/// error.)
#[proc_macro]
pub fn yield_(input: TokenStream) -> TokenStream {
    yield_::expand(&input.into()).into()
}

/// (Implemented in `managed-macros`, an implementation detail of
/// `managed`, which re-exports it as `managed::scoped` and documents it.)
#[proc_macro_attribute]
pub fn facade_scoped(args: TokenStream, input: TokenStream) -> TokenStream {
    scoped::expand(args.into(), input.into()).into()
}

/// `#[managed_macros::scoped(..)]`, used without the facade: an error that
/// says to depend on `managed` and use `#[managed::scoped(..)]`.
#[proc_macro_attribute]
pub fn scoped(_args: TokenStream, _input: TokenStream) -> TokenStream {
    paths::attribute_called_directly("scoped").into()
}
