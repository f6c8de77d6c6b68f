//! The `.metered()` adapter: passes every item on and keeps the metrics.

use core::borrow::BorrowMut;
use core::fmt;
use core::marker::PhantomData;

use super::{Buffer, Chunk, Meter, Plain, StreamEnd, StreamMetrics};

/// An iterator or stream that passes every item on unchanged and measures
/// it: [`metrics()`](Metered::metrics) is a snapshot at any time, final once
/// the stream ends, fails (first `Err` item, passed on) or the adapter is
/// dropped.
///
/// Made by `.metered()` (the [`Meter`] lives inside) or
/// `.metered_into(&mut meter)` (the meter is yours and outlives the adapter:
/// after a cancellation or an early return, read it there). With the
/// `tracing` feature, the end emits one event with the metrics.
///
/// ```
/// use managed::stream::{ChunksExt, StreamEnd};
///
/// let mut body = ["HTTP/1.1 200 OK\r\n", "\r\n", "hello"].into_iter().metered();
/// let first = body.next();
/// assert_eq!(body.metrics().chunk_count, 1); // a snapshot while running
/// body.by_ref().for_each(drop);
/// let m = body.metrics();
/// assert_eq!((m.chunk_count, m.total_bytes, body.end()), (3, 24, Some(StreamEnd::Completed)));
/// ```
#[must_use = "iterators and streams are lazy: an adapter does nothing until consumed"]
pub struct Metered<I, M = Meter, K = Plain>
where
    M: BorrowMut<Meter>,
{
    inner: I,
    meter: M,
    done: bool,
    kind: PhantomData<fn() -> K>,
}

impl<I, M: BorrowMut<Meter>, K> Metered<I, M, K> {
    /// Wraps `inner`, measuring it with `meter`. The extension traits call
    /// this; use it directly to name `K` yourself.
    ///
    /// ```
    /// use managed::stream::{Meter, Metered, Plain};
    ///
    /// let mut m = Metered::<_, _, Plain>::new(["a"].into_iter(), Meter::new());
    /// m.by_ref().for_each(drop);
    /// assert_eq!(m.metrics().total_bytes, 1);
    /// ```
    pub fn new(inner: I, meter: M) -> Self {
        Metered { inner, meter, done: false, kind: PhantomData }
    }

    /// The metrics now: a snapshot, final once [`end`](Metered::end) is
    /// `Some`.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let s = ["a"].into_iter().metered();
    /// assert_eq!(s.metrics().chunk_count, 0);
    /// ```
    pub fn metrics(&self) -> StreamMetrics {
        self.meter.borrow().metrics()
    }

    /// How the stream ended, or `None` while it runs.
    ///
    /// ```
    /// use managed::stream::{ChunksExt, StreamEnd};
    ///
    /// let mut s = ["a"].into_iter().metered();
    /// s.by_ref().for_each(drop);
    /// assert_eq!(s.end(), Some(StreamEnd::Completed));
    /// ```
    pub fn end(&self) -> Option<StreamEnd> {
        self.meter.borrow().end()
    }

    /// The meter.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let s = ["a"].into_iter().metered();
    /// assert_eq!(s.meter().end(), None);
    /// ```
    pub fn meter(&self) -> &Meter {
        self.meter.borrow()
    }

    /// The wrapped iterator or stream.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let s = ["a", "b"].into_iter().metered();
    /// assert_eq!(s.get_ref().len(), 2);
    /// ```
    pub fn get_ref(&self) -> &I {
        &self.inner
    }

    /// The wrapped iterator or stream, mutably (items taken from it directly
    /// are not measured).
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["a", "b"].into_iter().metered();
    /// assert_eq!(s.get_mut().next(), Some("a"));
    /// ```
    pub fn get_mut(&mut self) -> &mut I {
        &mut self.inner
    }
}

impl<J, B: Buffer, K2, M: BorrowMut<Meter>, K> Metered<super::Accumulate<J, B, K2>, M, K> {
    /// The content accumulated inside (`.accumulate().metered()`).
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["a", "b"].into_iter().accumulate().metered();
    /// s.by_ref().for_each(drop);
    /// assert_eq!((s.content(), s.metrics().chunk_count), ("ab", 2));
    /// ```
    pub fn content(&self) -> &B::Unit {
        self.inner.content()
    }
}

/// One step, shared by the `Iterator` and `Stream` impls.
#[inline]
fn take<T, K>(done: &mut bool, meter: &mut Meter, item: Option<T>) -> Option<T>
where
    T: Chunk<K, [u8]>,
{
    let Some(item) = item else {
        *done = true;
        meter.finish(StreamEnd::Completed);
        return None;
    };
    if let Some(chunk) = item.chunk() {
        meter.record(chunk.len());
    } else {
        *done = true;
        meter.finish(StreamEnd::Failed);
    }
    Some(item)
}

impl<I, M, K> Iterator for Metered<I, M, K>
where
    I: Iterator,
    I::Item: Chunk<K, [u8]>,
    M: BorrowMut<Meter>,
{
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        if self.done {
            return None;
        }
        let meter = self.meter.borrow_mut();
        meter.start();
        take(&mut self.done, meter, self.inner.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            (0, self.inner.size_hint().1)
        }
    }
}

impl<I, M, K> core::iter::FusedIterator for Metered<I, M, K>
where
    I: Iterator,
    I::Item: Chunk<K, [u8]>,
    M: BorrowMut<Meter>,
{
}

impl<I, M: BorrowMut<Meter>, K> Drop for Metered<I, M, K> {
    /// A stream dropped before its end (early `break`, `?`, panic,
    /// cancellation) ends as [`StreamEnd::Dropped`]: its metrics are final.
    fn drop(&mut self) {
        self.meter.borrow_mut().finish(StreamEnd::Dropped);
    }
}

#[cfg(feature = "async")]
mod stream_impl {
    use core::borrow::BorrowMut;
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use futures_core::Stream;

    use super::{Chunk, Meter, Metered};

    impl<S, M: BorrowMut<Meter>, K> Metered<S, M, K> {
        /// Pin projection: `inner` is structurally pinned, the rest is not.
        fn project(self: Pin<&mut Self>) -> (Pin<&mut S>, &mut Meter, &mut bool) {
            // SAFETY: we never move `inner` out of a pinned adapter: there is
            // no by-value accessor; `get_mut` needs `&mut Self`, which a
            // `Pin<&mut Self>` gives only if `Self: Unpin`, and `Self` is
            // `Unpin` only if `S` is (auto trait); `Drop` touches only the
            // meter; no `repr(packed)`. Tested with a `!Unpin` stream in
            // tests/stream.rs (`not_unpin_stream_is_metered_in_place`).
            let this = unsafe { self.get_unchecked_mut() };
            // SAFETY: `this.inner` is pinned as long as `this` is (see above).
            let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
            (inner, this.meter.borrow_mut(), &mut this.done)
        }
    }

    impl<S, M, K> Stream for Metered<S, M, K>
    where
        S: Stream,
        S::Item: Chunk<K, [u8]>,
        M: BorrowMut<Meter>,
    {
        type Item = S::Item;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
            let (inner, meter, done) = self.project();
            if *done {
                return Poll::Ready(None);
            }
            meter.start();
            let item = core::task::ready!(inner.poll_next(cx));
            Poll::Ready(super::take(done, meter, item))
        }

        fn size_hint(&self) -> (usize, Option<usize>) {
            if self.done {
                (0, Some(0))
            } else {
                (0, self.inner.size_hint().1)
            }
        }
    }
}

impl<I: fmt::Debug, M: BorrowMut<Meter>, K> fmt::Debug for Metered<I, M, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metered")
            .field("inner", &self.inner)
            .field("meter", self.meter.borrow())
            .field("done", &self.done)
            .finish()
    }
}
