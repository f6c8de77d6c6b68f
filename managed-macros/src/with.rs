//! `with!` outside the top level of a `scope!`: always an error, saying what
//! to write instead (inside a scope, `scope!` itself replaces the call).

use proc_macro2::{Span, TokenStream};

pub(crate) fn expand_standalone(_input: TokenStream) -> TokenStream {
    syn::Error::new(
        Span::call_site(),
        "`with!` enters a manager and exits it when its `scope!` ends, so it only works written literally \
         (not inside another macro) as a top-level statement of a `scope!` block: \
         `scope! { let target = with!(manager)?; .. }`; inside an `if`, a loop or a closure, open a nested \
         `scope!` there",
    )
    .to_compile_error()
}
