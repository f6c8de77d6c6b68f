//! What `scope!` emits when validation failed.

use proc_macro2::TokenStream;
use quote::quote;

use super::ast::Scope;
use super::split;

/// The errors (a `compile_error!` in tail position is a value of any type,
/// so no second wave of type errors hides them), and the markers that keep
/// the user's `with`/`defer` imports counted as used.
pub(crate) fn fallback(errors: &TokenStream, scope: &Scope) -> TokenStream {
    let seen = split::seen_macros(scope);
    quote! {{
        #seen
        #errors
    }}
}
