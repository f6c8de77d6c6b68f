//! `#[managed]` on an impl block: the `Manage` impl that calls the
//! `#[enter]` / `#[exit]` methods.
//!
//! ```text
//! #[managed] impl Db { #[enter] fn open(&mut self) -> Result<(), E> {..}  #[exit] fn close(self, o: &Outcome) {..} }
//! // expands to the impl block without the markers, and
//! impl Manage for Db {
//!     type Target = Self;
//!     type Error = E;            // from the signatures; `Infallible` when neither can fail
//!     fn enter(&mut self) -> Result<&mut Self, E> { Returns::<E>::into_result(Self::open(self))?; Ok(self) }
//!     fn exit(self, outcome: &Outcome<'_>) -> Result<(), E> { Returns::<E>::into_result(Self::close(self, outcome)) }
//! }
//! ```
//! With `async fn` methods it is `impl AsyncManage` instead, the same
//! bodies with the calls awaited (`async fn enter` / `async fn exit`).
//!
//! `Returns<E>` is implemented for `()` and `Result<(), E>` only, so a
//! method returning another error type is a compile error that says the two
//! error types must agree.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::attr::Options;
use super::parse::{parse_impl, Marked};
use super::validate::{check_impl, error_type, ErrorType};
use super::with_errors;
use crate::diag::Errors;

pub fn expand(item: syn::ItemImpl, options: &Options, mut errors: Errors) -> TokenStream {
    let model = parse_impl(item, &mut errors);
    check_impl(&model, &mut errors);
    let Some(exit) = &model.exit else { return with_errors(errors, &model.item) };
    if let Err(all) = errors.finish() {
        return quote!(#all #model);
    }
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

impl quote::ToTokens for super::parse::ImplModel {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.item.to_tokens(tokens);
    }
}
