//! Streaming with accumulated state and metrics, for iterators and
//! (feature `async`) `futures::Stream`s.
//!
//! - [`Accumulator`] / [`ByteAccumulator`]: the whole received so far, grown
//!   in O(n) total; `finalize(self)` consumes it, so pushing afterwards does
//!   not compile.
//! - `.accumulate()` ([`Accumulate`]): passes every item on and keeps the
//!   content so far, readable at any time with `.content()`, taken with
//!   `.into_content()`.
//! - `.metered()` ([`Metered`]): passes every item on and keeps
//!   [`StreamMetrics`] (time to first chunk, total time, chunk and byte
//!   counts), a snapshot at any time, final once the stream ends, fails or
//!   is dropped ([`StreamEnd`]). With the `tracing` feature the end emits
//!   one event (target `managed::stream`).
//! - They compose, in either order (and in their `_into` forms): the outer
//!   adapter forwards what the inner one offers. `.metered().accumulate()`
//!   has `.metrics()`, `.end()` and `.meter()` besides its own `.content()`,
//!   `.buffer()`, `.is_finished()`, `.next_with_content()` and
//!   `.into_content()`; `.accumulate().metered()` has `.content()`,
//!   `.buffer()`, `.next_with_content()` and `.into_content()` besides its
//!   own `.metrics()`, `.end()`, `.meter()` and `.is_finished()`.
//!
//! ```
//! use managed::stream::{ChunksExt, StreamEnd};
//!
//! let mut s = [Ok("ab"), Ok("c"), Err("reset")].into_iter().metered().accumulate();
//! while let Some((chunk, so_far)) = s.next_with_content() {
//!     if let Ok(text) = chunk {
//!         assert!(so_far.ends_with(text));
//!     }
//! }
//! assert_eq!((s.end(), s.metrics().chunk_count), (Some(StreamEnd::Failed), 2));
//! assert_eq!(s.into_content(), "abc");
//!
//! let mut s = ["ab", "c"].into_iter().accumulate().metered();
//! s.by_ref().for_each(drop);
//! assert_eq!((s.end(), s.content()), (Some(StreamEnd::Completed), "abc"));
//! assert_eq!(s.into_content(), "abc");
//! ```
//! - Items are chunks: `AsRef<str>` for text, `AsRef<[u8]>` for bytes and
//!   metering, or `Result`s of them: the first `Err` is passed on to the
//!   consumer and ends the stream; everything before it is kept ([`Chunk`]).
//!
//! The extension traits are [`ChunksExt`] (iterators) and [`AsyncChunksExt`]
//! (streams, feature `async`).
//!
//! # Nothing received is lost
//!
//! An adapter belongs to the code that consumes it, and that code may end
//! early: `?`, a panic, a future dropped mid-stream (a timeout, a
//! `select!`). The adapters then keep nothing for anyone, so the state can
//! live outside them: `.accumulate_into(&mut acc)` and
//! `.metered_into(&mut meter)` write into an [`Accumulator`] and a [`Meter`]
//! that you own. The borrow ends with the adapter, however it ends, and you
//! read the partial content and the final metrics (a dropped metered stream
//! ends as [`StreamEnd::Dropped`]). Nothing is shared or locked: chunks go
//! straight into the borrowed accumulator, and the metered adapter counts
//! in its own copy of the meter and writes it back once, at the end or on
//! drop, so the borrowed forms cost what the owned ones do.
//!
//! Under `scope!`, put them in a manager: its exit sees the outcome *and*
//! what was received (the block borrows the manager's target, the exit
//! consumes the manager):
//!
//! ```
//! use managed::stream::{Accumulator, ChunksExt, Meter, StreamEnd};
//! use managed::{scope, with, Manage, Outcome};
//!
//! /// Keeps what a download received; on failure, reports what was lost.
//! #[derive(Default)]
//! struct Download { body: Accumulator, meter: Meter }
//!
//! impl Manage for Download {
//!     type Target = Self;
//!     type Error = std::convert::Infallible;
//!     fn enter(&mut self) -> Result<&mut Self, Self::Error> { Ok(self) }
//!     fn exit(self, outcome: &Outcome<'_>) -> Result<(), Self::Error> {
//!         let m = self.meter.metrics();
//!         if outcome.is_failure() {
//!             // The partial body and its final metrics are here, whatever ended the block.
//!             assert_eq!((self.body.content(), m.chunk_count), ("abc", 2));
//!             assert_eq!(self.meter.end(), Some(StreamEnd::Failed));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let chunks = [Ok("ab"), Ok("c"), Err(std::io::Error::other("connection reset")), Ok("never")];
//! let result: Result<(), managed::Error> = scope! {
//!     let d = with!(Download::default())?;
//!     for chunk in chunks.into_iter().metered_into(&mut d.meter).accumulate_into(&mut d.body) {
//!         chunk?; // leaves the scope: the exit sees Outcome::Err and the partial body
//!     }
//!     Ok(())
//! };
//! assert_eq!(result.unwrap_err().to_string(), "connection reset");
//! ```
//!
//! Without a manager, the owner of the accumulator and the meter reads them
//! once the consumer is gone, e.g. after a timeout cancelled it:
//!
//! ```
//! use futures::StreamExt as _;
//! use managed::stream::{Accumulator, AsyncChunksExt, Meter, StreamEnd};
//!
//! let (mut body, mut meter) = (Accumulator::new(), Meter::new());
//! let stalled = futures::stream::iter(["ab", "c"]).chain(futures::stream::pending());
//! let download = async {
//!     let mut s = stalled.metered_into(&mut meter).accumulate_into(&mut body);
//!     while s.next().await.is_some() {}
//! };
//! // A timeout would drop the future here; `now_or_never` polls it once, then drops it.
//! assert!(futures::FutureExt::now_or_never(download).is_none());
//! assert_eq!((body.content(), meter.metrics().chunk_count, meter.end()), ("abc", 2, Some(StreamEnd::Dropped)));
//! ```
//!
//! # Features
//!
//! The module needs `alloc` (the buffers). The clock needs `std`
//! (`std::time::Instant`), so [`Meter`], [`Metered`], [`StreamMetrics`],
//! [`StreamEnd`] and the `.metered()` methods need `std`; without it,
//! accumulation works alone. The `futures::Stream` impls and
//! [`AsyncChunksExt`] need `async` (they use `futures-core` only: any
//! runtime).

mod accumulate;
mod accumulator;
mod chunk;
mod ext;
#[cfg(feature = "std")]
mod metered;
#[cfg(feature = "std")]
mod metrics;

pub use accumulate::Accumulate;
pub use accumulator::{Accumulator, Buffer, ByteAccumulator};
pub use chunk::{Chunk, Fallible, Kind, Plain};
#[cfg(feature = "async")]
pub use ext::AsyncChunksExt;
pub use ext::ChunksExt;
#[cfg(feature = "std")]
pub use metered::{MeterOutput, Metered};
#[cfg(feature = "std")]
pub use metrics::{Meter, StreamEnd, StreamMetrics};

/// The pin projections of the adapters (their only `unsafe`), exercised
/// with a `!Unpin` stream that checks it is never moved; `cargo miri test
/// -p managed-core --lib` runs these.
#[cfg(all(test, feature = "async", feature = "std"))]
mod pin_tests {
    use core::marker::PhantomPinned;
    use core::pin::{pin, Pin};
    use core::task::{Context, Poll, Waker};
    use std::vec::Vec;

    use futures_core::Stream;

    use super::{AsyncChunksExt, StreamEnd};

    /// Yields `Pending` before each chunk, and panics if it was moved
    /// between two polls.
    struct Unmovable {
        chunks: Vec<&'static str>,
        ready: bool,
        address: Option<usize>,
        _pin: PhantomPinned,
    }

    impl Unmovable {
        fn new(chunks: &[&'static str]) -> Self {
            Unmovable {
                chunks: chunks.iter().rev().copied().collect(),
                ready: false,
                address: None,
                _pin: PhantomPinned,
            }
        }
    }

    impl Stream for Unmovable {
        type Item = &'static str;
        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<&'static str>> {
            let here = core::ptr::from_ref::<Self>(&self) as usize;
            // SAFETY: no field is moved out; only plain fields are updated.
            let this = unsafe { self.get_unchecked_mut() };
            assert_eq!(*this.address.get_or_insert(here), here, "a pinned stream was moved");
            if !this.ready {
                this.ready = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            this.ready = false;
            Poll::Ready(this.chunks.pop())
        }
    }

    fn drain<S: Stream>(mut s: Pin<&mut S>) -> Vec<S::Item> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut items = Vec::new();
        loop {
            match s.as_mut().poll_next(&mut cx) {
                Poll::Ready(Some(item)) => items.push(item),
                Poll::Ready(None) => return items,
                Poll::Pending => {}
            }
        }
    }

    #[test]
    fn accumulate_polls_a_pinned_stream_in_place() {
        let mut s = pin!(Unmovable::new(&["a", "bc"]).accumulate());
        assert_eq!(drain(s.as_mut()), ["a", "bc"]);
        assert_eq!(s.content(), "abc");
    }

    #[test]
    fn metered_polls_a_pinned_stream_in_place() {
        let mut s = pin!(Unmovable::new(&["a", "bc"]).metered().accumulate_bytes());
        assert_eq!(drain(s.as_mut()), ["a", "bc"]);
        assert_eq!(s.content(), b"abc");
        let m = s.metrics();
        assert_eq!((m.chunk_count, m.total_bytes), (2, 3));
        assert_eq!(s.end(), Some(StreamEnd::Completed));
    }
}
