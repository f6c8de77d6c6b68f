//! Code generation for `scope!` (sync): continuation passing, one closure
//! per level (ARCHITECTURE.md, "How `scope!` expands"; the expansion:
//! `tests/expand/scope/sync.expanded.rs`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Stmt;

use super::ast::{Scope, Segment, WithStmt};
use super::split::{self, Deferred};
use super::valid;
use crate::paths;

/// The expansion of a validated sync scope.
pub(crate) fn expand(scope: &Scope) -> TokenStream {
    let body = expand_from(&scope.segments, 0);
    let seen = split::seen_macros(scope);
    let import = paths::import_private(&scope.facade);
    if starts_at_a_level(&scope.segments) {
        // Every `?` and `return` of the block is inside a level's closure:
        // the closure that would catch them here is not needed (one closure
        // less per scope to check and compile, BENCHMARKS.md "Compile time").
        return quote! {{
            #import
            #seen
            let __managed_scope = { #body };
            __managed_scope
        }};
    }
    quote! {{
        #import
        #seen
        #[allow(clippy::redundant_closure_call)]
        let __managed_scope = (|| { #body })();
        __managed_scope
    }}
}

/// Whether the block starts (after its items) with a `with!` or `defer!`
/// and nothing before its level's closure can leave the block: then the
/// only code outside the levels' closures is the first `with!`'s manager
/// expression (a `defer!`'s closure is a closure), and a manager expression
/// without `?`, `return`, `break`, `continue`, `.await` and macro calls
/// (which may hide them) leaves nothing for a closure around the block to
/// catch.
fn starts_at_a_level(segments: &[Segment]) -> bool {
    // Items (hoisted to the front by `parse`) cannot leave the block;
    // `macro_rules!` and item-position macros are not skipped.
    let is_item = |s: &&Segment| matches!(s, Segment::Plain(Stmt::Item(item)) if !matches!(item, syn::Item::Macro(_)));
    match segments.iter().find(|s| !is_item(s)) {
        Some(Segment::With(w)) => !may_leave(&w.manager),
        Some(Segment::Defer(_)) => true,
        Some(Segment::Plain(_)) | None => false,
    }
}

/// Whether `expr` contains anything that may leave the enclosing body:
/// `?`, `return`, `break`, `continue`, `.await`, `yield`, a macro call or
/// tokens syn keeps unparsed.
/// Closures and async blocks are searched too (conservative: a `?` there is
/// their own, but telling them apart buys nothing).
fn may_leave(expr: &syn::Expr) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_expr(&mut self, e: &'ast syn::Expr) {
            match e {
                syn::Expr::Try(_)
                | syn::Expr::Return(_)
                | syn::Expr::Break(_)
                | syn::Expr::Continue(_)
                | syn::Expr::Await(_)
                | syn::Expr::Yield(_)
                | syn::Expr::Macro(_)
                | syn::Expr::Verbatim(_) => self.0 = true,
                _ => syn::visit::visit_expr(self, e),
            }
        }
        fn visit_macro(&mut self, _: &'ast syn::Macro) {
            self.0 = true;
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_expr(&mut finder, expr);
    finder.0
}

/// The body of the closure that runs `segments[from..]`: the plain
/// statements up to the next split point, then the split point wrapping
/// the rest in a nested closure.
fn expand_from(segments: &[Segment], from: usize) -> TokenStream {
    let p = paths::private();
    let rest = &segments[from..];
    let split = rest.iter().position(|s| !matches!(s, Segment::Plain(_)));
    let plain = split::plain_stmts(&rest[..split.unwrap_or(rest.len())]);
    let Some(at) = split else { return quote!(#(#plain)*) };
    let index = from + at;
    let inner = expand_from(segments, index + 1);
    let split_code = match &segments[index] {
        Segment::With(w) => {
            // Located at the user's `with!`: a manager that is not one, or an
            // exit error that does not convert, is reported there.
            let at = Span::mixed_site().located_at(w.span);
            let body = paths::local_at("body", index, at);
            let manager = paths::local_at("manager", index, at);
            let entered = paths::local_at("entered", index, at);
            let stmt = with_enter(w, &manager, &entered);
            let expr = &w.manager;
            let p = paths::private_at(at);
            // Chosen before the body borrows the manager: only its type counts.
            let conversion = paths::local_at("conversion", index, at);
            let choose = split::error_conversion(&quote_spanned!(at=> #p::manager_error(&#manager)), at);
            quote_spanned! {at=>
                let mut #manager = #expr;
                let #conversion = #choose;
                let mut #entered = false;
                let #body = #p::run_level(|| { #stmt #inner });
                #p::exit_level_if_entered(#entered, #manager, #body, #conversion)
            }
        }
        Segment::Defer(d) => {
            let body = paths::local("body", index);
            let deferred = match split::deferred(&d.defer.body) {
                Deferred::Sync(deferred) => deferred,
                Deferred::Async(block) => valid::async_defer_in_sync_scope(block),
            };
            let when = split::when(d.defer.filter);
            quote! {
                let #body = #p::run_level(|| { #inner });
                #p::defer_level(#body, #when, #deferred)
            }
        }
        Segment::Plain(_) => unreachable!("a split point is not plain"),
    };
    quote!(#(#plain)* #split_code)
}

/// The `with!` statement with the call replaced by the enter of the
/// manager stored in `manager`. The call is located at the user's `with!`
/// (in one hygiene context, or rustc would underline the whole scope), so
/// "not a manager" and error-conversion errors point there.
fn with_enter(w: &WithStmt, manager: &syn::Ident, entered: &syn::Ident) -> Stmt {
    let hygienic = Span::mixed_site().located_at(w.span);
    let p = paths::private_at(hygienic);
    let call = quote_spanned!(hygienic=> #p::enter_tracked(&mut #manager, &mut #entered));
    // The parentheses carry the user's context, so `with!(m)?` still reads
    // as one expression in errors about the `?`.
    let enter = quote_spanned!(w.span=> (#call));
    split::replace_with_call(&w.stmt, enter, w.span)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// Whether the expansion of `input` puts the block in a closure (the
    /// `(|| { .. })()` that catches a `?` or `return` outside the levels).
    fn has_outer_closure(input: proc_macro2::TokenStream) -> bool {
        let scope = super::super::ast::parse(quote!(::managed), input).expect("parses");
        let expanded = super::expand(&scope).to_string();
        expanded.contains("let __managed_scope = (||")
    }

    #[test]
    fn a_block_that_starts_with_a_plain_level_has_no_outer_closure() {
        assert!(!has_outer_closure(quote! { let a = with!(open(1))?; Ok(*a) }));
        assert!(!has_outer_closure(quote! { with!(Probe::new(|x| x.len()))?; Ok(()) }));
        assert!(!has_outer_closure(quote! { defer!(log()); let a = with!(open()?)?; Ok(*a) }));
        assert!(!has_outer_closure(quote! { defer!(|o| { report(o)?; }); Ok(()) }));
        assert!(!has_outer_closure(quote! { let a = with!(open())?; fn open() -> M { M } Ok(*a) }));
    }

    #[test]
    fn code_that_may_leave_before_the_first_level_keeps_the_outer_closure() {
        // Plain statements first: their `?` and `return` leave the block.
        assert!(has_outer_closure(quote! { let n = parse()?; let a = with!(open(n))?; Ok(*a) }));
        assert!(has_outer_closure(quote! { fn f() {} m!(); let a = with!(open())?; Ok(*a) }));
        assert!(has_outer_closure(quote! { macro_rules! m { () => {} } let a = with!(open())?; Ok(*a) }));
        // In the first manager expression: `?`, `return`, `break`,
        // `continue`, `.await`, a macro (may hide any of them), also inside
        // a closure or a nested block.
        for manager in [
            quote!(open()?),
            quote!(if x { return Ok(0) } else { open() }),
            quote!(loop {
                break open();
            }),
            quote!(pick(|| continue)),
            quote!(open().await),
            quote!(open(format!("{x}"))),
            quote!(with_all(|| {
                let m = open()?;
                m
            })),
            quote!({
                let m = vec![1];
                open(m)
            }),
        ] {
            let input = quote! { let a = with!(#manager)?; Ok(*a) };
            assert!(has_outer_closure(input), "no outer closure for `with!({manager})`");
        }
    }
}
