//! `#[managed]` on an impl block: the impl block without the markers, and
//! the `Manage` impl that calls the `#[enter]` / `#[exit]` methods (the
//! expansion: `tests/expand/managed/impl_block.expanded.rs`). Its error
//! type is read from the signatures, `Infallible` when neither can fail.
//! With `async fn` methods it is `impl AsyncManage` instead, the same
//! bodies with the calls awaited.
//!
//! `Returns<E>` is implemented for `()` and `Result<(), E>` only, so a
//! method returning another error type is a compile error that says the two
//! error types must agree.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::ast::{error_type, ErrorType, ImplModel, Marked};
use super::attr::Options;

/// The impl block of a validated model and its `Manage` (or `AsyncManage`)
/// impl.
pub(crate) fn expand(model: &ImplModel, options: &Options) -> TokenStream {
    let Some(exit) = &model.exit else { unreachable!("validation requires an `#[exit]` method") };
    let item = &model.item;
    let p = options.private();
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let self_ty = &item.self_ty;
    let error = match (model.enter.as_ref().map(|m| error_type(&m.sig.output)), error_type(&exit.sig.output)) {
        (Some(ErrorType::Written(e)), _) | (Some(ErrorType::Infallible) | None, ErrorType::Written(e)) => quote!(#e),
        (Some(ErrorType::Of(t)), _) | (Some(ErrorType::Infallible) | None, ErrorType::Of(t)) => {
            quote!(<#t as #p::ReturnError>::Error)
        }
        (Some(ErrorType::Infallible) | None, ErrorType::Infallible) => quote!(#p::Infallible),
    };
    // Both methods are `async` or neither (checked); an async pair is awaited.
    let awaited = if exit.sig.asyncness.is_some() { quote!(.await) } else { quote!() };
    let enter_call = match &model.enter {
        Some(m) => {
            let ident = &m.sig.ident;
            let call = returns(m, &p, &quote!(Self::#ident(self)#awaited));
            quote!(#call?;)
        }
        None => quote!(),
    };
    let exit_call = {
        let ident = &exit.sig.ident;
        let args = if exit.sig.inputs.len() > 1 { quote!(self, outcome) } else { quote!(self) };
        let unused = if exit.sig.inputs.len() > 1 { quote!() } else { quote!(let _ = outcome;) };
        let call = returns(exit, &p, &quote!(Self::#ident(#args)#awaited));
        quote!(#unused #call)
    };
    if exit.sig.asyncness.is_some() {
        // `AsyncManage`, not `SendAsyncManage`: a non-`Send` type works, and
        // a `Send` one still makes `Send` scope futures (the compiler sees
        // the concrete futures of this impl).
        return quote! {
            #item
            impl #impl_generics #p::AsyncManage for #self_ty #where_clause {
                type Target = Self;
                type Error = #error;
                #[inline]
                async fn enter(&mut self) -> #p::Result<&mut Self, Self::Error> {
                    #enter_call
                    #p::Ok(self)
                }
                #[inline]
                async fn exit(self, outcome: &#p::Outcome<'_>) -> #p::Result<(), Self::Error> {
                    #exit_call
                }
            }
        };
    }
    quote! {
        #item
        impl #impl_generics #p::Manage for #self_ty #where_clause {
            type Target = Self;
            type Error = #error;
            #[inline]
            fn enter(&mut self) -> #p::Result<&mut Self, Self::Error> {
                #enter_call
                #p::Ok(self)
            }
            #[inline]
            fn exit(self, outcome: &#p::Outcome<'_>) -> #p::Result<(), Self::Error> {
                #exit_call
            }
        }
    }
}

/// `Returns::<Self::Error>::into_result(call)`, spanned at the method's
/// return type so that a disagreeing error type is reported there.
fn returns(m: &Marked, p: &TokenStream, call: &TokenStream) -> TokenStream {
    let span = match &m.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => m.sig.ident.span(),
    };
    quote_spanned!(span=> <_ as #p::Returns<Self::Error>>::into_result(#call))
}
