//! Code generation for `scope!(async { .. })`: the sync expansion's
//! continuation passing, with one `async` body per *frame* (a run of
//! levels, see [`super::frames`]) instead of one closure per level. The
//! expansion: `tests/expand/scope/async.expanded.rs`.
//!
//! The managers' slots are declared in the scope's own future, outside the
//! body (one block each, oldest outermost), so a manager outlives the body
//! that borrows its target; the body enters them in order, and after the
//! body's one `.await` the exits and defers run newest first, each merging
//! into the outcome the older ones see (the panic kept as a value until
//! `finish` resumes it).
//!
//! Each slot sits in its own block so that its memory is free again while
//! its exit is awaited, and so that, when the scope's future is dropped
//! mid-block, the body (holding the targets) is dropped first, then the
//! slots newest first: the newest manager gets `exit_cancelled` first. The
//! manager moves from the slot straight into its exit future (`entered` is
//! never borrowed, so its storage is not kept either): the future holds
//! each manager once.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::ast::{Asyncness, Scope, Segment, WithStmt};
use super::frames::{defer_marks, frame_levels};
use super::split::{self, plain_stmts, Deferred};
use crate::paths;

/// The expansion of a validated async scope.
pub(crate) fn expand(scope: &Scope, asyncness: &Asyncness) -> TokenStream {
    let body = expand_from(&scope.segments, 0);
    let seen = split::seen_macros(scope);
    let import = paths::import_private(&scope.facade);
    let async_token = asyncness.async_token;
    let move_token = asyncness.move_token;
    quote! {
        #async_token #move_token { #import #seen #body }
    }
}

/// The code that runs `segments[from..]`: the plain statements up to the
/// first split point, then the frame that starts there (see the module
/// docs), as the tail expression.
fn expand_from(segments: &[Segment], from: usize) -> TokenStream {
    let rest = &segments[from..];
    let split = rest.iter().position(|s| !matches!(s, Segment::Plain(_)));
    let plain = plain_stmts(&rest[..split.unwrap_or(rest.len())]);
    let Some(at) = split else { return quote!(#(#plain)*) };
    let levels = frame_levels(segments, from + at);
    let frame = expand_frame(segments, &levels);
    quote!(#(#plain)* #frame)
}

/// One frame: the levels `levels` (indices of split points, the statements
/// between them plain) share one body future; the last level's rest, which
/// may hold a nested frame, ends the body. The body counts the defers it
/// reaches (`defer_marks`) in a counter declared around the frame, sized for
/// the frame's marks.
fn expand_frame(segments: &[Segment], levels: &[usize]) -> TokenStream {
    let p = paths::private();
    let reached = paths::local("reached", levels[0]);
    let marks = defer_marks(segments, levels);
    let mut body = TokenStream::new();
    for (k, &index) in levels.iter().enumerate() {
        match (&segments[index], marks[k]) {
            // The slot named at the manager, so that "not an async manager"
            // from the enter's bound points at the user's expression.
            (Segment::With(w), _) => {
                with_enter(w, &paths::local_at("slot", index, w.manager.span())).to_tokens(&mut body);
            }
            (Segment::Defer(_), Some(mark)) => {
                let mark = proc_macro2::Literal::usize_unsuffixed(mark);
                quote!(#reached = #mark;).to_tokens(&mut body);
            }
            _ => {}
        }
        match levels.get(k + 1) {
            Some(&next) => body.extend(plain_stmts(&segments[index + 1..next]).map(ToTokens::to_token_stream)),
            None => body.extend(expand_from(segments, index + 1)),
        }
    }
    let mut ended = quote!(#p::catch_async(async { #body }).await);
    for (k, &index) in levels.iter().enumerate().rev() {
        let b = paths::local("body", index);
        ended = match &segments[index] {
            Segment::With(_) => {
                let slot = paths::local("slot", index);
                let entered = paths::local("entered", index);
                let outcome = paths::local("outcome", index);
                let exited = paths::local("exited", index);
                let conversion = paths::local("conversion", index);
                let choose = split::error_conversion(&quote!(#p::exit_error(&#exited)), Span::call_site());
                quote! {{
                    let (#b, #entered) = {
                        let mut #slot = #p::AsyncSlot::empty();
                        let #b = #ended;
                        (#b, #p::into_entered(#slot))
                    };
                    let #outcome = #p::outcome_of(&#b);
                    let #exited = #p::exit_async(#entered, &#outcome).await;
                    let #conversion = #choose;
                    #p::merge_exit(#b, #exited, #conversion)
                }}
            }
            Segment::Defer(d) => {
                let when = split::when(d.defer.filter);
                let was_reached = marks[k].map_or_else(
                    || quote!(true),
                    |mark| {
                        let mark = proc_macro2::Literal::usize_unsuffixed(mark);
                        quote!(#reached >= #mark)
                    },
                );
                let run = match split::deferred(&d.defer.body) {
                    Deferred::Sync(deferred) => quote!(#p::defer_sync(#b, #was_reached, #when, #deferred)),
                    Deferred::Async(block) => quote!(#p::defer_async(#b, #was_reached, #when, #block).await),
                };
                quote! {{
                    let #b = #ended;
                    #run
                }}
            }
            Segment::Plain(_) => unreachable!("a level is a split point"),
        };
    }
    let finished = quote!(#p::finish(#ended));
    match marks.iter().flatten().max() {
        None => finished,
        Some(&last) => {
            let counter = if u8::try_from(last).is_ok() { quote!(u8) } else { quote!(u32) };
            quote!({
                let mut #reached: #counter = 0;
                #finished
            })
        }
    }
}

/// The manager expression, with a sync `Manage` wrapped so that it is an
/// `AsyncManage` (autoref specialization on the concrete type; see
/// `managed_core`'s `scope::asynchronous::AsyncKind`). Spanned at the user's
/// expression, so "not a manager" errors point there.
fn pick_kind(manager: &syn::Expr) -> TokenStream {
    let p = paths::private();
    let m = syn::Ident::new("__managed_manager", Span::mixed_site());
    let tag = syn::Ident::new("__managed_kind", Span::mixed_site());
    quote_spanned! {manager.span()=>
        {
            // Only one of the two is used, depending on the manager's type.
            #[allow(unused_imports)]
            use #p::{AsyncKind as _, SyncKind as _};
            let #m = #manager;
            // The borrow is the point: it makes method lookup try the
            // `AsyncManage` impl on the bare type first.
            #[allow(clippy::needless_borrow)]
            let #tag = (&#m).__managed_async_kind();
            #tag.wrap(#m)
        }
    }
}

/// The `with!` statement with the call replaced by the manager's
/// evaluation and its awaited enter into `slot`.
fn with_enter(w: &WithStmt, slot: &syn::Ident) -> syn::Stmt {
    let p = paths::private_at(w.manager.span());
    let manager = pick_kind(&w.manager);
    // One call, so that a value that is not a manager gets one error here
    // (awaiting the manager's enter in place, as `fill` + `.await` +
    // `mark_entered`, would give it a second, duplicate one).
    let enter = quote_spanned!(w.manager.span()=> #p::enter_async(#manager, &mut #slot).await);
    split::replace_with_call(&w.stmt, enter, w.span)
}
