use managed::{managed, yield_};
fn discard(conn: &mut Vec<String>) {
    conn.clear();
}
#[must_use = "a `#[managed] async fn` returns a manager: enter it with `with!` in an async `scope!`"]
pub fn transaction<'__managed_l0>(
    mut conn: Vec<String>,
    name: &'__managed_l0 str,
) -> ::managed::__private::AsyncFnManager<
    Vec<String>,
    std::fmt::Error,
    impl ::core::future::Future<
        Output = ::managed::__private::Result<(), std::fmt::Error>,
    > + ::managed::__private::Captures<(&'__managed_l0 (),)>,
> {
    let coroutine = ::managed::__private::coroutine::<
        Vec<String>,
        _,
        _,
    >(move |mut lender| async move {
        conn.push(
            ::alloc::__export::must_use({
                ::alloc::fmt::format(format_args!("BEGIN {0}", name))
            }),
        );
        let outcome = lender.lend(&mut conn).await;
        conn.push(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" }.to_owned());
        #[allow(unreachable_code)]
        let ok = ::managed::__private::Ok(());
        ok
    });
    let manager = unsafe {
        ::managed::__private::AsyncFnManager::<
            Vec<String>,
            std::fmt::Error,
            _,
        >::new("transaction", coroutine)
    };
    manager
        .on_cancel(|value: &mut Vec<String>| <_ as ::managed::__private::Returns<
            std::fmt::Error,
        >>::into_result(discard(value)))
}
