//! What `#[managed]` emits when a check failed: the errors, and the user's
//! item (stripped of our helper attributes), so that one mistake does not
//! cascade into errors at every use of the item and IDEs keep working.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

use super::ast::FnModel;
use super::yield_fn::keep_import;

/// The errors and the item as it is.
pub(crate) fn item(errors: &TokenStream, item: impl ToTokens) -> TokenStream {
    quote!(#errors #item)
}

/// The errors, and the fn with its signature and a body that compiles, so
/// that uses of it do not add errors of their own.
pub(crate) fn yield_fn(errors: &TokenStream, model: &FnModel) -> TokenStream {
    let item = &model.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let sig = &item.sig;
    let keep_import = keep_import(&model.yields);
    quote! {
        #errors
        #(#attrs)*
        #[allow(unused_variables, unused_mut, unreachable_code, clippy::diverging_sub_expression)]
        #vis #sig {
            #keep_import
            ::core::panic!("`#[managed]` reported an error on this fn")
        }
    }
}
