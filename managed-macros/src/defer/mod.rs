//! `defer!`: parse ([`ast`], shared with `scope!`, which handles the
//! `defer!` statements at its top level) -> validate ([`valid`], also
//! shared) -> expand the standalone drop guard ([`expand`]).

pub(crate) mod ast;
mod expand;
pub(crate) mod valid;

use proc_macro2::{Span, TokenStream};

use crate::paths;

/// `defer!([$crate] ..)`, as the facade's `defer!` wrapper calls it: a
/// drop guard, or nothing for the `@managed_seen` marker of a scope.
pub(crate) fn expand_wrapped(input: TokenStream) -> TokenStream {
    let (facade, input) = match paths::split_facade(input, "defer") {
        Ok(split) => split,
        Err(error) => return error,
    };
    if paths::is_seen_marker(&input) {
        return TokenStream::new();
    }
    expand_standalone(&facade, input)
}

/// `defer!` where it was not handled by an enclosing `scope!`: the drop
/// guard forms expand to a guard bound for the rest of the block; the other
/// forms are errors that say where to put them.
pub(crate) fn expand_standalone(facade: &TokenStream, input: TokenStream) -> TokenStream {
    let defer: ast::Defer = match syn::parse2(input) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error(),
    };
    let misplaced = valid::check_needs_no_scope(&defer, "outside the top level of a `scope!`", Span::call_site());
    if let Some(e) = misplaced.or_else(|| valid::check_body(&defer)) {
        return e.to_compile_error();
    }
    expand::expand(facade, &defer)
}
