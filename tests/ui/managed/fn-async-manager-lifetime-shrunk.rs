// The manager of a `#[managed] async fn` is invariant in what it lends: the
// block writes a `T` through the lent `&mut T` that the coroutine reads
// back, so shrinking a lifetime inside `T` would let the block store a
// short-lived reference that the coroutine reads after it is freed.
fn shrink<'s, 'l: 's, E, F>(
    m: managed::__private::AsyncFnManager<&'l str, E, F>,
) -> managed::__private::AsyncFnManager<&'s str, E, F> {
    m
}

fn main() {
    let _ = shrink::<(), ()>;
}
