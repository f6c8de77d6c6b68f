//! What `#[managed]` emits when a check failed: the errors, and the user's
//! item (stripped of our helper attributes), so that one mistake does not
//! cascade into errors at every use of the item and IDEs keep working.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

use super::ast::{FnModel, Returns};
use super::yield_fn::{keep_import, manager_signature};

/// The errors and the item as it is.
pub(crate) fn item(errors: &TokenStream, item: impl ToTokens) -> TokenStream {
    quote!(#errors #item)
}

/// The errors, the item as it is, and a `Manage` impl for its type that is
/// never run: the user did write `#[managed]`, so each `with!` of the type
/// must not add "`T` is not a manager" to the error being fixed. Its error
/// type is `Infallible`, which fits any scope. Not for `impl Trait for T`
/// (refused: `T` may be anything, even a manager already).
pub(crate) fn with_manager(
    errors: &TokenStream,
    item: impl ToTokens,
    of: Option<ManagerOf<'_>>,
    p: &TokenStream,
) -> TokenStream {
    let Some(ManagerOf { generics, self_ty }) = of else { return quote!(#errors #item) };
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    quote! {
        #errors
        #item
        #[diagnostic::do_not_recommend]
        impl #impl_generics #p::Manage for #self_ty #where_clause {
            type Target = Self;
            type Error = #p::Infallible;
            fn enter(&mut self) -> #p::Result<&mut Self, #p::Infallible> {
                ::core::unreachable!("`#[managed]` reported an error on this type")
            }
            fn exit(self, _: &#p::Outcome<'_>) -> #p::Result<(), #p::Infallible> {
                ::core::unreachable!("`#[managed]` reported an error on this type")
            }
        }
    }
}

/// The type a fallback `Manage` impl is for, with the item's generics.
pub(crate) struct ManagerOf<'a> {
    pub(crate) generics: &'a syn::Generics,
    pub(crate) self_ty: TokenStream,
}

/// The errors, and the fn with a body that compiles, so that uses of it do
/// not add errors of their own. A sync fn whose return type names the
/// target and error returns a manager of them, as it would have (its
/// `with!` then reports nothing more); otherwise the signature is kept.
pub(crate) fn yield_fn(errors: &TokenStream, model: &FnModel, krate: &TokenStream) -> TokenStream {
    let item = &model.item;
    let attrs = &item.attrs;
    let vis = &item.vis;
    let mut sig = item.sig.clone();
    let keep_import = keep_import(&model.yields);
    let body = match &model.returns {
        Ok(Returns { target, error }) if sig.asyncness.is_none() => {
            let error = manager_signature(&mut sig, krate, target, error);
            let never = quote!(::core::unreachable!("`#[managed]` reported an error on this fn"));
            quote! {
                #krate::__private::FnManager::new(
                    move || -> #krate::__private::Result<(_, ()), #error> { #never },
                    move |_, (), _: &#krate::__private::Outcome<'_>| -> #krate::__private::Result<(), #error> { #never },
                )
            }
        }
        _ => quote!(::core::panic!("`#[managed]` reported an error on this fn")),
    };
    quote! {
        #errors
        #(#attrs)*
        #[allow(unused_variables, unused_mut, unreachable_code, clippy::diverging_sub_expression)]
        #vis #sig {
            #keep_import
            #body
        }
    }
}
