//! The `.metered()` adapter: passes every item on and keeps the metrics.

use core::fmt;
use core::marker::PhantomData;

use super::{Buffer, Chunk, Meter, Plain, StreamEnd, StreamMetrics};

/// An iterator or stream that passes every item on unchanged and measures
/// it: [`metrics()`](Metered::metrics) is a snapshot at any time, final once
/// the stream ends, fails (first `Err` item, passed on) or the adapter is
/// dropped.
///
/// Made by `.metered()` (the [`Meter`] lives inside) or
/// `.metered_into(&mut meter)` (the final state also goes to a meter that is
/// yours and outlives the adapter: after a cancellation or an early return,
/// read it there). With the `tracing` feature, the end emits one event with
/// the metrics.
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
pub struct Metered<I, O = (), K = Plain>
where
    O: MeterOutput,
{
    // Declared before `inner`, so that a dropped adapter ends the metrics
    // (and writes them out) before the stream is dropped.
    state: State<O>,
    inner: I,
    kind: PhantomData<fn() -> K>,
}

/// What a [`Metered`] counts in. Its own `Drop` (not the adapter's) ends an
/// unfinished stream, so the adapter can give its stream back by value
/// ([`Metered::into_inner`]).
struct State<O: MeterOutput> {
    // The working copy, updated per chunk; `output` gets it at the end.
    // Keeping it inside the adapter (not behind the `&mut Meter` of
    // `metered_into`) lets the counters live in registers in the consumer's
    // loop.
    meter: Meter,
    output: O,
    done: bool,
}

/// Where a [`Metered`] adapter puts its final metrics: nowhere else (`()`,
/// for `.metered()`: read them from the adapter) or a `&mut Meter` you own
/// (`.metered_into(&mut meter)`), written when the stream ends, fails, or
/// the adapter is dropped, so it is complete once the borrow ends.
///
/// ```
/// use managed::stream::{ChunksExt, Meter};
///
/// let mut meter = Meter::new();
/// drop(["ab"].into_iter().metered_into(&mut meter)); // never polled, dropped
/// assert_eq!(meter.end(), Some(managed::stream::StreamEnd::Dropped));
/// ```
pub trait MeterOutput {
    /// The state to start from (a borrowed meter's own, so a meter that
    /// already counted keeps counting, unless it has ended: then a new one).
    fn initial(&self) -> Meter;
    /// Stores the final state.
    fn publish(&mut self, meter: &Meter);
}

impl MeterOutput for () {
    #[inline]
    fn initial(&self) -> Meter {
        Meter::new()
    }
    #[inline]
    fn publish(&mut self, _: &Meter) {}
}

impl MeterOutput for &mut Meter {
    /// The meter's state, so that one started or counted by hand keeps
    /// counting; a meter that has ended (an earlier stream's, e.g. the
    /// failed attempt before a retry) starts afresh, as a meter measures
    /// one stream: its end and total time would otherwise stay the earlier
    /// stream's.
    #[inline]
    fn initial(&self) -> Meter {
        if self.end().is_some() {
            Meter::new()
        } else {
            (**self).clone()
        }
    }
    #[inline]
    fn publish(&mut self, meter: &Meter) {
        (**self).clone_from(meter);
    }
}

impl<I, O: MeterOutput, K> Metered<I, O, K> {
    /// Wraps `inner`, measuring it into `output` (`()`: keep the metrics
    /// in the adapter only). The extension traits call this; use it
    /// directly to name `K` yourself.
    ///
    /// ```
    /// use managed::stream::{Metered, Plain};
    ///
    /// let mut m = Metered::<_, _, Plain>::new(["a"].into_iter(), ());
    /// m.by_ref().for_each(drop);
    /// assert_eq!(m.metrics().total_bytes, 1);
    /// ```
    pub fn new(inner: I, output: O) -> Self {
        Metered { state: State { meter: output.initial(), output, done: false }, inner, kind: PhantomData }
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
    #[inline]
    pub fn metrics(&self) -> StreamMetrics {
        self.state.meter.metrics()
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
        self.state.meter.end()
    }

    /// `true` once the stream has ended (its last item, or its first error,
    /// was passed on).
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["a"].into_iter().metered();
    /// assert!(!s.is_finished());
    /// s.by_ref().for_each(drop);
    /// assert!(s.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.state.done
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
        &self.state.meter
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

    /// The wrapped iterator or stream, by value. The metrics end here: a
    /// stream that has not ended ends as [`StreamEnd::Dropped`] (and a
    /// borrowed meter gets the final state), as when the adapter is dropped;
    /// items taken from the stream afterwards are not measured.
    ///
    /// ```
    /// use managed::stream::{ChunksExt, Meter, StreamEnd};
    ///
    /// let mut meter = Meter::new();
    /// let mut s = ["a", "b"].into_iter().metered_into(&mut meter);
    /// s.next();
    /// let mut rest = s.into_inner();
    /// assert_eq!(rest.next(), Some("b"));
    /// assert_eq!((meter.metrics().chunk_count, meter.end()), (1, Some(StreamEnd::Dropped)));
    /// ```
    pub fn into_inner(self) -> I {
        let Metered { state, inner, kind: _ } = self;
        drop(state);
        inner
    }
}

/// `.accumulate().metered()` (also with `accumulate_into` / `metered_into`):
/// what the accumulating adapter inside offers, reached from the outside.
impl<J, B: Buffer, K2, O: MeterOutput, K> Metered<super::Accumulate<J, B, K2>, O, K> {
    /// The content accumulated inside.
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

    /// The buffer the accumulating adapter inside appends to.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["ab", "c"].into_iter().accumulate().metered();
    /// s.next();
    /// assert_eq!(s.buffer().len(), 2);
    /// ```
    pub fn buffer(&self) -> &B {
        self.inner.buffer()
    }

    /// Takes the next item from an iterator, measured and accumulated, and
    /// returns it with the content so far (this item included), without
    /// copying the content.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["a", "b"].into_iter().accumulate().metered();
    /// assert_eq!(s.next_with_content(), Some(("a", "a")));
    /// assert_eq!(s.next_with_content(), Some(("b", "ab")));
    /// assert_eq!(s.next_with_content(), None);
    /// assert_eq!(s.metrics().chunk_count, 2);
    /// ```
    pub fn next_with_content(&mut self) -> Option<(J::Item, &B::Unit)>
    where
        J: Iterator,
        J::Item: Chunk<K2, B::Unit> + Chunk<K, [u8]>,
        K2: super::Kind,
    {
        let item = Iterator::next(self)?;
        Some((item, self.inner.content()))
    }
}

impl<J, K2, O: MeterOutput, K> Metered<super::Accumulate<J, super::Accumulator, K2>, O, K> {
    /// The whole text accumulated inside, without copying. The metrics end
    /// here (see [`into_inner`](Metered::into_inner)): read them first.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["a", "b"].into_iter().accumulate().metered();
    /// s.by_ref().for_each(drop);
    /// assert_eq!(s.metrics().total_bytes, 2);
    /// assert_eq!(s.into_content(), "ab");
    /// ```
    #[must_use = "into_content consumes the adapter and returns its content"]
    pub fn into_content(self) -> alloc::string::String {
        self.into_inner().into_content()
    }
}

impl<J, K2, O: MeterOutput, K> Metered<super::Accumulate<J, super::ByteAccumulator, K2>, O, K> {
    /// The whole byte content accumulated inside, without copying. The
    /// metrics end here (see [`into_inner`](Metered::into_inner)): read them
    /// first.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = [vec![1u8], vec![2]].into_iter().accumulate_bytes().metered();
    /// s.by_ref().for_each(drop);
    /// assert_eq!(s.into_content(), vec![1, 2]);
    /// ```
    #[must_use = "into_content consumes the adapter and returns its content"]
    pub fn into_content(self) -> alloc::vec::Vec<u8> {
        self.into_inner().into_content()
    }
}

/// One step, shared by the `Iterator` and `Stream` impls.
#[inline]
fn take<T, K, O>(done: &mut bool, meter: &mut Meter, output: &mut O, item: Option<T>) -> Option<T>
where
    T: Chunk<K, [u8]>,
    O: MeterOutput,
{
    let Some(item) = item else {
        *done = true;
        meter.finish(StreamEnd::Completed);
        output.publish(meter);
        return None;
    };
    if let Some(chunk) = item.chunk() {
        meter.record(chunk.len());
    } else {
        *done = true;
        meter.finish(StreamEnd::Failed);
        output.publish(meter);
    }
    Some(item)
}

impl<I, O, K> Iterator for Metered<I, O, K>
where
    I: Iterator,
    I::Item: Chunk<K, [u8]>,
    O: MeterOutput,
{
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        let state = &mut self.state;
        if state.done {
            return None;
        }
        state.meter.start_if_first();
        take(&mut state.done, &mut state.meter, &mut state.output, self.inner.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.state.done {
            (0, Some(0))
        } else {
            (0, self.inner.size_hint().1)
        }
    }
}

impl<I, O, K> core::iter::FusedIterator for Metered<I, O, K>
where
    I: Iterator,
    I::Item: Chunk<K, [u8]>,
    O: MeterOutput,
{
}

impl<O: MeterOutput> Drop for State<O> {
    /// A stream dropped before its end (early `break`, `?`, panic,
    /// cancellation, `into_inner`) ends as [`StreamEnd::Dropped`]: its
    /// metrics are final, and written to the borrowed meter if there is one.
    #[inline]
    fn drop(&mut self) {
        if !self.done {
            self.meter.finish(StreamEnd::Dropped);
            self.output.publish(&self.meter);
        }
    }
}

#[cfg(feature = "async")]
mod stream_impl {
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use futures_core::Stream;

    use super::{Chunk, Meter, MeterOutput, Metered};

    impl<S, O: MeterOutput, K> Metered<S, O, K> {
        /// Pin projection: `inner` is structurally pinned, the rest is not.
        fn project(self: Pin<&mut Self>) -> (Pin<&mut S>, &mut Meter, &mut O, &mut bool) {
            // SAFETY: we never move `inner` out of a pinned adapter: the
            // only by-value accessors (`into_inner`, `into_content`) take
            // `self`, and `get_mut` needs `&mut Self`, which a
            // `Pin<&mut Self>` gives only if `Self: Unpin`, and `Self` is
            // `Unpin` only if `S` is (auto trait); the only `Drop` is the
            // state's, which touches only the meter; no `repr(packed)`. Tested with a `!Unpin` stream in
            // tests/stream.rs (`not_unpin_stream_is_metered_in_place`) and
            // in `stream::pin_tests` (run under Miri).
            let this = unsafe { self.get_unchecked_mut() };
            // SAFETY: `this.inner` is pinned as long as `this` is (see above).
            let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
            let state = &mut this.state;
            (inner, &mut state.meter, &mut state.output, &mut state.done)
        }
    }

    impl<S, O, K> Stream for Metered<S, O, K>
    where
        S: Stream,
        S::Item: Chunk<K, [u8]>,
        O: MeterOutput,
    {
        type Item = S::Item;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
            let (inner, meter, output, done) = self.project();
            if *done {
                return Poll::Ready(None);
            }
            meter.start_if_first();
            let item = core::task::ready!(inner.poll_next(cx));
            Poll::Ready(super::take(done, meter, output, item))
        }

        fn size_hint(&self) -> (usize, Option<usize>) {
            if self.state.done {
                (0, Some(0))
            } else {
                (0, self.inner.size_hint().1)
            }
        }
    }
}

impl<I: fmt::Debug, O: MeterOutput, K> fmt::Debug for Metered<I, O, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metered")
            .field("inner", &self.inner)
            .field("meter", &self.state.meter)
            .field("done", &self.state.done)
            .finish_non_exhaustive()
    }
}
