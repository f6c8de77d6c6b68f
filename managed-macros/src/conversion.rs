//! The conversion of a manager's error into the error type of its scope or
//! `#[managed]` struct, chosen where the generated code has the manager:
//! `From`, or none for a manager that cannot fail (`Error = Infallible`).
//! See `managed_core::convert`.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// The conversion tag (`CannotFail` or `ViaFrom`) for the error type of
/// `of`, an expression of type `ErrorOf<X>`, chosen by method lookup on the
/// concrete type; `p` is the facade's `__private`.
pub(crate) fn error_conversion(p: &TokenStream, of: &TokenStream, at: Span) -> TokenStream {
    quote_spanned! {at=>
        {
            // Only one of the two is used, depending on the error type.
            #[allow(unused_imports)]
            use #p::{CannotFailKind as _, ViaFromKind as _};
            // The borrow is the point: lookup tries `CannotFailKind` on the
            // bare type first.
            #[allow(clippy::needless_borrow)]
            (&#of).__managed_error_kind()
        }
    }
}
