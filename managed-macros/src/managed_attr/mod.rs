//! `#[managed]`: on an `impl` block (`#[enter]`/`#[exit]` methods), on a
//! struct (`#[managed]` fields), or on a fn with one `yield_!`.
//!
//! Each form is parse -> validate -> expand; every error is collected, and
//! the user's item is still emitted beside the errors (stripped of our
//! helper attributes) so that one mistake does not cascade and IDEs keep
//! working.

mod attr;
mod expand_fn;
mod expand_fn_async;
mod expand_impl;
mod expand_struct;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use crate::diag::Errors;
use attr::Form;

pub fn expand(args: TokenStream, input: &TokenStream) -> TokenStream {
    let item: syn::Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#e #input);
        }
    };
    let mut errors = Errors::new();
    let form = match &item {
        syn::Item::Impl(_) => Form::Impl,
        syn::Item::Struct(_) => Form::Struct,
        syn::Item::Fn(_) => Form::Fn,
        other => {
            errors.push(wrong_item(other));
            let all = errors.finish().err().unwrap_or_default();
            return quote!(#all #other);
        }
    };
    let options = attr::parse(args, form, &mut errors);
    match item {
        syn::Item::Impl(item) => expand_impl::expand(item, &options, errors),
        syn::Item::Struct(item) => expand_struct::expand(item, &options, errors),
        syn::Item::Fn(item) => expand_fn::expand(item, &options, errors),
        _ => unreachable!("the form was chosen from the item kind"),
    }
}

const FORMS: &str = "`#[managed]` goes on an `impl` block with `#[enter]`/`#[exit]` methods, on a struct with \
                     `#[managed]` fields that are managers, or on a fn with one `yield_!(value)`";

fn wrong_item(item: &syn::Item) -> syn::Error {
    let (what, span, why) = match item {
        syn::Item::Enum(e) => (
            "an enum",
            e.enum_token.span(),
            "a manager's fields are entered and exited together, which a value of one variant at a time \
             cannot do; wrap the enum in a struct, or implement `managed::Manage` for it by hand",
        ),
        syn::Item::Union(u) => ("a union", u.union_token.span(), "its fields cannot be entered and exited safely"),
        syn::Item::Trait(t) => (
            "a trait",
            t.trait_token.span(),
            "a trait has no state to enter; put it on the `impl` block of a type, or use `managed::Manage` \
             as the trait",
        ),
        syn::Item::Const(c) => (
            "a const",
            c.const_token.span(),
            "a const is a value, not a manager definition; put it on the type's `impl` block",
        ),
        syn::Item::Static(s) => ("a static", s.static_token.span(), "put it on the type's `impl` block"),
        syn::Item::Mod(m) => ("a module", m.mod_token.span(), "put it on each item"),
        syn::Item::Type(t) => ("a type alias", t.type_token.span(), "put it on the aliased type's `impl` block"),
        syn::Item::Use(u) => ("a `use`", u.use_token.span(), "put it on the item"),
        other => ("this item", other.span(), "it does not define a manager"),
    };
    syn::Error::new(span, format!("`#[managed]` cannot be used on {what}: {why}. {FORMS}"))
}

/// `#[managed]`-form errors plus the item: what every form emits when a
/// check failed.
fn with_errors(errors: Errors, item: impl quote::ToTokens) -> TokenStream {
    let all = errors.finish().err().unwrap_or_default();
    quote!(#all #item)
}
