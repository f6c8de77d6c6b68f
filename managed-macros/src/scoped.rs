//! `#[scoped(expr, ..)]`: Python's `ContextDecorator`. Wraps a function's
//! body in a scope that enters fresh managers on every call:
//!
//! ```text
//! fn f(args) -> R { scope! { let _ = with!(expr0)?; ..; body } }
//! async fn f(args) -> R { scope!(async move { let _ = with!(expr0)?; ..; body }).await }
//! ```

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, ReturnType, Token};

pub fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    match try_expand(args, input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn try_expand(args: TokenStream, input: TokenStream) -> syn::Result<TokenStream> {
    let managers = Punctuated::<Expr, Token![,]>::parse_terminated.parse2(args)?;
    let item: ItemFn = syn::parse2(input).map_err(|e| {
        syn::Error::new(e.span(), "`#[scoped(..)]` goes on a function (`fn` or `async fn`) with a body")
    })?;
    if managers.is_empty() {
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
    let ItemFn { attrs, vis, sig, block } = item;
    let enters = managers.iter().map(|m| quote_spanned!(m.span()=> let _ = ::managed::with!(#m)?;));
    let stmts = &block.stmts;
    let body = if sig.asyncness.is_some() {
        quote!(::managed::scope!(async move { #(#enters)* #(#stmts)* }).await)
    } else {
        quote!(::managed::scope! { #(#enters)* #(#stmts)* })
    };
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    })
}
