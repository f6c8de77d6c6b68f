//! The extension traits that add `.accumulate()` and `.metered()` to
//! iterators and streams.

use super::{Accumulate, Accumulator, Buffer, ByteAccumulator, Chunk};
#[cfg(feature = "std")]
use super::{Meter, Metered};

/// `.accumulate()`, `.accumulate_bytes()`, `.accumulate_into(buf)`,
/// `.metered()`, `.metered_into(meter)` on every [`Iterator`] whose items are
/// chunks (`AsRef<str>` / `AsRef<[u8]>`, or `Result`s of them: see
/// [`Chunk`]).
///
/// ```
/// use managed::stream::ChunksExt;
///
/// let mut s = ["a", "b"].into_iter().metered().accumulate();
/// s.by_ref().for_each(drop);
/// assert_eq!((s.content(), s.metrics().total_bytes), ("ab", 2));
/// ```
pub trait ChunksExt: Iterator + Sized {
    /// Keeps the text received so far: see [`Accumulate`].
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = vec![String::from("a"), String::from("b")].into_iter().accumulate();
    /// acc.by_ref().for_each(drop);
    /// assert_eq!(acc.into_content(), "ab");
    /// ```
    fn accumulate<K>(self) -> Accumulate<Self, Accumulator, K>
    where
        Self::Item: Chunk<K, str>,
    {
        Accumulate::new(self, Accumulator::new())
    }

    /// Keeps the bytes received so far: see [`Accumulate`].
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut acc = [&b"\x00"[..], &b"\xff"[..]].into_iter().accumulate_bytes();
    /// acc.by_ref().for_each(drop);
    /// assert_eq!(acc.into_content(), vec![0, 255]);
    /// ```
    fn accumulate_bytes<K>(self) -> Accumulate<Self, ByteAccumulator, K>
    where
        Self::Item: Chunk<K, [u8]>,
    {
        Accumulate::new(self, ByteAccumulator::new())
    }

    /// Appends the chunks to a buffer you give, usually `&mut` an
    /// [`Accumulator`] you own: the content then outlives the adapter (read
    /// it after an early return, a panic or a cancelled future).
    ///
    /// ```
    /// use managed::stream::{Accumulator, ChunksExt};
    ///
    /// let mut acc = Accumulator::new();
    /// for chunk in [Ok("a"), Err("reset"), Ok("b")].into_iter().accumulate_into(&mut acc) {
    ///     if chunk.is_err() { break; }
    /// }
    /// assert_eq!(acc.content(), "a");
    /// ```
    fn accumulate_into<B, K>(self, buffer: B) -> Accumulate<Self, B, K>
    where
        B: Buffer,
        Self::Item: Chunk<K, B::Unit>,
    {
        Accumulate::new(self, buffer)
    }

    /// Measures the stream: see [`Metered`]. Needs `std` (for the clock).
    ///
    /// ```
    /// use managed::stream::ChunksExt;
    ///
    /// let mut s = ["ab", "c"].into_iter().metered();
    /// s.by_ref().for_each(drop);
    /// assert_eq!(s.metrics().total_bytes, 3);
    /// ```
    #[cfg(feature = "std")]
    fn metered<K>(self) -> Metered<Self, (), K>
    where
        Self::Item: Chunk<K, [u8]>,
    {
        Metered::new(self, ())
    }

    /// Measures the stream into a [`Meter`] you own: the metrics outlive the
    /// adapter. Needs `std`.
    ///
    /// ```
    /// use managed::stream::{ChunksExt, Meter, StreamEnd};
    ///
    /// let mut meter = Meter::new();
    /// for chunk in ["a", "b", "c"].into_iter().metered_into(&mut meter) {
    ///     if chunk == "b" { break; }
    /// }
    /// assert_eq!(meter.metrics().chunk_count, 2);
    /// assert_eq!(meter.end(), Some(StreamEnd::Dropped));
    /// ```
    #[cfg(feature = "std")]
    fn metered_into<K>(self, meter: &mut Meter) -> Metered<Self, &mut Meter, K>
    where
        Self::Item: Chunk<K, [u8]>,
    {
        Metered::new(self, meter)
    }
}

impl<I: Iterator> ChunksExt for I {}

/// [`ChunksExt`] for [`futures_core::Stream`]s (feature `async`): the same
/// adapters, which are streams when what they wrap is one.
///
/// ```
/// use futures::StreamExt as _;
/// use managed::stream::AsyncChunksExt;
///
/// futures::executor::block_on(async {
///     let mut s = futures::stream::iter(["a", "b"]).metered().accumulate();
///     while let Some(_chunk) = s.next().await {}
///     assert_eq!((s.content(), s.metrics().chunk_count), ("ab", 2));
/// });
/// ```
#[cfg(feature = "async")]
pub trait AsyncChunksExt: futures_core::Stream + Sized {
    /// Keeps the text received so far: see [`Accumulate`].
    ///
    /// ```
    /// use futures::StreamExt as _;
    /// use managed::stream::AsyncChunksExt;
    ///
    /// futures::executor::block_on(async {
    ///     let mut acc = futures::stream::iter(["a", "b"]).accumulate();
    ///     while acc.next().await.is_some() {}
    ///     assert_eq!(acc.into_content(), "ab");
    /// });
    /// ```
    fn accumulate<K>(self) -> Accumulate<Self, Accumulator, K>
    where
        Self::Item: Chunk<K, str>,
    {
        Accumulate::new(self, Accumulator::new())
    }

    /// Keeps the bytes received so far: see [`Accumulate`].
    ///
    /// ```
    /// use futures::StreamExt as _;
    /// use managed::stream::AsyncChunksExt;
    ///
    /// futures::executor::block_on(async {
    ///     let mut acc = futures::stream::iter([vec![1u8], vec![2]]).accumulate_bytes();
    ///     while acc.next().await.is_some() {}
    ///     assert_eq!(acc.into_content(), vec![1, 2]);
    /// });
    /// ```
    fn accumulate_bytes<K>(self) -> Accumulate<Self, ByteAccumulator, K>
    where
        Self::Item: Chunk<K, [u8]>,
    {
        Accumulate::new(self, ByteAccumulator::new())
    }

    /// Appends the chunks to a buffer you give (see
    /// [`ChunksExt::accumulate_into`]): the content survives the future
    /// being cancelled.
    ///
    /// ```
    /// use futures::StreamExt as _;
    /// use managed::stream::{Accumulator, AsyncChunksExt};
    ///
    /// let mut acc = Accumulator::new();
    /// futures::executor::block_on(async {
    ///     let mut s = futures::stream::iter(["a", "b"]).accumulate_into(&mut acc);
    ///     while s.next().await.is_some() {}
    /// });
    /// assert_eq!(acc.content(), "ab");
    /// ```
    fn accumulate_into<B, K>(self, buffer: B) -> Accumulate<Self, B, K>
    where
        B: Buffer,
        Self::Item: Chunk<K, B::Unit>,
    {
        Accumulate::new(self, buffer)
    }

    /// Measures the stream: see [`Metered`]. Needs `std`.
    ///
    /// ```
    /// use futures::StreamExt as _;
    /// use managed::stream::AsyncChunksExt;
    ///
    /// futures::executor::block_on(async {
    ///     let mut s = futures::stream::iter(["ab", "c"]).metered();
    ///     while s.next().await.is_some() {}
    ///     assert_eq!(s.metrics().total_bytes, 3);
    /// });
    /// ```
    #[cfg(feature = "std")]
    fn metered<K>(self) -> Metered<Self, (), K>
    where
        Self::Item: Chunk<K, [u8]>,
    {
        Metered::new(self, ())
    }

    /// Measures the stream into a [`Meter`] you own: the metrics survive the
    /// future being cancelled. Needs `std`.
    ///
    /// ```
    /// use futures::StreamExt as _;
    /// use managed::stream::{AsyncChunksExt, Meter};
    ///
    /// let mut meter = Meter::new();
    /// futures::executor::block_on(async {
    ///     let mut s = futures::stream::iter(["ab", "c"]).metered_into(&mut meter);
    ///     while s.next().await.is_some() {}
    /// });
    /// assert_eq!(meter.metrics().chunk_count, 2);
    /// ```
    #[cfg(feature = "std")]
    fn metered_into<K>(self, meter: &mut Meter) -> Metered<Self, &mut Meter, K>
    where
        Self::Item: Chunk<K, [u8]>,
    {
        Metered::new(self, meter)
    }
}

#[cfg(feature = "async")]
impl<S: futures_core::Stream> AsyncChunksExt for S {}
