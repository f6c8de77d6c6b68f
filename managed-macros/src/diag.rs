//! Collects every error a macro finds before it stops (serde's `Ctxt`), so
//! one run of the compiler shows all of them.

use proc_macro2::TokenStream;

#[derive(Default)]
pub(crate) struct Errors {
    errors: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Errors::default()
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(all) => all.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// `Err` with every recorded error, as `compile_error!` invocations.
    pub(crate) fn finish(self) -> Result<(), TokenStream> {
        match self.errors {
            Some(e) => Err(e.to_compile_error()),
            None => Ok(()),
        }
    }
}
