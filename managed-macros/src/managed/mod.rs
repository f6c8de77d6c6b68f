//! `#[managed]`: on an `impl` block (`#[enter]`/`#[exit]` methods), on a
//! struct (`#[managed]` fields), or on a fn with one `yield_!`.
//!
//! The flow, per form: the options ([`attr`]), the model ([`ast`]), its
//! checks ([`valid`]), then one generator: [`expand_impl`],
//! [`expand_struct`], [`expand_fn`] (sync fn) or [`expand_fn_async`]
//! (async fn); the analysis both fn forms share is [`yield_fn`]. Every
//! error is collected; on any, [`fallback`] emits them beside the user's
//! item. What each form generates: `tests/expand/managed/`.

mod ast;
mod attr;
mod expand_fn;
mod expand_fn_async;
mod expand_impl;
mod expand_struct;
mod fallback;
mod valid;
mod yield_fn;

use proc_macro2::TokenStream;

use crate::diag::Errors;
use attr::Form;

pub(crate) fn expand(args: TokenStream, input: &TokenStream) -> TokenStream {
    let item: syn::Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(e) => return fallback::item(&e.to_compile_error(), input),
    };
    let mut errors = Errors::new();
    let form = match &item {
        syn::Item::Impl(_) => Form::Impl,
        syn::Item::Struct(_) => Form::Struct,
        syn::Item::Fn(_) => Form::Fn,
        other => return fallback::item(&valid::wrong_item(other).to_compile_error(), other),
    };
    let options = attr::parse(args, form, &mut errors);
    match item {
        syn::Item::Impl(item) => {
            let model = ast::parse_impl(item, &mut errors);
            valid::check_impl(&model, &mut errors);
            match errors.finish() {
                Ok(()) => expand_impl::expand(&model, &options),
                Err(all) => fallback::item(&all, &model.item),
            }
        }
        syn::Item::Struct(item) => {
            let model = ast::parse_struct(item, &options.krate(), &mut errors);
            valid::check_struct(&model, &options, &mut errors);
            match errors.finish() {
                Ok(()) => expand_struct::expand(&model, &options),
                Err(all) => fallback::item(&all, &model.item),
            }
        }
        syn::Item::Fn(item) => {
            let model = ast::FnModel::from_syn(item);
            valid::check_fn(&model, &options, &mut errors);
            if let Err(all) = errors.finish() {
                return fallback::yield_fn(&all, &model);
            }
            let Some(yield_fn) = yield_fn::YieldFn::new(model) else {
                unreachable!("validation reports a missing or malformed `yield_!` and an unreadable return type")
            };
            if yield_fn.sig.asyncness.is_some() {
                expand_fn_async::expand(yield_fn, &options)
            } else {
                expand_fn::expand(yield_fn, &options)
            }
        }
        _ => unreachable!("the form was chosen from the item kind"),
    }
}
