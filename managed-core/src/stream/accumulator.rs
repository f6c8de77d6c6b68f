//! The accumulated whole of a stream: text ([`Accumulator`]) or bytes
//! ([`ByteAccumulator`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The text received so far, grown by appending chunks.
///
/// Appending is amortised O(1) per byte (the buffer doubles when full, like
/// `String`), so a stream of n bytes costs O(n) in total, never O(n²).
/// [`finalize`](Accumulator::finalize) consumes the accumulator: pushing after
/// it is a compile error, not a runtime one.
///
/// ```
/// use managed::stream::Accumulator;
///
/// let mut acc = Accumulator::new();
/// acc.push("Hello, ");
/// acc.push("world");
/// assert_eq!(acc.content(), "Hello, world");
/// let text: String = acc.finalize();
/// assert_eq!(text, "Hello, world");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Accumulator {
    content: String,
}

impl Accumulator {
    /// An empty accumulator (no allocation until the first push).
    ///
    /// ```
    /// assert!(managed::stream::Accumulator::new().content().is_empty());
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Accumulator { content: String::new() }
    }

    /// An empty accumulator with room for `capacity` bytes (when the size of
    /// the whole is known, e.g. from a `Content-Length`).
    ///
    /// ```
    /// let acc = managed::stream::Accumulator::with_capacity(1024);
    /// assert!(acc.capacity() >= 1024);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Accumulator { content: String::with_capacity(capacity) }
    }

    /// Appends a chunk.
    ///
    /// ```
    /// let mut acc = managed::stream::Accumulator::new();
    /// acc.push("ab");
    /// acc.push("c");
    /// assert_eq!(acc.content(), "abc");
    /// ```
    #[inline]
    pub fn push(&mut self, chunk: &str) {
        self.content.push_str(chunk);
    }

    /// Everything pushed so far.
    ///
    /// ```
    /// let mut acc = managed::stream::Accumulator::new();
    /// acc.push("partial");
    /// assert_eq!(acc.content(), "partial");
    /// ```
    #[inline]
    pub fn content(&self) -> &str {
        &self.content
    }

    /// The whole, without copying. The accumulator is consumed.
    ///
    /// ```
    /// let mut acc = managed::stream::Accumulator::new();
    /// acc.push("done");
    /// assert_eq!(acc.finalize(), "done");
    /// ```
    #[must_use = "finalize consumes the accumulator and returns its content"]
    pub fn finalize(self) -> String {
        self.content
    }

    /// Length of the content in bytes.
    ///
    /// ```
    /// let mut acc = managed::stream::Accumulator::new();
    /// acc.push("é");
    /// assert_eq!(acc.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.content.len()
    }

    /// `true` when nothing (or only empty chunks) was pushed.
    ///
    /// ```
    /// assert!(managed::stream::Accumulator::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.content.is_empty()
    }

    /// Bytes the buffer holds without reallocating.
    ///
    /// ```
    /// let acc = managed::stream::Accumulator::with_capacity(8);
    /// assert!(acc.capacity() >= 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.content.capacity()
    }
}

impl From<String> for Accumulator {
    /// Continues accumulating after `content` (no copy).
    fn from(content: String) -> Self {
        Accumulator { content }
    }
}

impl fmt::Write for Accumulator {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s);
        Ok(())
    }
}

impl fmt::Debug for Accumulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accumulator").field("content", &self.content).finish()
    }
}

/// The bytes received so far: [`Accumulator`] for binary streams.
///
/// ```
/// use managed::stream::ByteAccumulator;
///
/// let mut acc = ByteAccumulator::new();
/// acc.push(&[0xde, 0xad]);
/// acc.push(b"\xbe\xef");
/// assert_eq!(acc.content(), &[0xde, 0xad, 0xbe, 0xef]);
/// assert_eq!(acc.finalize(), vec![0xde, 0xad, 0xbe, 0xef]);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ByteAccumulator {
    content: Vec<u8>,
}

impl ByteAccumulator {
    /// An empty accumulator (no allocation until the first push).
    ///
    /// ```
    /// assert!(managed::stream::ByteAccumulator::new().content().is_empty());
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        ByteAccumulator { content: Vec::new() }
    }

    /// An empty accumulator with room for `capacity` bytes.
    ///
    /// ```
    /// assert!(managed::stream::ByteAccumulator::with_capacity(64).capacity() >= 64);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        ByteAccumulator { content: Vec::with_capacity(capacity) }
    }

    /// Appends a chunk.
    ///
    /// ```
    /// let mut acc = managed::stream::ByteAccumulator::new();
    /// acc.push(b"ab");
    /// assert_eq!(acc.content(), b"ab");
    /// ```
    #[inline]
    pub fn push(&mut self, chunk: &[u8]) {
        self.content.extend_from_slice(chunk);
    }

    /// Everything pushed so far.
    ///
    /// ```
    /// let mut acc = managed::stream::ByteAccumulator::new();
    /// acc.push(b"x");
    /// assert_eq!(acc.content(), b"x");
    /// ```
    #[inline]
    pub fn content(&self) -> &[u8] {
        &self.content
    }

    /// The whole, without copying. The accumulator is consumed.
    ///
    /// ```
    /// let mut acc = managed::stream::ByteAccumulator::new();
    /// acc.push(b"done");
    /// assert_eq!(acc.finalize(), b"done");
    /// ```
    #[must_use = "finalize consumes the accumulator and returns its content"]
    pub fn finalize(self) -> Vec<u8> {
        self.content
    }

    /// Length of the content in bytes.
    ///
    /// ```
    /// let mut acc = managed::stream::ByteAccumulator::new();
    /// acc.push(&[1, 2, 3]);
    /// assert_eq!(acc.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.content.len()
    }

    /// `true` when nothing (or only empty chunks) was pushed.
    ///
    /// ```
    /// assert!(managed::stream::ByteAccumulator::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.content.is_empty()
    }

    /// Bytes the buffer holds without reallocating.
    ///
    /// ```
    /// assert!(managed::stream::ByteAccumulator::with_capacity(8).capacity() >= 8);
    /// ```
    pub fn capacity(&self) -> usize {
        self.content.capacity()
    }
}

impl From<Vec<u8>> for ByteAccumulator {
    /// Continues accumulating after `content` (no copy).
    fn from(content: Vec<u8>) -> Self {
        ByteAccumulator { content }
    }
}

impl fmt::Debug for ByteAccumulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteAccumulator").field("content", &self.content).finish()
    }
}

/// Where [`Accumulate`](super::Accumulate) puts the chunks: an
/// [`Accumulator`], a [`ByteAccumulator`], or a `&mut` to one of them (so the
/// content outlives the adapter: see the [module docs](super)).
///
/// ```
/// use managed::stream::{Accumulator, Buffer};
///
/// let mut acc = Accumulator::new();
/// Buffer::push_chunk(&mut acc, "a");
/// assert_eq!(Buffer::content(&acc), "a");
/// ```
pub trait Buffer {
    /// What a chunk is: `str` or `[u8]`.
    type Unit: ?Sized;
    /// Appends a chunk.
    fn push_chunk(&mut self, chunk: &Self::Unit);
    /// Everything appended so far.
    fn content(&self) -> &Self::Unit;
}

impl Buffer for Accumulator {
    type Unit = str;
    #[inline]
    fn push_chunk(&mut self, chunk: &str) {
        self.push(chunk);
    }
    #[inline]
    fn content(&self) -> &str {
        Accumulator::content(self)
    }
}

impl Buffer for ByteAccumulator {
    type Unit = [u8];
    #[inline]
    fn push_chunk(&mut self, chunk: &[u8]) {
        self.push(chunk);
    }
    #[inline]
    fn content(&self) -> &[u8] {
        ByteAccumulator::content(self)
    }
}

impl<B: Buffer + ?Sized> Buffer for &mut B {
    type Unit = B::Unit;
    #[inline]
    fn push_chunk(&mut self, chunk: &Self::Unit) {
        (**self).push_chunk(chunk);
    }
    #[inline]
    fn content(&self) -> &Self::Unit {
        (**self).content()
    }
}
