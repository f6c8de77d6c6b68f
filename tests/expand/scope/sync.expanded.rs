use managed::{defer, scope, with};
use std::io::{self, BufWriter, Write};
fn log(message: &str) {
    let _ = message;
}
/// A plain statement, a manager, a statement, a `defer!` for the error
/// path, the rest: the rest of the block after each split point is a
/// nested closure, and the block is one too (its first statement may
/// leave it with `?` or `return`).
pub fn save(out: &mut Vec<u8>, text: &str) -> Result<usize, io::Error> {
    {
        #[allow(unused_imports)]
        use ::managed::__private as __managed_private;
        #[allow(clippy::redundant_closure_call)]
        let __managed_scope = (|| {
            let bytes = text.as_bytes();
            let mut __managed_manager1 = BufWriter::new(out);
            let __managed_conversion1 = {
                #[allow(unused_imports)]
                use __managed_private::{CannotFailKind as _, ViaFromKind as _};
                #[allow(clippy::needless_borrow)]
                (&__managed_private::manager_error(&__managed_manager1))
                    .__managed_error_kind()
            };
            let mut __managed_entered1 = false;
            let __managed_body1 = __managed_private::run_level(|| {
                let file = (match (__managed_private::enter_tracked(
                    &mut __managed_manager1,
                    &mut __managed_entered1,
                )) {
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
                file.write_all(bytes)?;
                let __managed_body3 = __managed_private::run_level(|| {
                    file.write_all(b"\n")?;
                    Ok(bytes.len() + 1)
                });
                __managed_private::defer_level(
                    __managed_body3,
                    __managed_private::When::Err,
                    |_: &__managed_private::Outcome<'_>| { log("not saved") },
                )
            });
            __managed_private::exit_level_if_entered(
                __managed_entered1,
                __managed_manager1,
                __managed_body1,
                __managed_conversion1,
            )
        })();
        __managed_scope
    }
}
/// A block that starts with its first `with!`: no closure around it.
pub fn append(out: &mut Vec<u8>, text: &str) -> Result<(), io::Error> {
    {
        #[allow(unused_imports)]
        use ::managed::__private as __managed_private;
        let __managed_scope = {
            let mut __managed_manager0 = BufWriter::new(out);
            let __managed_conversion0 = {
                #[allow(unused_imports)]
                use __managed_private::{CannotFailKind as _, ViaFromKind as _};
                #[allow(clippy::needless_borrow)]
                (&__managed_private::manager_error(&__managed_manager0))
                    .__managed_error_kind()
            };
            let mut __managed_entered0 = false;
            let __managed_body0 = __managed_private::run_level(|| {
                let file = (match (__managed_private::enter_tracked(
                    &mut __managed_manager0,
                    &mut __managed_entered0,
                )) {
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
                let __managed_body1 = __managed_private::run_level(|| {
                    file.write_all(text.as_bytes())
                });
                __managed_private::defer_level(
                    __managed_body1,
                    __managed_private::When::Always,
                    |_: &__managed_private::Outcome<'_>| { log("appended") },
                )
            });
            __managed_private::exit_level_if_entered(
                __managed_entered0,
                __managed_manager0,
                __managed_body0,
                __managed_conversion0,
            )
        };
        __managed_scope
    }
}
