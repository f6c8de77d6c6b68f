//! `#[managed]` on a struct: its `#[managed]` fields are entered in
//! declaration order and exited in reverse.
//!
//! ```text
//! #[managed(enter = hello, exit = bye)] struct S { #[managed] a: A, #[managed] b: B, n: u32 }
//! // expands to the struct with `a: Slot<A>, b: Slot<B>`, and
//! impl Manage for S where A: ManagedField, Error: From<A::Error>, .. {
//!     type Target = Self;
//!     type Error = managed::Error;                  // or `error = Type`
//!     fn enter(&mut self) -> Result<&mut Self, Error> {
//!         enter_all(self,
//!             |this| { enter_slot(&mut this.a)?; enter_slot(&mut this.b)?; hello(this)?; Ok(()) },
//!             |this, exits| { exits.exit_slot(&mut this.b); exits.exit_slot(&mut this.a); })?;   // rollback
//!         Ok(self)
//!     }
//!     fn exit(mut self, outcome: &Outcome<'_>) -> Result<(), Error> {
//!         let mut exits = Exits::new(*outcome);
//!         exits.step(|o| bye(&mut self, o)); exits.exit_slot(&mut self.b); exits.exit_slot(&mut self.a);
//!         exits.finish()                            // first failure, later ones suppressed
//!     }
//! }
//! ```
//! The fields live in `Slot`s because a failed enter must exit, by value,
//! the fields it already entered while the caller still owns the struct.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::attr::Options;
use super::parse::parse_struct;
use crate::diag::Errors;

pub fn expand(item: syn::ItemStruct, options: &Options, mut errors: Errors) -> TokenStream {
    let krate = options.krate();
    let model = parse_struct(item, &krate, &mut errors);
    if model.fields.is_empty() && options.enter.is_none() && options.exit.is_none() {
        errors.push(syn::Error::new(
            model.item.ident.span(),
            "`#[managed]` struct without `#[managed]` fields: mark each field that is a manager with `#[managed]` \
             (they are entered in declaration order and exited in reverse); plain data needs no mark",
        ));
    }
    if let Err(all) = errors.finish() {
        let item = &model.item;
        return quote!(#all #item);
    }
    let p = options.private();
    let item = &model.item;
    let name = &item.ident;
    let error = match &options.error {
        Some(ty) => quote!(#ty),
        None => quote!(#p::Error),
    };
    let mut generics = item.generics.clone();
    {
        let where_clause = generics.make_where_clause();
        for field in &model.fields {
            let ty = &field.ty;
            where_clause.predicates.push(syn::parse_quote_spanned!(ty.span()=> #ty: #p::ManagedField));
            where_clause.predicates.push(syn::parse_quote_spanned!(ty.span()=>
                #error: #p::From<<#ty as #p::Manage>::Error>
            ));
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let this = syn::Ident::new("this", Span::mixed_site());
    let exits = syn::Ident::new("exits", Span::mixed_site());
    let outcome = syn::Ident::new("outcome", Span::mixed_site());
    let members: Vec<&syn::Member> = model.fields.iter().map(|f| &f.member).collect();
    let reversed: Vec<&syn::Member> = members.iter().rev().copied().collect();
    let enter_hook = options
        .enter
        .as_ref()
        .map(|hook| quote_spanned!(hook.span()=> <_ as #p::Fallible<#error>>::into_result(#hook(#this))?;));
    let exit_hook = options.exit.as_ref().map(|hook| {
        quote_spanned!(hook.span()=>
            #exits.step(|#outcome: &#p::Outcome<'_>| <_ as #p::Fallible<#error>>::into_result(#hook(&mut self, #outcome)));
        )
    });
    let mutability = if members.is_empty() && exit_hook.is_none() { quote!() } else { quote!(mut) };
    quote! {
        #item
        impl #impl_generics #p::Manage for #name #ty_generics #where_clause {
            type Target = Self;
            type Error = #error;
            fn enter(&mut self) -> #p::Result<&mut Self, Self::Error> {
                #p::enter_all(
                    self,
                    |#this: &mut Self| -> #p::Result<(), #error> {
                        #( #p::enter_slot::<#error, _>(&mut #this.#members)?; )*
                        #enter_hook
                        #p::Ok(())
                    },
                    |#this: &mut Self, #exits: &mut #p::Exits<'_, #error>| {
                        #( #exits.exit_slot(&mut #this.#reversed); )*
                    },
                )?;
                #p::Ok(self)
            }
            fn exit(#mutability self, #outcome: &#p::Outcome<'_>) -> #p::Result<(), Self::Error> {
                let mut #exits = #p::Exits::new(*#outcome);
                #exit_hook
                #( #exits.exit_slot(&mut self.#reversed); )*
                #exits.finish()
            }
        }
    }
}
