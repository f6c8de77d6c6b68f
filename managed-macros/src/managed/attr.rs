//! The options of `#[managed(..)]`, parsed with `parse_nested_meta`. Each
//! form accepts some of them; an unknown, misplaced or repeated option is an
//! error that names it.

use proc_macro2::TokenStream;
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

use crate::diag::Errors;

/// `crate = "path"`: where the facade is, when it is renamed or re-exported.
pub(crate) const CRATE: &str = "crate";
/// `enter = path`: a struct's hook run after its fields entered.
pub(crate) const ENTER: &str = "enter";
/// `exit = path`: a struct's hook run before its fields exit.
pub(crate) const EXIT: &str = "exit";
/// `error = Type`: a struct's error type (default `managed::Error`).
pub(crate) const ERROR: &str = "error";
/// `on_cancel = path`: the sync fallback of an `async fn` whose scope is
/// cancelled (gets `&mut` the lent value).
pub(crate) const ON_CANCEL: &str = "on_cancel";

/// What `#[managed]` is on: decides which options apply.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Impl,
    Struct,
    Fn,
}

impl Form {
    fn allows(self, option: &str) -> bool {
        match self {
            Form::Struct => [CRATE, ENTER, EXIT, ERROR].contains(&option),
            Form::Fn => [CRATE, ON_CANCEL].contains(&option),
            Form::Impl => option == CRATE,
        }
    }

    fn allowed(self) -> &'static str {
        match self {
            Form::Struct => "`crate = \"path\"`, `enter = path`, `exit = path`, `error = Type`",
            Form::Fn => "`crate = \"path\"`, `on_cancel = path` (on an `async fn`)",
            Form::Impl => "`crate = \"path\"`",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Form::Impl => "an impl block",
            Form::Struct => "a struct",
            Form::Fn => "a fn",
        }
    }
}

#[derive(Default)]
pub(crate) struct Options {
    pub(crate) krate: Option<syn::Path>,
    pub(crate) enter: Option<syn::ExprPath>,
    pub(crate) exit: Option<syn::ExprPath>,
    pub(crate) error: Option<syn::Type>,
    pub(crate) on_cancel: Option<syn::ExprPath>,
    /// `enter = async path`: the enter hook is an `async fn`.
    pub(crate) enter_async: Option<syn::Token![async]>,
    /// `exit = async path`: the exit hook is an `async fn`.
    pub(crate) exit_async: Option<syn::Token![async]>,
}

impl Options {
    /// The facade's path: `::managed` unless `crate = ".."` says otherwise.
    pub(crate) fn krate(&self) -> TokenStream {
        self.krate.as_ref().map_or_else(|| quote!(::managed), |path| quote!(#path))
    }

    /// The path generated code reaches the runtime through.
    pub(crate) fn private(&self) -> TokenStream {
        let krate = self.krate();
        quote!(#krate::__private)
    }
}

/// Parses the attribute's arguments, recording every error in `errors`.
pub(crate) fn parse(args: TokenStream, form: Form, errors: &mut Errors) -> Options {
    let mut options = Options::default();
    if args.is_empty() {
        return options;
    }
    let parser = syn::meta::parser(|meta| {
        parse_one(&meta, form, &mut options, errors);
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(syn::Error::new(
            e.span(),
            format!("{e}; `#[managed(..)]` takes `name = value` options: {}", form.allowed()),
        ));
    }
    options
}

fn parse_one(meta: &ParseNestedMeta, form: Form, options: &mut Options, errors: &mut Errors) {
    let path = &meta.path;
    let name = path.get_ident().map_or_else(|| quote!(#path).to_string().replace(' ', ""), ToString::to_string);
    let span = meta.path.span();
    if ![CRATE, ENTER, EXIT, ERROR, ON_CANCEL].contains(&name.as_str()) {
        // `async` is the mark of a field or a hook, not of the item.
        let hint = if name == "async" {
            " (`async` goes on a field, `#[managed(async)]` for an async manager, or on a hook, `exit = async \
             path`; an `async fn` with `yield_!` needs no option)"
        } else {
            ""
        };
        errors.push(syn::Error::new(
            span,
            format!(
                "unknown `#[managed]` option `{name}`; the options on {} are: {}{hint}",
                form.name(),
                form.allowed()
            ),
        ));
        skip_value(meta);
        return;
    }
    if !form.allows(&name) {
        errors.push(syn::Error::new(
            span,
            format!(
                "`{name}` is not an option of `#[managed]` on {}; it applies to {}. The options here are: {}",
                form.name(),
                if name == ON_CANCEL { "an `async fn`" } else { "a struct" },
                form.allowed()
            ),
        ));
        skip_value(meta);
        return;
    }
    let parsed = match name.as_str() {
        CRATE => parse_value(meta, |m| m.value()?.parse::<syn::LitStr>()?.parse::<syn::Path>())
            .map(|p| set(&mut options.krate, p)),
        ENTER => {
            parse_value(meta, parse_hook).map(|(a, p)| set_hook(&mut options.enter, &mut options.enter_async, a, p))
        }
        EXIT => parse_value(meta, parse_hook).map(|(a, p)| set_hook(&mut options.exit, &mut options.exit_async, a, p)),
        ON_CANCEL => parse_value(meta, |m| m.value()?.parse::<syn::ExprPath>()).map(|p| set(&mut options.on_cancel, p)),
        _ => parse_value(meta, |m| m.value()?.parse::<syn::Type>()).map(|t| set(&mut options.error, t)),
    };
    match parsed {
        Ok(true) => {}
        Ok(false) => {
            errors.push(syn::Error::new(span, format!("duplicate `#[managed]` option `{name}`: give it once")));
        }
        Err(e) => {
            errors.push(syn::Error::new(e.span(), format!("{e}; {}", example(&name))));
            // Skip the rest of this option so the next ones are still read.
            while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                if meta.input.parse::<proc_macro2::TokenTree>().is_err() {
                    break;
                }
            }
        }
    }
}

fn example(name: &str) -> &'static str {
    match name {
        CRATE => "write `crate = \"path::to::managed\"` (a string, as in serde and tokio)",
        ENTER => {
            "write `enter = path::to::hook` (a fn taking `&mut Self`), or `enter = async path::to::hook` for an \
                  `async fn`"
        }
        EXIT => {
            "write `exit = path::to::hook` (a fn taking `&mut Self, &Outcome`), or `exit = async path::to::hook` \
                 for an `async fn`"
        }
        ON_CANCEL => "write `on_cancel = path::to::fallback` (a fn taking `&mut` the lent value)",
        _ => "write `error = Type` (the struct's error type, default `managed::Error`)",
    }
}

fn parse_value<T>(meta: &ParseNestedMeta, f: impl FnOnce(&ParseNestedMeta) -> syn::Result<T>) -> syn::Result<T> {
    if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
        return Err(syn::Error::new(meta.path.span(), "this option needs a value"));
    }
    f(meta)
}

/// A hook's value: `path`, or `async path` for an `async fn` (a proc macro
/// cannot see whether a path names one, so the user says so).
fn parse_hook(meta: &ParseNestedMeta) -> syn::Result<(Option<syn::Token![async]>, syn::ExprPath)> {
    let input = meta.value()?;
    Ok((input.parse()?, input.parse()?))
}

/// Sets a hook and whether it is async, unless it was set: `false` on a
/// duplicate.
fn set_hook(
    slot: &mut Option<syn::ExprPath>,
    asyncness: &mut Option<syn::Token![async]>,
    is_async: Option<syn::Token![async]>,
    path: syn::ExprPath,
) -> bool {
    if !set(slot, path) {
        return false;
    }
    *asyncness = is_async;
    true
}

/// Sets `slot` unless it was set: `false` on a duplicate.
fn set<T>(slot: &mut Option<T>, value: T) -> bool {
    if slot.is_some() {
        return false;
    }
    *slot = Some(value);
    true
}

/// Skips `= value` or `(..)` after an unknown option, so the next options
/// are still checked.
fn skip_value(meta: &ParseNestedMeta) {
    if meta.input.peek(syn::Token![=]) {
        let _ = meta.value().and_then(syn::parse::ParseBuffer::parse::<syn::Expr>);
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|inner| {
            skip_value(&inner);
            Ok(())
        });
    }
}
