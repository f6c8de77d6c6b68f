use managed::{defer, scope, with, AsyncManage, Outcome};
use std::io;
pub struct Conn;
impl AsyncManage for Conn {
    type Target = Conn;
    type Error = io::Error;
    async fn enter(&mut self) -> Result<&mut Conn, io::Error> {
        Ok(self)
    }
    async fn exit(self, _: &Outcome<'_>) -> Result<(), io::Error> {
        Ok(())
    }
}
async fn copy(from: &mut Conn, to: &mut Conn) -> Result<u32, io::Error> {
    let _ = (from, to);
    Ok(1)
}
async fn undo() {}
/// Two managers and a `defer!` after them share one frame: one body
/// future, one panic catcher; the defer runs only if the body reached it.
pub async fn transfer(a: Conn, b: Conn) -> Result<u32, io::Error> {
    async {
        #[allow(unused_imports)]
        use ::managed::__private as __managed_private;
        {
            let mut __managed_reached0: u8 = 0;
            __managed_private::finish({
                let (__managed_body0, __managed_entered0) = {
                    let mut __managed_slot0 = __managed_private::AsyncSlot::empty();
                    let __managed_body0 = {
                        let (__managed_body1, __managed_entered1) = {
                            let mut __managed_slot1 = __managed_private::AsyncSlot::empty();
                            let __managed_body1 = {
                                let __managed_body2 = __managed_private::catch_async(async {
                                        let from = (match __managed_private::enter_async(
                                                {
                                                    #[allow(unused_imports)]
                                                    use __managed_private::{AsyncKind as _, SyncKind as _};
                                                    let __managed_manager = a;
                                                    #[allow(clippy::needless_borrow)]
                                                    let __managed_kind = (&__managed_manager)
                                                        .__managed_async_kind();
                                                    __managed_kind.wrap(__managed_manager)
                                                },
                                                &mut __managed_slot0,
                                            )
                                            .await
                                        {
                                            __managed_private::Ok(__managed_target) => __managed_target,
                                            __managed_private::Err(__managed_error) => {
                                                return __managed_private::Err(
                                                    __managed_private::Convert::convert(
                                                        {
                                                            #[allow(unused_imports)]
                                                            use __managed_private::{
                                                                CannotFailKind as _, ViaFromKind as _,
                                                            };
                                                            #[allow(clippy::needless_borrow)]
                                                            (&__managed_private::error_of(&__managed_error))
                                                                .__managed_error_kind()
                                                        },
                                                        __managed_error,
                                                    ),
                                                );
                                            }
                                        });
                                        let to = (match __managed_private::enter_async(
                                                {
                                                    #[allow(unused_imports)]
                                                    use __managed_private::{AsyncKind as _, SyncKind as _};
                                                    let __managed_manager = b;
                                                    #[allow(clippy::needless_borrow)]
                                                    let __managed_kind = (&__managed_manager)
                                                        .__managed_async_kind();
                                                    __managed_kind.wrap(__managed_manager)
                                                },
                                                &mut __managed_slot1,
                                            )
                                            .await
                                        {
                                            __managed_private::Ok(__managed_target) => __managed_target,
                                            __managed_private::Err(__managed_error) => {
                                                return __managed_private::Err(
                                                    __managed_private::Convert::convert(
                                                        {
                                                            #[allow(unused_imports)]
                                                            use __managed_private::{
                                                                CannotFailKind as _, ViaFromKind as _,
                                                            };
                                                            #[allow(clippy::needless_borrow)]
                                                            (&__managed_private::error_of(&__managed_error))
                                                                .__managed_error_kind()
                                                        },
                                                        __managed_error,
                                                    ),
                                                );
                                            }
                                        });
                                        __managed_reached0 = 1;
                                        copy(from, to).await
                                    })
                                    .await;
                                __managed_private::defer_async(
                                        __managed_body2,
                                        __managed_reached0 >= 1,
                                        __managed_private::When::Err,
                                        async { undo().await },
                                    )
                                    .await
                            };
                            (
                                __managed_body1,
                                __managed_private::into_entered(__managed_slot1),
                            )
                        };
                        let __managed_outcome1 = __managed_private::outcome_of(
                            &__managed_body1,
                        );
                        let __managed_exited1 = __managed_private::exit_async(
                                __managed_entered1,
                                &__managed_outcome1,
                            )
                            .await;
                        let __managed_conversion1 = {
                            #[allow(unused_imports)]
                            use __managed_private::{
                                CannotFailKind as _, ViaFromKind as _,
                            };
                            #[allow(clippy::needless_borrow)]
                            (&__managed_private::exit_error(&__managed_exited1))
                                .__managed_error_kind()
                        };
                        __managed_private::merge_exit(
                            __managed_body1,
                            __managed_exited1,
                            __managed_conversion1,
                        )
                    };
                    (__managed_body0, __managed_private::into_entered(__managed_slot0))
                };
                let __managed_outcome0 = __managed_private::outcome_of(&__managed_body0);
                let __managed_exited0 = __managed_private::exit_async(
                        __managed_entered0,
                        &__managed_outcome0,
                    )
                    .await;
                let __managed_conversion0 = {
                    #[allow(unused_imports)]
                    use __managed_private::{CannotFailKind as _, ViaFromKind as _};
                    #[allow(clippy::needless_borrow)]
                    (&__managed_private::exit_error(&__managed_exited0))
                        .__managed_error_kind()
                };
                __managed_private::merge_exit(
                    __managed_body0,
                    __managed_exited0,
                    __managed_conversion0,
                )
            })
        }
    }
        .await
}
