//! `scope!`: an outcome-aware block. Parse ([`ast`]: the block's top-level
//! statements, each plain or a split point) -> validate ([`valid`]) ->
//! expand, sync ([`expand`]) or async ([`expand_async`], whose levels are
//! grouped into [`frames`]); what a split point becomes in both is in
//! [`split`]; on an error, [`fallback`].
//!
//! Each top-level `with!` / `defer!` statement splits the block, and the
//! rest of the block becomes a nested closure (or `async` body) whose
//! `Result` the split point's exit or defer sees, exactly. See
//! ARCHITECTURE.md, "How `scope!` expands", and the expansions in
//! `tests/expand/scope/`.

mod ast;
mod expand;
mod expand_async;
mod fallback;
mod frames;
mod split;
mod valid;

use proc_macro2::TokenStream;

/// `scope!([$crate] ..)`, as the facade's `scope!` wrapper calls it.
pub(crate) fn expand_wrapped(input: TokenStream) -> TokenStream {
    match crate::paths::split_facade(input, "scope") {
        Ok((facade, input)) => expand(&facade, input),
        Err(error) => error,
    }
}

/// `facade`: the path of the `managed` crate as the user reaches it
/// (`$crate`, from the facade's `scope!` wrapper).
pub(crate) fn expand(facade: &TokenStream, input: TokenStream) -> TokenStream {
    let scope = match ast::parse(facade.clone(), input) {
        Ok(scope) => scope,
        Err(e) => return e.to_compile_error(),
    };
    if let Err(errors) = valid::validate(&scope) {
        return fallback::fallback(&errors, &scope);
    }
    match &scope.asyncness {
        None => expand::expand(&scope),
        Some(asyncness) => expand_async::expand(&scope, asyncness),
    }
}
