//! From syn items to the models the expansions read: the marked methods of
//! an impl block, the marked fields of a struct, the two halves of a
//! `yield_!` fn. Our helper attributes are stripped from the item here, so
//! the item can be emitted even when a check fails.

use syn::spanned::Spanned;

use crate::diag::Errors;

/// A method marked `#[enter]` or `#[exit]`.
pub struct Marked {
    pub sig: syn::Signature,
}

pub struct ImplModel {
    /// The impl block, `#[enter]` / `#[exit]` removed.
    pub item: syn::ItemImpl,
    pub enter: Option<Marked>,
    pub exit: Option<Marked>,
}

pub fn parse_impl(mut item: syn::ItemImpl, errors: &mut Errors) -> ImplModel {
    let mut enter: Option<Marked> = None;
    let mut exit: Option<Marked> = None;
    for impl_item in &mut item.items {
        let (attrs, sig) = match impl_item {
            syn::ImplItem::Fn(f) => (&mut f.attrs, Some(&f.sig)),
            syn::ImplItem::Const(c) => (&mut c.attrs, None),
            syn::ImplItem::Type(t) => (&mut t.attrs, None),
            syn::ImplItem::Macro(m) => (&mut m.attrs, None),
            _ => continue,
        };
        let markers = take_markers(attrs, errors);
        let Some(sig) = sig else {
            for (name, attr) in markers {
                errors.push(syn::Error::new_spanned(
                    attr,
                    format!("`#[{name}]` goes on a method (`fn`) of the impl block"),
                ));
            }
            continue;
        };
        if markers.len() == 2 {
            errors.push(syn::Error::new_spanned(
                &markers[1].1,
                "one method cannot be both `#[enter]` and `#[exit]`: enter lends the manager, exit consumes it; \
                 write two methods",
            ));
            continue;
        }
        for (name, marker) in markers {
            let slot = if name == "enter" { &mut enter } else { &mut exit };
            if let Some(first) = slot {
                errors.push(syn::Error::new_spanned(
                    marker,
                    format!(
                        "a second `#[{name}]` method: a manager has one {name}, and `{}` is already marked \
                         `#[{name}]`; call one from the other, or merge them",
                        first.sig.ident
                    ),
                ));
            } else {
                *slot = Some(Marked { sig: sig.clone() });
            }
        }
    }
    ImplModel { item, enter, exit }
}

/// Removes `#[enter]` / `#[exit]` from `attrs`, returning which were there
/// (deduplicated: a repeated marker is an error).
fn take_markers(attrs: &mut Vec<syn::Attribute>, errors: &mut Errors) -> Vec<(&'static str, syn::Attribute)> {
    let mut markers: Vec<(&'static str, syn::Attribute)> = Vec::new();
    attrs.retain(|a| {
        let name = if a.path().is_ident("enter") {
            "enter"
        } else if a.path().is_ident("exit") {
            "exit"
        } else {
            return true;
        };
        if !matches!(a.meta, syn::Meta::Path(_)) {
            errors.push(syn::Error::new_spanned(
                &a.meta,
                format!("`#[{name}]` takes no arguments: write `#[{name}]` on the method"),
            ));
        }
        if markers.iter().any(|(n, _)| *n == name) {
            errors.push(syn::Error::new_spanned(a, format!("`#[{name}]` is repeated on this method")));
        } else {
            markers.push((name, a.clone()));
        }
        false
    });
    markers
}

/// A struct field marked `#[managed]`.
pub struct ManagedField {
    pub member: syn::Member,
    /// The field's type as the user wrote it (the item has `Slot<ty>`).
    pub ty: syn::Type,
    /// Marked `#[managed(async)]`: an async manager, entered and exited
    /// with `.await` (the macro cannot see which traits a type implements).
    pub is_async: bool,
}

pub struct StructModel {
    /// The struct, `#[managed]` removed from fields, their types rewritten
    /// to `Slot<ty>`.
    pub item: syn::ItemStruct,
    pub fields: Vec<ManagedField>,
}

pub fn parse_struct(mut item: syn::ItemStruct, krate: &proc_macro2::TokenStream, errors: &mut Errors) -> StructModel {
    let mut fields = Vec::new();
    for (index, field) in item.fields.iter_mut().enumerate() {
        let mut marked = false;
        let mut is_async = false;
        field.attrs.retain(|a| {
            if !a.path().is_ident("managed") {
                return true;
            }
            match &a.meta {
                syn::Meta::Path(_) => {}
                syn::Meta::List(list) if syn::parse2::<syn::Token![async]>(list.tokens.clone()).is_ok() => {
                    is_async = true;
                }
                meta => errors.push(syn::Error::new_spanned(
                    meta,
                    "`#[managed]` on a field takes no options but `async`: write `#[managed]` for a manager, \
                     `#[managed(async)]` for an async manager; hooks and options go on the struct's `#[managed(..)]`",
                )),
            }
            if marked {
                errors.push(syn::Error::new_spanned(a, "`#[managed]` is repeated on this field"));
            }
            marked = true;
            false
        });
        if !marked {
            continue;
        }
        let member = match &field.ident {
            Some(ident) => syn::Member::Named(ident.clone()),
            None => {
                syn::Member::Unnamed(syn::Index { index: u32::try_from(index).unwrap_or(u32::MAX), span: field.span() })
            }
        };
        let ty = field.ty.clone();
        let span = ty.span();
        field.ty = syn::parse_quote_spanned!(span=> #krate::Slot<#ty>);
        fields.push(ManagedField { member, ty, is_async });
    }
    StructModel { item, fields }
}
