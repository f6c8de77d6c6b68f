//! The `.accumulate()` adapter: passes every item on and keeps the content so far.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use super::{Accumulator, Buffer, ByteAccumulator, Chunk, Kind, Plain};

/// An iterator or stream that passes every item on unchanged and appends
/// each chunk to a [`Buffer`]: the content so far is
/// [`content()`](Accumulate::content), at any time.
///
/// Made by `.accumulate()`, `.accumulate_bytes()` or `.accumulate_into(buf)`
/// ([`ChunksExt`](super::ChunksExt), [`AsyncChunksExt`](super::AsyncChunksExt)).
/// With `Result` items, the first `Err` is passed on and ends the stream;
/// the content before it is kept. With plain items the adapter is as fused
/// as what it wraps (it is a [`FusedIterator`](core::iter::FusedIterator)
/// when that is).
///
/// A `for` loop over `&mut acc` borrows the adapter for the whole loop; to
/// look at the content while iterating, use `while let Some(item) =
/// acc.next()` or [`next_with_content`](Accumulate::next_with_content).
///
/// ```
/// use managed::stream::ChunksExt;
///
/// let mut acc = ["Hel", "lo"].into_iter().accumulate();
/// while let Some(chunk) = acc.next() {
///     println!("got {chunk:?}, {} bytes so far", acc.content().len());
/// }
/// assert_eq!(acc.into_content(), "Hello");
/// ```
#[must_use = "iterators and streams are lazy: an adapter does nothing until consumed"]
pub struct Accumulate<I, B = Accumulator, K = Plain> {
    inner: I,
    buffer: B,
    done: bool,
    // `fn() -> K`: the marker never affects `Send`, `Sync` or `Unpin`.
    kind: PhantomData<fn() -> K>,
}

impl<I, B, K> Accumulate<I, B, K> {
    /// Wraps `inner`, appending its chunks to `buffer`. The extension traits
    /// call this; use it directly to name `K` yourself.
    ///
    /// ```
    /// use managed::stream::{Accumulate, Accumulator, Plain};
    ///
    /// let mut acc = Accumulate::<_, _, Plain>::new(["a", "b"].into_iter(), Accumulator::new());
    /// acc.by_ref().for_each(drop);
    /// assert_eq!(acc.content(), "ab");
    /// ```
    pub fn new(inner: I, buffer: B) -> Self {
        Accumulate { inner, buffer, done: false, kind: PhantomData }
    }

    /// Everything received so far.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = ["a", "b"].into_iter().accumulate();
    /// acc.next();
    /// assert_eq!(acc.content(), "a");
    /// ```
    #[inline]
    pub fn content(&self) -> &B::Unit
    where
        B: Buffer,
    {
        self.buffer.content()
    }

    /// The buffer the chunks go to.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let acc = ["a"].into_iter().accumulate();
    /// assert!(acc.buffer().is_empty());
    /// ```
    pub fn buffer(&self) -> &B {
        &self.buffer
    }

    /// `true` once the stream has ended (its last item, or its first error,
    /// was passed on).
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = ["a"].into_iter().accumulate();
    /// acc.by_ref().for_each(drop);
    /// assert!(acc.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.done
    }

    /// The wrapped iterator or stream.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let acc = ["a", "b"].into_iter().accumulate();
    /// assert_eq!(acc.get_ref().len(), 2);
    /// ```
    pub fn get_ref(&self) -> &I {
        &self.inner
    }

    /// The wrapped iterator or stream, mutably (items taken from it directly
    /// bypass the accumulation).
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = ["a", "b"].into_iter().accumulate();
    /// assert_eq!(acc.get_mut().next(), Some("a"));
    /// ```
    pub fn get_mut(&mut self) -> &mut I {
        &mut self.inner
    }

    /// The wrapped iterator or stream and the buffer.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = ["a", "b"].into_iter().accumulate();
    /// acc.next();
    /// let (mut rest, buffer) = acc.into_parts();
    /// assert_eq!((rest.next(), buffer.content()), (Some("b"), "a"));
    /// ```
    pub fn into_parts(self) -> (I, B) {
        (self.inner, self.buffer)
    }

    /// Takes the next item from an iterator and returns it with the content
    /// so far (this item included), without copying the content.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = ["a", "b"].into_iter().accumulate();
    /// assert_eq!(acc.next_with_content(), Some(("a", "a")));
    /// assert_eq!(acc.next_with_content(), Some(("b", "ab")));
    /// assert_eq!(acc.next_with_content(), None);
    /// ```
    pub fn next_with_content(&mut self) -> Option<(I::Item, &B::Unit)>
    where
        I: Iterator,
        I::Item: Chunk<K, B::Unit>,
        B: Buffer,
        K: Kind,
    {
        let item = Iterator::next(self)?;
        Some((item, self.buffer.content()))
    }
}

/// One step, shared by the `Iterator` and `Stream` impls: append the chunk,
/// or end at the stream's end or its first error.
#[inline]
fn take<T, B, K>(done: &mut bool, buffer: &mut B, item: Option<T>) -> Option<T>
where
    T: Chunk<K, B::Unit>,
    B: Buffer,
{
    let Some(item) = item else {
        *done = true;
        return None;
    };
    if let Some(chunk) = item.chunk() {
        buffer.push_chunk(chunk);
    } else {
        *done = true;
    }
    Some(item)
}

impl<I, K> Accumulate<I, Accumulator, K> {
    /// The whole text, without copying (what was received, if the stream
    /// ended early or failed).
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = ["a", "b", "c"].into_iter().accumulate();
    /// acc.next();
    /// acc.next();
    /// assert_eq!(acc.into_content(), "ab");
    /// ```
    #[must_use = "into_content consumes the adapter and returns its content"]
    pub fn into_content(self) -> String {
        self.buffer.finalize()
    }
}

impl<I, K> Accumulate<I, ByteAccumulator, K> {
    /// The whole byte content, without copying.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = [vec![1u8], vec![2, 3]].into_iter().accumulate_bytes();
    /// acc.by_ref().for_each(drop);
    /// assert_eq!(acc.into_content(), vec![1, 2, 3]);
    /// ```
    #[must_use = "into_content consumes the adapter and returns its content"]
    pub fn into_content(self) -> Vec<u8> {
        self.buffer.finalize()
    }
}

/// `.metered().accumulate()` (also with `metered_into` / `accumulate_into`):
/// what the metering adapter inside offers, reached from the outside.
#[cfg(feature = "std")]
impl<I, O, K1, B, K2> Accumulate<super::Metered<I, O, K1>, B, K2>
where
    O: super::MeterOutput,
{
    /// The metrics of the metered stream inside.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["ab", "c"].into_iter().metered().accumulate();
    /// s.by_ref().for_each(drop);
    /// assert_eq!((s.content(), s.metrics().total_bytes), ("abc", 3));
    /// ```
    pub fn metrics(&self) -> super::StreamMetrics {
        self.inner.metrics()
    }

    /// How the metered stream inside ended, or `None` while it runs.
    ///
    /// ```
    /// use managed::stream::{ChunksExt, StreamEnd};
    ///
    /// let mut s = [Ok("ab"), Err("reset")].into_iter().metered().accumulate();
    /// assert_eq!(s.end(), None);
    /// s.by_ref().for_each(drop);
    /// assert_eq!((s.content(), s.end()), ("ab", Some(StreamEnd::Failed)));
    /// ```
    pub fn end(&self) -> Option<super::StreamEnd> {
        self.inner.end()
    }

    /// The meter of the metered stream inside.
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["ab"].into_iter().metered().accumulate();
    /// s.next();
    /// assert_eq!(s.meter().metrics().total_bytes, 2);
    /// ```
    pub fn meter(&self) -> &super::Meter {
        self.inner.meter()
    }
}

impl<I, B, K> Iterator for Accumulate<I, B, K>
where
    I: Iterator,
    I::Item: Chunk<K, B::Unit>,
    B: Buffer,
    K: Kind,
{
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        // Only a fallible stream needs the flag to stop after its first
        // error. Reading it per item is not free here: the buffer's growth
        // path gets `&mut` into this struct, so LLVM reloads the flag from
        // memory each item (measured +10 % on 64-byte chunks).
        if K::FALLIBLE && self.done {
            return None;
        }
        let item = self.inner.next();
        take(&mut self.done, &mut self.buffer, item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match (K::FALLIBLE, self.done) {
            (false, _) => self.inner.size_hint(),
            (true, true) => (0, Some(0)),
            // An error item may end the stream early.
            (true, false) => (0, self.inner.size_hint().1),
        }
    }
}

impl<I, B, K> core::iter::FusedIterator for Accumulate<I, B, K>
where
    I: core::iter::FusedIterator,
    I::Item: Chunk<K, B::Unit>,
    B: Buffer,
    K: Kind,
{
}

#[cfg(feature = "async")]
mod stream_impl {
    use core::pin::Pin;
    use core::task::{Context, Poll};

    use futures_core::Stream;

    use super::{Accumulate, Buffer, Chunk, Kind};

    impl<S, B, K> Accumulate<S, B, K> {
        /// Pin projection: `inner` is structurally pinned, the rest is not.
        fn project(self: Pin<&mut Self>) -> (Pin<&mut S>, &mut B, &mut bool) {
            // SAFETY: we never move `inner` out of a pinned adapter: the only
            // by-value accessors (`into_parts`, `into_content`) take `self`,
            // which a `Pin<&mut Self>` cannot give unless `Self: Unpin`, and
            // `Self` is `Unpin` only if `S` is (auto trait); `get_mut` needs
            // `&mut Self`, same argument; there is no `Drop` impl and no
            // `repr(packed)`. Tested with a `!Unpin` stream in
            // tests/stream.rs (`not_unpin_stream_is_accumulated_in_place`) and
            // in `stream::pin_tests` (run under Miri).
            let this = unsafe { self.get_unchecked_mut() };
            // SAFETY: `this.inner` is pinned as long as `this` is (see above).
            let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
            (inner, &mut this.buffer, &mut this.done)
        }
    }

    impl<S, B, K> Stream for Accumulate<S, B, K>
    where
        S: Stream,
        S::Item: Chunk<K, B::Unit>,
        B: Buffer,
        K: Kind,
    {
        type Item = S::Item;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
            let (inner, buffer, done) = self.project();
            if K::FALLIBLE && *done {
                return Poll::Ready(None);
            }
            let item = core::task::ready!(inner.poll_next(cx));
            Poll::Ready(super::take(done, buffer, item))
        }

        fn size_hint(&self) -> (usize, Option<usize>) {
            match (K::FALLIBLE, self.done) {
                (false, _) => self.inner.size_hint(),
                (true, true) => (0, Some(0)),
                (true, false) => (0, self.inner.size_hint().1),
            }
        }
    }
}

impl<I: fmt::Debug, B: fmt::Debug, K> fmt::Debug for Accumulate<I, B, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accumulate")
            .field("inner", &self.inner)
            .field("buffer", &self.buffer)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
