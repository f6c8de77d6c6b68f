//! `scope!`: an outcome-aware block. parse -> validate -> expand.
//!
//! How it expands (see ARCHITECTURE.md): each top-level `with!` / `defer!`
//! statement splits the block, and the rest of the block becomes a nested
//! closure whose `Result` the split point's exit or defer sees, exactly.

mod expand;
mod expand_async;
mod parse;
mod validate;

use proc_macro2::TokenStream;

pub fn expand(input: TokenStream) -> TokenStream {
    let scope = match parse::parse(input) {
        Ok(scope) => scope,
        Err(e) => return e.to_compile_error(),
    };
    match validate::validate(&scope) {
        Ok(()) => expand::expand(&scope),
        Err(errors) => expand::fallback(&errors, &scope),
    }
}
