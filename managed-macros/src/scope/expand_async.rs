//! Code generation for `scope!(async { .. })`: the sync expansion's
//! continuation passing, with one `async` body per *frame* instead of one
//! closure per level.
//!
//! A frame is a run of `with!` / `defer!` levels that share one body future
//! and one panic catcher: the managers' slots are declared in the scope's
//! own future (one block each, oldest outermost), the body enters them in
//! order, and after the body's one `.await` the exits and defers run newest
//! first, each merging into the outcome the older ones see (the panic kept
//! as a value until `finish` resumes it). For levels `a` then `b`:
//!
//! ```text
//! finish({
//!     let (body, entered_a) = {
//!         let mut slot_a = AsyncSlot::empty();
//!         let (body, entered_b) = {
//!             let mut slot_b = AsyncSlot::empty();
//!             let body = catch_async(async {
//!                 <with! a, entering `enter_async(pick(m_a), &mut slot_a).await`>
//!                 <with! b, likewise into slot_b>
//!                 <rest>
//!             }).await;
//!             (body, into_entered(slot_b))
//!         };
//!         let outcome = outcome_of(&body);
//!         let exited = exit_async(entered_b, &outcome).await;
//!         (merge_exit(body, exited), into_entered(slot_a))
//!     };
//!     ..exit a likewise..
//! })
//! ```
//!
//! A level joins the frame of the level before it only when nothing the
//! flat form changes can be seen (`frame_levels`): the statements between
//! them bind no local (a local of the body is dropped when the body ends,
//! before every exit of the frame, where one level per frame drops it after
//! the newer exits: `let _lock = ..; with!(tx)?` must commit under the
//! lock), and the level does not borrow a local of the frame's body (a slot
//! outlives the body; a defer runs after it). Otherwise the level starts a
//! nested frame inside the body, as every level did before frames.
//!
//! A defer has no slot, so the frame keeps a counter for its defers: the
//! body sets it to `n` where the `n`-th defer after the frame's first level
//! stands, and after the body that defer runs only if the counter reached
//! `n` (`defer_sync(body, reached >= n, ..)`). A `?`, `return` or panic
//! before it leaves the body first, and the defer does not run, as a
//! manager whose enter was never reached is not exited. The frame's first
//! level needs no mark: the frame's code runs only once the body got there.
//! One counter per frame, not a flag per defer: the body's future holds one
//! reference to it, however many defers the frame has.
//!
//! Each slot sits in its own block so that its memory is free again while
//! its exit is awaited, and so that, when the scope's future is dropped
//! mid-block, the body (holding the targets) is dropped first, then the
//! slots newest first: the newest manager gets `exit_cancelled` first. The
//! manager moves from the slot straight into its exit future (`entered` is
//! never borrowed, so its storage is not kept either): the future holds
//! each manager once.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;

use super::parse::{is_placeholder, Asyncness, Scope, Segment, WithStmt};
use crate::defer::Body;
use crate::paths;

pub fn expand(scope: &Scope, asyncness: &Asyncness) -> TokenStream {
    let body = expand_from(&scope.segments, 0);
    let seen = super::expand::seen_macros(scope);
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

fn plain_stmts(segments: &[Segment]) -> impl Iterator<Item = &syn::Stmt> {
    segments.iter().filter_map(|s| match s {
        Segment::Plain(stmt) => Some(stmt),
        _ => None,
    })
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
                let choose = super::enter::error_conversion(&quote!(#p::exit_error(&#exited)), Span::call_site());
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
                let when = d.defer.filter.when();
                let was_reached = marks[k].map_or_else(
                    || quote!(true),
                    |mark| {
                        let mark = proc_macro2::Literal::usize_unsuffixed(mark);
                        quote!(#reached >= #mark)
                    },
                );
                let run = match &d.defer.body {
                    Body::Async(block) => quote!(#p::defer_async(#b, #was_reached, #when, #block).await),
                    Body::Stmts(stmts) => {
                        let span = stmts.first().map_or_else(Span::call_site, Spanned::span);
                        let deferred = quote_spanned!(span=> |_: &#p::Outcome<'_>| { #(#stmts)* });
                        quote!(#p::defer_sync(#b, #was_reached, #when, #deferred))
                    }
                    Body::Closure(closure) => quote!(#p::defer_sync(#b, #was_reached, #when, #closure)),
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

/// For each level of a frame, the mark its body sets on reaching it, if it
/// needs one: the `defer!`s after the frame's first level are numbered 1,
/// 2, .. in order. A defer runs after the body only if the body counted up
/// to its mark (as a manager is exited only if its slot was entered); the
/// first level needs none, since the frame's code runs only when the body
/// reached it.
fn defer_marks(segments: &[Segment], levels: &[usize]) -> Vec<Option<usize>> {
    let mut marked = 0;
    let mut marks = vec![None; levels.len()];
    for (k, &index) in levels.iter().enumerate().skip(1) {
        if matches!(segments[index], Segment::Defer(_)) {
            marked += 1;
            marks[k] = Some(marked);
        }
    }
    marks
}

/// The split points that share the frame starting at `start`: `start`,
/// then each next one as long as flattening it cannot be seen. A level
/// joins when
///
/// - the level before it binds only the `with!` target (`let x =
///   with!(m)?;`, possibly through `.map_err(..)` / `.context(..)`), which
///   is a reference: dropping it at the end of the body changes nothing;
/// - the plain statements between them bind no local (a `let`, or a
///   statement macro that may expand to one): such a local would be dropped
///   before the newer exits instead of after them;
/// - a `with!` does not borrow a `with!` binding of the frame itself (`&x`,
///   or `x` inside a closure, an `async` block or a macro): its slot
///   outlives the body, so it may hold a reborrow of the target (`x.tx()`)
///   but not a borrow of the local;
/// - a `defer!` does not name a `with!` binding of the frame: it runs after
///   the body, when those locals are gone.
///
/// Any other level starts a nested frame in the body (exactly the
/// expansion of one level per frame), so the rule only decides the cost.
fn frame_levels(segments: &[Segment], start: usize) -> Vec<usize> {
    let mut levels = vec![start];
    let mut bound: Vec<String> = Vec::new();
    let mut at = start;
    loop {
        if let Segment::With(w) = &segments[at] {
            match target_bindings(&w.stmt) {
                Some(names) => bound.extend(names),
                None => break,
            }
        }
        let Some(next) = segments[at + 1..].iter().position(|s| !matches!(s, Segment::Plain(_))) else { break };
        let next = at + 1 + next;
        if !plain_stmts(&segments[at + 1..next]).all(binds_nothing) {
            break;
        }
        let joins = match &segments[next] {
            Segment::With(w) => !borrows_binding(&w.manager, &bound),
            Segment::Defer(d) => !mentions(&defer_tokens(&d.defer.body), &bound),
            Segment::Plain(_) => unreachable!("`next` is a split point"),
        };
        if !joins {
            break;
        }
        levels.push(next);
        at = next;
    }
    levels
}

/// The names a `with!` statement binds, when it binds only the target (or
/// the enter's `Result`): `None` when its value may be something else.
fn target_bindings(stmt: &syn::Stmt) -> Option<Vec<String>> {
    match stmt {
        syn::Stmt::Expr(..) => Some(Vec::new()),
        syn::Stmt::Local(local) => {
            let init = local.init.as_ref()?;
            if !only_target(&init.expr) {
                return None;
            }
            let mut names = Names::default();
            names.visit_pat(&local.pat);
            Some(names.0)
        }
        _ => None,
    }
}

/// Whether `expr` is the `with!` placeholder under only `?`, parentheses and
/// error-mapping calls, so its value is the target (or the `Result`).
fn only_target(expr: &syn::Expr) -> bool {
    match expr {
        e if is_placeholder(e) => true,
        syn::Expr::Try(e) => only_target(&e.expr),
        syn::Expr::Paren(e) => only_target(&e.expr),
        syn::Expr::MethodCall(e) => {
            matches!(e.method.to_string().as_str(), "map_err" | "context" | "with_context") && only_target(&e.receiver)
        }
        _ => false,
    }
}

/// The identifiers a pattern binds.
#[derive(Default)]
struct Names(Vec<String>);

impl Visit<'_> for Names {
    fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
        self.0.push(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }
}

/// Whether a plain statement between two levels surely binds no local: a
/// `let` does, and a statement macro may (`tokio::pin!(f)` rebinds `f`),
/// unless it is one of the common ones known not to.
fn binds_nothing(stmt: &syn::Stmt) -> bool {
    let mac = match stmt {
        syn::Stmt::Local(_) => return false,
        syn::Stmt::Macro(m) => &m.mac,
        syn::Stmt::Expr(syn::Expr::Macro(m), _) => &m.mac,
        // An item is no local; an expression statement's temporaries are
        // dropped at its `;`.
        syn::Stmt::Item(_) | syn::Stmt::Expr(..) => return true,
    };
    let Some(last) = mac.path.segments.last() else { return false };
    matches!(
        last.ident.to_string().as_str(),
        "println"
            | "print"
            | "eprintln"
            | "eprint"
            | "dbg"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
            | "write"
            | "writeln"
            | "panic"
            | "unreachable"
            | "trace"
            | "debug"
            | "info"
            | "warn"
            | "error"
            | "event"
            | "scope"
    )
}

/// Whether a manager expression may borrow one of the `bound` locals
/// itself (not only through it): `&x`, `&mut x`, or `x` inside a closure,
/// an `async` block or a macro call, whose captures are not visible here.
fn borrows_binding(manager: &syn::Expr, bound: &[String]) -> bool {
    struct Finder<'b> {
        bound: &'b [String],
        found: bool,
    }
    impl Visit<'_> for Finder<'_> {
        fn visit_expr_reference(&mut self, e: &syn::ExprReference) {
            let mut inner = &*e.expr;
            while let syn::Expr::Paren(p) = inner {
                inner = &p.expr;
            }
            if let syn::Expr::Path(path) = inner {
                if path.path.get_ident().is_some_and(|i| self.bound.contains(&i.to_string())) {
                    self.found = true;
                }
            }
            syn::visit::visit_expr_reference(self, e);
        }
        fn visit_expr_closure(&mut self, e: &syn::ExprClosure) {
            self.found |= mentions(&e.to_token_stream(), self.bound);
        }
        fn visit_expr_async(&mut self, e: &syn::ExprAsync) {
            self.found |= mentions(&e.to_token_stream(), self.bound);
        }
        fn visit_macro(&mut self, m: &syn::Macro) {
            self.found |= mentions(&m.tokens, self.bound);
        }
    }
    if bound.is_empty() {
        return false;
    }
    let mut finder = Finder { bound, found: false };
    finder.visit_expr(manager);
    finder.found
}

/// Whether `tokens` name any of `bound`.
fn mentions(tokens: &TokenStream, bound: &[String]) -> bool {
    !bound.is_empty()
        && tokens.clone().into_iter().any(|t| match t {
            TokenTree::Ident(i) => bound.contains(&i.to_string()),
            TokenTree::Group(g) => mentions(&g.stream(), bound),
            _ => false,
        })
}

fn defer_tokens(body: &Body) -> TokenStream {
    match body {
        Body::Stmts(stmts) => quote!(#(#stmts)*),
        Body::Closure(closure) => closure.to_token_stream(),
        Body::Async(block) => block.to_token_stream(),
    }
}

/// The manager expression, with a sync `Manage` wrapped so that it is an
/// `AsyncManage` (autoref specialization on the concrete type; see
/// `managed_core::async_support::AsyncKind`). Spanned at the user's
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
    // One call: a value that is not a manager gets one error here (the
    // enter awaited in place as `fill` + `.await` + `mark_entered` saved 11
    // instructions per 3-manager scope but gave it a second, duplicate one).
    let enter = quote_spanned!(w.manager.span()=> #p::enter_async(#manager, &mut #slot).await);
    super::enter::replace_with_call(&w.stmt, enter, w.span)
}
