//! `#[managed]` on a struct: its `#[managed]` fields are entered in
//! declaration order (a failed enter rolls back the ones entered) and
//! exited in reverse, every failure after the first kept as suppressed
//! (the expansions: `tests/expand/managed/struct_fields.expanded.rs`, and
//! `struct_async_hooks.expanded.rs` for a struct with a
//! `#[managed(async)]` field or an async hook, an `AsyncManage`).
//!
//! The fields live in `Slot`s because a failed enter must exit, by value,
//! the fields it already entered while the caller still owns the struct.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::ast::{ManagedField, StructModel};
use super::attr::Options;

/// The struct of a validated model and its `Manage` (or `AsyncManage`)
/// impl.
pub(crate) fn expand(model: &StructModel, options: &Options) -> TokenStream {
    let p = options.private();
    let item = &model.item;
    let name = &item.ident;
    let error = options.error.as_ref().map_or_else(|| quote!(#p::Error), |ty| quote!(#ty));
    // A field whose type is a type parameter makes the impl conditional
    // (`S<M>` is a manager when `M` is). Any other field type is checked in
    // the body, where the error points at the field: as a where clause,
    // `BufWriter<W>: Manage` would hide the impl's `Error = io::Error` from
    // the body (where clauses shadow impls when projecting).
    let (generics, field_checks) = field_bounds(model, &p, &error);
    // An async hook makes the struct async too, even without an async field:
    // it can only be awaited by an async enter or exit, and a sync struct
    // with an async hook has no other meaning to give it.
    if model.fields.iter().any(|f| f.is_async) || options.enter_async.is_some() || options.exit_async.is_some() {
        return expand_async(model, options, &generics, &field_checks);
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let this = syn::Ident::new("this", Span::mixed_site());
    let exits = syn::Ident::new("exits", Span::mixed_site());
    let outcome = syn::Ident::new("outcome", Span::mixed_site());
    let generic = type_params(&model.item);
    let enters = model.fields.iter().map(|f| {
        let member = &f.member;
        let conversion = field_conversion(f, &p, &error, &generic);
        quote_spanned!(f.ty.span()=> #p::enter_slot::<#error, _, _>(&mut #this.#member, #conversion)?;)
    });
    // Spanned at the field type: "not a manager" is reported there.
    // The generated locals are respanned there too (same hygiene, the
    // field's location), so no part of the call points at the attribute.
    let exit_slots = |in_rollback: bool| -> Vec<TokenStream> {
        model
            .fields
            .iter()
            .rev()
            .map(|f| {
                let member = &f.member;
                let span = f.ty.span();
                let exits = syn::Ident::new("exits", span.resolved_at(Span::mixed_site()));
                let (exits, base) = if in_rollback {
                    let this = syn::Ident::new("this", span.resolved_at(Span::mixed_site()));
                    (quote_spanned!(span=> &mut *#exits), quote!(#this))
                } else {
                    (quote_spanned!(span=> &mut #exits), quote_spanned!(span=> self))
                };
                let conversion = field_conversion(f, &p, &error, &generic);
                quote_spanned!(span=> #p::Exits::<#error>::exit_slot(#exits, &mut #base.#member, #conversion);)
            })
            .collect()
    };
    let rollback = exit_slots(true);
    let exits_in_reverse = exit_slots(false);
    let enter_hook = options
        .enter
        .as_ref()
        .map(|hook| quote_spanned!(hook.span()=> <_ as #p::Fallible<#error>>::into_result(#hook(#this))?;));
    let exit_hook = options.exit.as_ref().map(|hook| {
        // Located at the hook: a hook that takes the outcome by value is
        // reported there, not at the whole attribute.
        let outcome = syn::Ident::new("outcome", hook.span().resolved_at(Span::mixed_site()));
        quote_spanned!(hook.span()=>
            #exits.step(|#outcome: &#p::Outcome<'_>| <_ as #p::Fallible<#error>>::into_result(#hook(&mut self, #outcome)));
        )
    });
    let mutability = if model.fields.is_empty() && exit_hook.is_none() { quote!() } else { quote!(mut) };
    quote! {
        #item
        #[diagnostic::do_not_recommend]
        impl #impl_generics #p::Manage for #name #ty_generics #where_clause {
            type Target = Self;
            type Error = #error;
            fn enter(&mut self) -> #p::Result<&mut Self, Self::Error> {
                #(#field_checks)*
                #p::enter_all(
                    self,
                    |#this: &mut Self| -> #p::Result<(), #error> {
                        #(#enters)*
                        #enter_hook
                        #p::Ok(())
                    },
                    |#this: &mut Self, #exits: &mut #p::Exits<'_, #error>| {
                        #(#rollback)*
                    },
                )?;
                #p::Ok(self)
            }
            fn exit(#mutability self, #outcome: &#p::Outcome<'_>) -> #p::Result<(), Self::Error> {
                let mut #exits = #p::Exits::new(*#outcome);
                #exit_hook
                #(#exits_in_reverse)*
                #exits.finish()
            }
        }
    }
}

/// A struct with a `#[managed(async)]` field or an async hook: an
/// `AsyncManage` impl. The steps are written out in the `async fn` bodies
/// (a closure whose future borrows its argument cannot be named). While an
/// enter or exit runs, a `CancelOnDrop` guard holds the struct: if that
/// future is dropped (the scope was cancelled), the fields still entered get
/// their cancelled exit, newest first; `exit_cancelled` of the struct does
/// the same after the exit hook (an async one polled once in place).
fn expand_async(
    model: &StructModel,
    options: &Options,
    generics: &syn::Generics,
    field_checks: &[TokenStream],
) -> TokenStream {
    let p = options.private();
    let item = &model.item;
    let name = &item.ident;
    let error = options.error.as_ref().map_or_else(|| quote!(#p::Error), |ty| quote!(#ty));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let this = syn::Ident::new("this", Span::mixed_site());
    let exits = syn::Ident::new("exits", Span::mixed_site());
    let outcome = syn::Ident::new("outcome", Span::mixed_site());
    let has_fields = !model.fields.is_empty();
    let generic = type_params(item);
    // Each field's enter, exit (also in the rollback) and cancelled exit,
    // spanned at its type: "not a manager" is reported there.
    let steps: Vec<[TokenStream; 3]> = model
        .fields
        .iter()
        .map(|f| {
            let member = &f.member;
            let conversion = field_conversion(f, &p, &error, &generic);
            if f.is_async {
                [
                    quote_spanned!(f.ty.span()=> #p::enter_slot_async::<#error, _, _>(&mut #this.#member, #conversion).await?;),
                    quote_spanned!(f.ty.span()=> #exits.exit_slot_async(&mut #this.#member, #conversion).await;),
                    quote_spanned!(f.ty.span()=> #p::cancel_slot_async(&mut #this.#member);),
                ]
            } else {
                [
                    quote_spanned!(f.ty.span()=> #p::enter_slot::<#error, _, _>(&mut #this.#member, #conversion)?;),
                    quote_spanned!(f.ty.span()=> #exits.exit_slot(&mut #this.#member, #conversion);),
                    quote_spanned!(f.ty.span()=> #p::cancel_slot(&mut #this.#member);),
                ]
            }
        })
        .collect();
    let enters = steps.iter().map(|[enter, _, _]| enter);
    let exit_slots: Vec<&TokenStream> = steps.iter().rev().map(|[_, exit, _]| exit).collect();
    let cancel_slots: Vec<&TokenStream> = steps.iter().rev().map(|[_, _, cancel]| cancel).collect();
    // Without fields there is nothing to cancel (and no binding to leave
    // unused in the user's crate).
    let cancel = if has_fields { quote!(|#this: &mut Self| { #(#cancel_slots)* }) } else { quote!(|_: &mut Self| {}) };
    let AsyncHooks { enter: enter_hook, exit: exit_hook, cancel: cancel_hook } =
        async_struct_hooks(options, &p, &error, &this, &exits);
    let rollback_mut = if has_fields { quote!(mut) } else { quote!() };
    let enter_mut = if has_fields || enter_hook.is_some() { quote!(mut) } else { quote!() };
    let exit_steps = has_fields || exit_hook.is_some();
    let exit_mut = if exit_steps { quote!(mut) } else { quote!() };
    let exit_guard = exit_steps.then(|| quote!(let mut #this = #p::CancelOnDrop::new(&mut self, #cancel);));
    let cancel_fields = has_fields.then(|| quote!(let #this = &mut self; #(#cancel_slots)*));
    let cancelled_mut = if has_fields || cancel_hook.is_some() { quote!(mut) } else { quote!() };
    quote! {
        #item
        #[diagnostic::do_not_recommend]
        impl #impl_generics #p::AsyncManage for #name #ty_generics #where_clause {
            type Target = Self;
            type Error = #error;
            async fn enter(&mut self) -> #p::Result<&mut Self, Self::Error> {
                #(#field_checks)*
                {
                    let #enter_mut #this = #p::CancelOnDrop::new(&mut *self, #cancel);
                    let entered = #p::catch_async(async {
                        #(#enters)*
                        #enter_hook
                        #p::Ok::<(), #error>(())
                    })
                    .await;
                    if let #p::Some(#rollback_mut #exits) = #p::AsyncExits::<#error>::after_enter(entered) {
                        #(#exit_slots)*
                        // As the sync `enter_all`: the rollback's result, a failure.
                        #exits.finish()?;
                    }
                    #this.defuse();
                }
                #p::Ok(self)
            }
            async fn exit(#exit_mut self, #outcome: &#p::Outcome<'_>) -> #p::Result<(), Self::Error> {
                #exit_guard
                let #exit_mut #exits = #p::AsyncExits::<#error>::new(*#outcome);
                #exit_hook
                #(#exit_slots)*
                #exits.finish()
            }
            fn exit_cancelled(#cancelled_mut self) {
                #cancel_hook
                #cancel_fields
            }
        }
    }
}

/// The hook calls of an async struct: in `enter`, in `exit`, in
/// `exit_cancelled`.
struct AsyncHooks {
    enter: Option<TokenStream>,
    exit: Option<TokenStream>,
    cancel: Option<TokenStream>,
}

/// Each hook is a sync or an async fn (`enter = async path`), independently.
fn async_struct_hooks(
    options: &Options,
    p: &TokenStream,
    error: &TokenStream,
    this: &syn::Ident,
    exits: &syn::Ident,
) -> AsyncHooks {
    // An async hook's runtime paths point at the hook too: otherwise a
    // hook that is not an `async fn` gets a second error at the attribute.
    let p_at = |span: Span| -> TokenStream {
        p.clone()
            .into_iter()
            .map(|mut token| {
                token.set_span(span);
                token
            })
            .collect()
    };
    let enter_hook = options.enter.as_ref().map(|hook| {
        if options.enter_async.is_some() {
            let p = p_at(hook.span());
            quote_spanned!(hook.span()=> #p::async_hook::<#error, _>(#hook(&mut *#this)).await?;)
        } else {
            quote_spanned!(hook.span()=> <_ as #p::Fallible<#error>>::into_result(#hook(&mut *#this))?;)
        }
    });
    let exit_hook = options.exit.as_ref().map(|hook| {
        if options.exit_async.is_some() {
            // Written out as `Exits::step` does it, with the hook's future
            // awaited: it borrows the outcome, so no closure can make it.
            let span = hook.span().resolved_at(Span::mixed_site());
            let unwinding = syn::Ident::new("unwinding", span);
            let ran = syn::Ident::new("ran", span);
            let seen = syn::Ident::new("seen", span);
            let p = p_at(hook.span());
            quote_spanned!(hook.span()=> {
                let #unwinding = #exits.unwinding();
                let #ran = {
                    let #seen = #exits.hook_outcome();
                    #p::catch_async(#p::async_hook::<#error, _>(#hook(&mut *#this, &#seen))).await
                };
                #exits.record_hook(#ran, #unwinding);
            })
        } else {
            let outcome = syn::Ident::new("outcome", hook.span().resolved_at(Span::mixed_site()));
            quote_spanned!(hook.span()=>
                #exits.step(|#outcome: &#p::Outcome<'_>| <_ as #p::Fallible<#error>>::into_result(#hook(&mut *#this, #outcome)));
            )
        }
    });
    let cancel_hook = options.exit.as_ref().map(|hook| {
        if options.exit_async.is_some() {
            let p = p_at(hook.span());
            quote_spanned!(hook.span()=>
                #p::cancel_hook_async::<Self, #error, _>(#hook(&mut self, &#p::Outcome::Cancelled));
            )
        } else {
            let outcome = syn::Ident::new("outcome", hook.span().resolved_at(Span::mixed_site()));
            quote_spanned!(hook.span()=>
                #p::cancel_hook(|#outcome: &#p::Outcome<'_>| <_ as #p::Fallible<#error>>::into_result(#hook(&mut self, #outcome)));
            )
        }
    });
    AsyncHooks { enter: enter_hook, exit: exit_hook, cancel: cancel_hook }
}

/// The fields' manager bounds: a where clause for a field whose type is a
/// type parameter, a check in the body (pointing at the field) for any
/// other field type.
fn field_bounds(model: &StructModel, p: &TokenStream, error: &TokenStream) -> (syn::Generics, Vec<TokenStream>) {
    let item = &model.item;
    let type_params = type_params(item);
    let mut generics = item.generics.clone();
    let mut field_checks = Vec::new();
    for field in &model.fields {
        let ty = &field.ty;
        let (bound, check) = if field.is_async {
            (quote!(AsyncManagedField), quote!(async_managed_field))
        } else {
            (quote!(ManagedField), quote!(managed_field))
        };
        if is_type_param(ty, &type_params) {
            let where_clause = generics.make_where_clause();
            where_clause.predicates.push(syn::parse_quote_spanned!(ty.span()=> #ty: #p::#bound<#error>));
        } else {
            field_checks.push(quote_spanned!(ty.span()=> #p::#check::<#error, #ty>();));
        }
    }
    (generics, field_checks)
}

/// The names of the struct's type parameters.
fn type_params(item: &syn::ItemStruct) -> HashSet<String> {
    item.generics.type_params().map(|t| t.ident.to_string()).collect()
}

/// How a field's error converts into the struct's: by its `ManagedField`
/// bound when its type is a type parameter (generic code needs `From`),
/// else chosen on its concrete type, so that a manager that cannot fail
/// needs no `From<Infallible>` (see `managed_core::convert`).
fn field_conversion(
    field: &ManagedField,
    p: &TokenStream,
    error: &TokenStream,
    type_params: &HashSet<String>,
) -> TokenStream {
    let ty = &field.ty;
    let span = ty.span();
    let of = match (is_type_param(ty, type_params), field.is_async) {
        (true, false) => return quote_spanned!(span=> #p::ViaField::<#ty>::new()),
        (true, true) => return quote_spanned!(span=> #p::ViaField::<#ty, #p::AsyncField>::new()),
        (false, false) => quote_spanned!(span=> #p::field_error::<#error, #ty>()),
        (false, true) => quote_spanned!(span=> #p::async_field_error::<#error, #ty>()),
    };
    crate::conversion::error_conversion(p, &of, span)
}

fn is_type_param(ty: &syn::Type, params: &HashSet<String>) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|i| params.contains(&i.to_string())))
}
