//! `yield_!` outside a `#[managed]` fn: always an error, saying what to
//! write instead (inside one, `#[managed]` rewrites the call before it
//! expands).

use proc_macro2::{Span, TokenStream};

/// `#[managed]` leaves `yield_!(@used)` behind so that the user's import of
/// `yield_` counts as used; it expands to nothing.
pub(crate) fn expand(input: &TokenStream) -> TokenStream {
    if input.to_string() == "@ used" || input.to_string() == "@used" {
        return TokenStream::new();
    }
    syn::Error::new(
        Span::call_site(),
        "`yield_!` outside a `#[managed]` fn: it lends a value to the block of the manager that a `#[managed] fn` \
         returns; write `#[managed]` on the enclosing fn (one `yield_!` as a top-level statement of its body)",
    )
    .to_compile_error()
}
