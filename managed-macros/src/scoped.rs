//! `#[scoped(expr, ..)]`: Python's `ContextDecorator`. Wraps a function's
//! body in a scope that enters fresh managers on every call. Parse (the
//! arguments, the fn) -> validate ([`validate`]) -> expand ([`expand_fn`]):
//!
//! ```text
//! fn f(args) -> R { scope! { with!(expr0)?; ..; body } }
//! async fn f(args) -> R { scope!(async move { with!(expr0)?; ..; body }).await }
//! ```
//!
//! An attribute is given no `$crate`: the facade is `::managed`, or the path
//! of `crate = "path"` (first), as in `#[managed]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, ReturnType, Token};

/// `#[scoped(crate = "path", expr, ..)]`'s arguments.
struct Args {
    /// `crate = "path"`: the facade's path, when it is renamed or re-exported.
    facade: Option<syn::Path>,
    managers: Punctuated<Expr, Token![,]>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut facade = None;
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            let path = input.parse::<syn::LitStr>().and_then(|lit| lit.parse::<syn::Path>()).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("{e}; write `crate = \"path::to::managed\"` (a string, as in serde and tokio)"),
                )
            })?;
            facade = Some(path);
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(Args { facade, managers: Punctuated::parse_terminated(input)? })
    }
}

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let expanded = parse(args, input).and_then(|(args, item)| {
        validate(&args, &item)?;
        Ok(expand_fn(args, item))
    });
    expanded.unwrap_or_else(|error| error.to_compile_error())
}

fn parse(args: TokenStream, input: TokenStream) -> syn::Result<(Args, ItemFn)> {
    let args = syn::parse2(args)?;
    let item = syn::parse2(input).map_err(|e| {
        syn::Error::new(e.span(), "`#[scoped(..)]` goes on a function (`fn` or `async fn`) with a body")
    })?;
    Ok((args, item))
}

/// At least one manager, and a return type that can carry their errors.
fn validate(args: &Args, item: &ItemFn) -> syn::Result<()> {
    if args.managers.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`#[scoped(..)]` needs at least one manager expression, e.g. `#[scoped(managed::timed(\"load\"))]`",
        ));
    }
    if let ReturnType::Default = item.sig.output {
        return Err(syn::Error::new(
            item.sig.ident.span(),
            "a `#[scoped(..)]` function must return a `Result`: the managers' enter and exit errors are \
             returned through it (write `-> Result<(), managed::Error>`)",
        ));
    }
    Ok(())
}

/// The fn with its body in a `scope!` that enters the managers.
fn expand_fn(args: Args, item: ItemFn) -> TokenStream {
    let Args { facade, managers } = args;
    let facade = facade.map_or_else(|| quote!(::managed), |path| quote!(#path));
    let ItemFn { attrs, vis, sig, block } = item;
    // The whole `with!` call at the manager expression (the facade's path
    // too): errors about the manager point at it.
    let enters = managers.iter().map(|m| {
        let facade = respan(&facade, m.span());
        quote_spanned!(m.span()=> #facade::with!(#m)?;)
    });
    let stmts = &block.stmts;
    let body = if sig.asyncness.is_some() {
        quote!(#facade::scope!(async move { #(#enters)* #(#stmts)* }).await)
    } else {
        quote!(#facade::scope! { #(#enters)* #(#stmts)* })
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

/// `tokens` with every span set to `at`.
fn respan(tokens: &TokenStream, at: proc_macro2::Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(at);
            token
        })
        .collect()
}
