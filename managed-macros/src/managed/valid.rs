//! Checks of each form's model that the expansions rely on, each with a
//! message that says what to write instead. Every error is recorded (one
//! compile shows them all) and points at the user's token.

use syn::spanned::Spanned;

use super::ast::{yield_macro, FnModel, ImplModel, Marked, Misplaced, StructModel};
use super::attr::Options;
use crate::diag::Errors;

const FORMS: &str = "`#[managed]` goes on an `impl` block with `#[enter]`/`#[exit]` methods, on a struct with \
                     `#[managed]` fields that are managers, or on a fn with one `yield_!(value)`";

/// An item `#[managed]` has no form for.
pub(crate) fn wrong_item(item: &syn::Item) -> syn::Error {
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

/// Checks of a `#[managed]` impl block.
pub(crate) fn check_impl(model: &ImplModel, errors: &mut Errors) {
    if let Some((_, path, _)) = &model.item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[managed]` goes on an inherent impl block (`impl Type { .. }`) with `#[enter]`/`#[exit]` methods, not \
             on an impl of a trait; it writes the `managed::Manage` impl for you",
        ));
    }
    match &model.exit {
        None => errors.push(syn::Error::new(
            model.item.self_ty.span(),
            "`#[managed]` impl block without an `#[exit]` method: mark the method that releases the resource, \
             e.g. `#[exit] fn close(self, outcome: &Outcome) -> Result<(), E>` (`#[enter]` is optional)",
        )),
        Some(exit) => check_method(exit, &EXIT, errors),
    }
    if let Some(enter) = &model.enter {
        check_method(enter, &ENTER, errors);
    }
    let enter_async = model.enter.as_ref().and_then(|m| m.sig.asyncness);
    let exit_async = model.exit.as_ref().and_then(|m| m.sig.asyncness);
    match (enter_async, exit_async, &model.enter) {
        (None, Some(a), Some(enter)) => errors.push(syn::Error::new(
            a.span,
            format!(
                "the `#[exit]` method is `async` but the `#[enter]` method `{}` is not: an async manager \
                 (`AsyncManage`) has both `async`; write `async fn {}` too, or make the exit sync",
                enter.sig.ident, enter.sig.ident
            ),
        )),
        (Some(a), None, Some(_)) => errors.push(syn::Error::new(
            a.span,
            "the `#[enter]` method is `async` but the `#[exit]` method is not: an async manager (`AsyncManage`) \
             has both `async`; make the exit `async fn` too, or the enter sync",
        )),
        _ => {}
    }
}

fn check_common(m: &Marked, name: &str, errors: &mut Errors) {
    let sig = &m.sig;
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "an `#[{name}]` method cannot be generic: `managed::Manage::{name}` calls it with no type arguments; \
                 put the parameters on the impl block"
            ),
        ));
    }
    if let Some(u) = &sig.unsafety {
        errors.push(syn::Error::new(
            u.span,
            format!("an `#[{name}]` method cannot be `unsafe fn`: `Manage::{name}` is safe to call"),
        ));
    }
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new(c.span, format!("an `#[{name}]` method cannot be `const fn`")));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new_spanned(v, format!("an `#[{name}]` method cannot be variadic")));
    }
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        let unit = matches!(&**ty, syn::Type::Tuple(t) if t.elems.is_empty());
        if !unit && !is_result(ty) {
            errors.push(syn::Error::new_spanned(
                ty,
                format!(
                    "an `#[{name}]` method returns `()` or `Result<(), E>` (`E` is the manager's error type), not \
                     `{}`",
                    quote::quote!(#ty).to_string().replace(' ', "")
                ),
            ));
        }
    }
}

/// A type named `Result` (`Result<(), E>`, `io::Result<()>`, `fmt::Result`).
fn is_result(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Result"))
}

fn receiver(sig: &syn::Signature) -> Option<&syn::Receiver> {
    match sig.inputs.first() {
        Some(syn::FnArg::Receiver(r)) => Some(r),
        _ => None,
    }
}

/// What a marked method must look like, and what to say when it does not.
struct MethodRules {
    name: &'static str,
    receiver_ok: fn(&syn::Type) -> bool,
    no_receiver: &'static str,
    wrong_receiver: &'static str,
    /// Inputs allowed, the receiver included.
    inputs: usize,
    extra_input: &'static str,
}

const ENTER: MethodRules = MethodRules {
    name: "enter",
    receiver_ok: is_ref_mut_self,
    no_receiver: "an `#[enter]` method takes `&mut self`: `#[enter] fn open(&mut self) -> Result<(), E>`",
    wrong_receiver: "an `#[enter]` method takes `&mut self`: enter acquires the resource and lends the manager to the \
                     block, and only the `#[exit]` consumes it; write `fn ..(&mut self)`",
    inputs: 1,
    extra_input: "an `#[enter]` method takes only `&mut self`: pass what it needs when building the manager",
};

const EXIT: MethodRules = MethodRules {
    name: "exit",
    receiver_ok: is_self,
    no_receiver:
        "an `#[exit]` method takes `self` by value: `#[exit] fn close(self, outcome: &Outcome) -> Result<(), E>`",
    wrong_receiver:
        "an `#[exit]` method takes `self` by value (`fn close(self, ..)` or `fn close(mut self, ..)`): the \
                     exit consumes the manager, so nothing can use it after it is released",
    inputs: 2,
    extra_input: "an `#[exit]` method takes `self` and at most the outcome: `fn close(self, outcome: &Outcome)`",
};

fn check_method(m: &Marked, rules: &MethodRules, errors: &mut Errors) {
    check_common(m, rules.name, errors);
    let sig = &m.sig;
    match receiver(sig) {
        None => errors.push(syn::Error::new(sig.ident.span(), rules.no_receiver)),
        Some(r) if !(rules.receiver_ok)(&r.ty) => errors.push(syn::Error::new_spanned(r, rules.wrong_receiver)),
        Some(_) => {}
    }
    if let Some(extra) = sig.inputs.iter().nth(rules.inputs) {
        errors.push(syn::Error::new_spanned(extra, rules.extra_input));
    }
}

fn is_self(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("Self"))
}

fn is_ref_mut_self(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Reference(r) if r.mutability.is_some() && is_self(&r.elem))
}

/// Checks of a `#[managed]` struct.
pub(crate) fn check_struct(model: &StructModel, options: &Options, errors: &mut Errors) {
    if model.fields.is_empty() && options.enter.is_none() && options.exit.is_none() {
        errors.push(syn::Error::new(
            model.item.ident.span(),
            "`#[managed]` struct without `#[managed]` fields: mark each field that is a manager with `#[managed]` \
             (they are entered in declaration order and exited in reverse); plain data needs no mark",
        ));
    }
}

/// Checks of a `#[managed]` fn: its signature, its options, its `yield_!`.
pub(crate) fn check_fn(model: &FnModel, options: &Options, errors: &mut Errors) {
    let sig = &model.item.sig;
    if let Some(c) = &sig.constness {
        errors.push(syn::Error::new(
            c.span,
            "a `#[managed] fn` cannot be `const fn`: it returns a manager built from closures",
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new_spanned(v, "a `#[managed] fn` cannot be variadic"));
    }
    if let (None, Some(fallback)) = (&sig.asyncness, &options.on_cancel) {
        errors.push(syn::Error::new_spanned(
            fallback,
            "`on_cancel` names the sync fallback of an `async fn` whose scope is cancelled; a sync `#[managed] fn` \
             is never cancelled (its exit always runs): remove `on_cancel`, or make the fn `async fn`",
        ));
    }
    if let Err(e) = &model.returns {
        errors.push(e.clone());
    }
    check_yields(model, errors);
    if let Some(Err(e)) = &model.lent {
        errors.push(e.clone());
    }
}

/// One top-level `yield_!` statement, and no other `yield_!`.
fn check_yields(model: &FnModel, errors: &mut Errors) {
    let sites = &model.yields;
    for misplaced in &sites.misplaced {
        errors.push(match misplaced {
            Misplaced::LetElse(else_token) => syn::Error::new_spanned(
                else_token,
                "`yield_!` cannot be used with `let .. else`: the exit part runs however the block ended; bind \
                 the outcome, `let outcome = yield_!(value);`, and test it after: `if outcome.is_ok() { .. }`",
            ),
            Misplaced::InClosure(mac) => syn::Error::new_spanned(
                mac,
                "`yield_!` inside a closure or async block: the value is lent by the `#[managed] fn` itself, so \
                 `yield_!` must be a top-level statement of its body: `let outcome = yield_!(value);`",
            ),
            Misplaced::InLoop(mac) => syn::Error::new_spanned(
                mac,
                "`yield_!` inside a loop: a `#[managed] fn` lends its value exactly once; move `yield_!` out of the \
                 loop, to a top-level statement of the fn body (`let outcome = yield_!(value);`)",
            ),
            Misplaced::Nested(mac) => syn::Error::new_spanned(
                mac,
                "`yield_!` must be a top-level statement of the `#[managed] fn` body, `let outcome = yield_!(value);` \
                 or `yield_!(value);`: the body is split there into enter and exit; compute conditions before it",
            ),
        });
    }
    let stmts = &model.item.block.stmts;
    for mac in sites.top.iter().skip(1).filter_map(|&i| yield_macro(&stmts[i])) {
        errors.push(syn::Error::new_spanned(
            mac,
            "a second `yield_!`: a `#[managed] fn` lends its value exactly once (as Python's \
                 `@contextmanager` yields once); keep one `yield_!`, and put the rest of the work before it (enter) \
                 or after it (exit)",
        ));
    }
    if sites.top.is_empty() && sites.nested() == 0 {
        errors.push(syn::Error::new(
            model.item.sig.ident.span(),
            "`#[managed] fn` without `yield_!`: write `let outcome = yield_!(value);` where the block runs; the code \
             before it is the enter, the code after it the exit (as Python's `@contextmanager`)",
        ));
    }
}
