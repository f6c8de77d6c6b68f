use managed::{managed, Outcome};
use std::io::{BufWriter, Write};
pub struct Report<W: Write, M> {
    out: ::managed::Slot<BufWriter<W>>,
    extra: ::managed::Slot<M>,
    lines: usize,
}
#[diagnostic::do_not_recommend]
impl<W: Write, M> ::managed::__private::Manage for Report<W, M>
where
    M: ::managed::__private::ManagedField<::managed::__private::Error>,
{
    type Target = Self;
    type Error = ::managed::__private::Error;
    fn enter(&mut self) -> ::managed::__private::Result<&mut Self, Self::Error> {
        ::managed::__private::managed_field::<
            ::managed::__private::Error,
            BufWriter<W>,
        >();
        ::managed::__private::enter_all(
            self,
            |
                this: &mut Self,
            | -> ::managed::__private::Result<(), ::managed::__private::Error> {
                ::managed::__private::enter_slot::<
                    ::managed::__private::Error,
                    _,
                    _,
                >(
                    &mut this.out,
                    {
                        #[allow(unused_imports)]
                        use ::managed::__private::{
                            CannotFailKind as _, ViaFromKind as _,
                        };
                        #[allow(clippy::needless_borrow)]
                        (&::managed::__private::field_error::<
                            ::managed::__private::Error,
                            BufWriter<W>,
                        >())
                            .__managed_error_kind()
                    },
                )?;
                ::managed::__private::enter_slot::<
                    ::managed::__private::Error,
                    _,
                    _,
                >(&mut this.extra, ::managed::__private::ViaField::<M>::new())?;
                ::managed::__private::Ok(())
            },
            |
                this: &mut Self,
                exits: &mut ::managed::__private::Exits<'_, ::managed::__private::Error>|
            {
                ::managed::__private::Exits::<
                    ::managed::__private::Error,
                >::exit_slot(
                    &mut *exits,
                    &mut this.extra,
                    ::managed::__private::ViaField::<M>::new(),
                );
                ::managed::__private::Exits::<
                    ::managed::__private::Error,
                >::exit_slot(
                    &mut *exits,
                    &mut this.out,
                    {
                        #[allow(unused_imports)]
                        use ::managed::__private::{
                            CannotFailKind as _, ViaFromKind as _,
                        };
                        #[allow(clippy::needless_borrow)]
                        (&::managed::__private::field_error::<
                            ::managed::__private::Error,
                            BufWriter<W>,
                        >())
                            .__managed_error_kind()
                    },
                );
            },
        )?;
        ::managed::__private::Ok(self)
    }
    fn exit(
        mut self,
        outcome: &::managed::__private::Outcome<'_>,
    ) -> ::managed::__private::Result<(), Self::Error> {
        let mut exits = ::managed::__private::Exits::new(*outcome);
        exits
            .step(|outcome: &::managed::__private::Outcome<'_>| <_ as ::managed::__private::Fallible<
                ::managed::__private::Error,
            >>::into_result(Report::footer(&mut self, outcome)));
        ::managed::__private::Exits::<
            ::managed::__private::Error,
        >::exit_slot(
            &mut exits,
            &mut self.extra,
            ::managed::__private::ViaField::<M>::new(),
        );
        ::managed::__private::Exits::<
            ::managed::__private::Error,
        >::exit_slot(
            &mut exits,
            &mut self.out,
            {
                #[allow(unused_imports)]
                use ::managed::__private::{CannotFailKind as _, ViaFromKind as _};
                #[allow(clippy::needless_borrow)]
                (&::managed::__private::field_error::<
                    ::managed::__private::Error,
                    BufWriter<W>,
                >())
                    .__managed_error_kind()
            },
        );
        exits.finish()
    }
}
impl<W: Write, M> Report<W, M> {
    fn footer(&mut self, _outcome: &Outcome) {
        self.lines += 1;
    }
}
