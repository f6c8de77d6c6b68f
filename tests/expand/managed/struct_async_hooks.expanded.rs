use managed::{managed, Outcome};
use std::io::{self, BufWriter};
pub struct Conn;
impl Conn {
    async fn close(self) {}
}
#[diagnostic::do_not_recommend]
impl ::managed::__private::AsyncManage for Conn {
    type Target = Self;
    type Error = ::managed::__private::Infallible;
    #[inline]
    async fn enter(&mut self) -> ::managed::__private::Result<&mut Self, Self::Error> {
        ::managed::__private::Ok(self)
    }
    #[inline]
    async fn exit(
        self,
        outcome: &::managed::__private::Outcome<'_>,
    ) -> ::managed::__private::Result<(), Self::Error> {
        let _ = outcome;
        <_ as ::managed::__private::Returns<
            Self::Error,
        >>::into_result(Self::close(self).await)
    }
}
pub struct Pooled {
    conn: ::managed::Slot<Conn>,
    log: ::managed::Slot<BufWriter<Vec<u8>>>,
    statements: u32,
}
#[diagnostic::do_not_recommend]
impl ::managed::__private::AsyncManage for Pooled {
    type Target = Self;
    type Error = ::managed::__private::Error;
    async fn enter(&mut self) -> ::managed::__private::Result<&mut Self, Self::Error> {
        ::managed::__private::async_managed_field::<::managed::__private::Error, Conn>();
        ::managed::__private::managed_field::<
            ::managed::__private::Error,
            BufWriter<Vec<u8>>,
        >();
        {
            let mut this = ::managed::__private::CancelOnDrop::new(
                &mut *self,
                |this: &mut Self| {
                    ::managed::__private::cancel_slot(&mut this.log);
                    ::managed::__private::cancel_slot_async(&mut this.conn);
                },
            );
            let entered = ::managed::__private::catch_async(async {
                    ::managed::__private::enter_slot_async::<
                        ::managed::__private::Error,
                        _,
                        _,
                    >(
                            &mut this.conn,
                            {
                                #[allow(unused_imports)]
                                use ::managed::__private::{
                                    CannotFailKind as _, ViaFromKind as _,
                                };
                                #[allow(clippy::needless_borrow)]
                                (&::managed::__private::async_field_error::<
                                    ::managed::__private::Error,
                                    Conn,
                                >())
                                    .__managed_error_kind()
                            },
                        )
                        .await?;
                    ::managed::__private::enter_slot::<
                        ::managed::__private::Error,
                        _,
                        _,
                    >(
                        &mut this.log,
                        {
                            #[allow(unused_imports)]
                            use ::managed::__private::{
                                CannotFailKind as _, ViaFromKind as _,
                            };
                            #[allow(clippy::needless_borrow)]
                            (&::managed::__private::field_error::<
                                ::managed::__private::Error,
                                BufWriter<Vec<u8>>,
                            >())
                                .__managed_error_kind()
                        },
                    )?;
                    ::managed::__private::async_hook::<
                        ::managed::__private::Error,
                        _,
                    >(Pooled::configure(&mut *this))
                        .await?;
                    ::managed::__private::Ok::<(), ::managed::__private::Error>(())
                })
                .await;
            if let ::managed::__private::Some(mut exits) = ::managed::__private::AsyncExits::<
                ::managed::__private::Error,
            >::after_enter(entered) {
                exits
                    .exit_slot(
                        &mut this.log,
                        {
                            #[allow(unused_imports)]
                            use ::managed::__private::{
                                CannotFailKind as _, ViaFromKind as _,
                            };
                            #[allow(clippy::needless_borrow)]
                            (&::managed::__private::field_error::<
                                ::managed::__private::Error,
                                BufWriter<Vec<u8>>,
                            >())
                                .__managed_error_kind()
                        },
                    );
                exits
                    .exit_slot_async(
                        &mut this.conn,
                        {
                            #[allow(unused_imports)]
                            use ::managed::__private::{
                                CannotFailKind as _, ViaFromKind as _,
                            };
                            #[allow(clippy::needless_borrow)]
                            (&::managed::__private::async_field_error::<
                                ::managed::__private::Error,
                                Conn,
                            >())
                                .__managed_error_kind()
                        },
                    )
                    .await;
                exits.finish()?;
            }
            this.defuse();
        }
        ::managed::__private::Ok(self)
    }
    async fn exit(
        mut self,
        outcome: &::managed::__private::Outcome<'_>,
    ) -> ::managed::__private::Result<(), Self::Error> {
        let mut this = ::managed::__private::CancelOnDrop::new(
            &mut self,
            |this: &mut Self| {
                ::managed::__private::cancel_slot(&mut this.log);
                ::managed::__private::cancel_slot_async(&mut this.conn);
            },
        );
        let mut exits = ::managed::__private::AsyncExits::<
            ::managed::__private::Error,
        >::new(*outcome);
        {
            let unwinding = exits.unwinding();
            let ran = {
                let seen = exits.hook_outcome();
                ::managed::__private::catch_async(
                        ::managed::__private::async_hook::<
                            ::managed::__private::Error,
                            _,
                        >(Pooled::flush(&mut *this, &seen)),
                    )
                    .await
            };
            exits.record_hook(ran, unwinding);
        }
        exits
            .exit_slot(
                &mut this.log,
                {
                    #[allow(unused_imports)]
                    use ::managed::__private::{CannotFailKind as _, ViaFromKind as _};
                    #[allow(clippy::needless_borrow)]
                    (&::managed::__private::field_error::<
                        ::managed::__private::Error,
                        BufWriter<Vec<u8>>,
                    >())
                        .__managed_error_kind()
                },
            );
        exits
            .exit_slot_async(
                &mut this.conn,
                {
                    #[allow(unused_imports)]
                    use ::managed::__private::{CannotFailKind as _, ViaFromKind as _};
                    #[allow(clippy::needless_borrow)]
                    (&::managed::__private::async_field_error::<
                        ::managed::__private::Error,
                        Conn,
                    >())
                        .__managed_error_kind()
                },
            )
            .await;
        exits.finish()
    }
    fn exit_cancelled(mut self) {
        ::managed::__private::cancel_hook_async::<
            Self,
            ::managed::__private::Error,
            _,
        >(Pooled::flush(&mut self, &::managed::__private::Outcome::Cancelled));
        let this = &mut self;
        ::managed::__private::cancel_slot(&mut this.log);
        ::managed::__private::cancel_slot_async(&mut this.conn);
    }
}
impl Pooled {
    async fn configure(&mut self) -> io::Result<()> {
        self.statements += 1;
        Ok(())
    }
    async fn flush(&mut self, _outcome: &Outcome<'_>) {
        self.statements += 1;
    }
}
