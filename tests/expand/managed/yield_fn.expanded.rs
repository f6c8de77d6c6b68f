use managed::{managed, yield_};
use std::time::Instant;
#[must_use = "a `#[managed] fn` returns a manager: enter it with `with!` in a `scope!`, or a `Guard`"]
pub fn timed<'__managed_l0>(
    label: &'__managed_l0 str,
) -> impl ::managed::Manage<
    Target = Vec<u64>,
    Error = std::fmt::Error,
> + ::managed::__private::Captures<(&'__managed_l0 (),)> {
    ::managed::__private::FnManager::new(
        move || -> ::managed::__private::Result<_, std::fmt::Error> {
            let start = Instant::now();
            let samples = Vec::new();
            let lent: Vec<u64> = samples;
            #[allow(clippy::used_underscore_binding)]
            let state = (label, start);
            ::managed::__private::Ok((lent, state))
        },
        move |
            target,
            state,
            outcome: &::managed::__private::Outcome<'_>,
        | -> ::managed::__private::Result<(), std::fmt::Error> {
            #[allow(unused_variables, unused_mut)]
            let (label, start) = state;
            #[allow(unused_mut)]
            let samples = target;
            let outcome = outcome;
            {
                ::std::io::_print(
                    format_args!(
                        "{3}: {0} samples in {1:?}, ok: {2}\n", samples.len(), start
                        .elapsed(), outcome.is_ok(), label,
                    ),
                );
            };
            #[allow(unreachable_code)]
            let ok = ::managed::__private::Ok(());
            ok
        },
    )
}
