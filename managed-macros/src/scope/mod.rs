//! `scope!`: an outcome-aware block. parse -> validate -> expand.
//!
//! How it expands (see ARCHITECTURE.md): each top-level `with!` / `defer!`
//! statement splits the block, and the rest of the block becomes a nested
//! closure whose `Result` the split point's exit or defer sees, exactly.

mod enter;
mod expand;
mod expand_async;
mod parse;
mod validate;

use proc_macro2::TokenStream;

/// `scope!([$crate] ..)`, as the facade's `scope!` wrapper calls it.
pub fn expand_wrapped(input: TokenStream) -> TokenStream {
    let (facade, input) = crate::paths::split_facade(input);
    expand(&facade, input)
}

/// `facade`: the path of the `managed` crate as the user reaches it
/// (`$crate`, from the facade's `scope!` wrapper).
pub fn expand(facade: &TokenStream, input: TokenStream) -> TokenStream {
    let scope = match parse::parse(facade.clone(), input) {
        Ok(scope) => scope,
        Err(e) => return e.to_compile_error(),
    };
    match validate::validate(&scope) {
        Ok(()) => expand::expand(&scope),
        Err(errors) => expand::fallback(&errors, &scope),
    }
}
