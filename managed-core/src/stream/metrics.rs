//! Stream metrics: time to first chunk, total time, chunk and byte counts.

use core::time::Duration;
use std::time::Instant;

/// A snapshot of a stream's metrics.
///
/// Taken from a running stream, `total_time` is the time so far; once the
/// stream has ended (see [`StreamEnd`]) the snapshot is final and does not
/// change any more. Times are measured from the first time the stream was
/// polled (not from the adapter's creation), so `time_to_first_chunk` is
/// the wait for the first chunk.
///
/// ```
/// use managed::stream::ChunksExt;
///
/// let mut stream = ["ab", "cde"].into_iter().metered();
/// stream.by_ref().for_each(drop);
/// let m = stream.metrics();
/// assert_eq!((m.chunk_count, m.total_bytes), (2, 5));
/// assert!(m.time_to_first_chunk.is_some_and(|t| t <= m.total_time));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StreamMetrics {
    /// From the first poll to the first chunk; `None` while no chunk came.
    pub time_to_first_chunk: Option<Duration>,
    /// From the first poll to the end (or to now, while the stream runs).
    pub total_time: Duration,
    /// Chunks received (error items are not chunks).
    pub chunk_count: u64,
    /// Bytes received, summed over the chunks.
    pub total_bytes: u64,
}

/// How a metered stream ended.
///
/// ```
/// use managed::stream::{ChunksExt, StreamEnd};
///
/// let mut s = [Ok("a"), Err("reset")].into_iter().metered();
/// assert_eq!(s.end(), None);
/// s.by_ref().for_each(drop);
/// assert_eq!(s.end(), Some(StreamEnd::Failed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamEnd {
    /// The stream returned its last item (`None`).
    Completed,
    /// The stream yielded an `Err` item (the adapter passes it on and ends).
    Failed,
    /// The adapter was dropped before the stream ended: the consumer stopped
    /// early, returned an error, panicked, or its future was cancelled.
    Dropped,
}

impl StreamEnd {
    /// `"completed"`, `"failed"` or `"dropped"`.
    ///
    /// ```
    /// assert_eq!(managed::stream::StreamEnd::Dropped.as_str(), "dropped");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            StreamEnd::Completed => "completed",
            StreamEnd::Failed => "failed",
            StreamEnd::Dropped => "dropped",
        }
    }
}

/// The metrics state of one stream: what [`Metered`](super::Metered) updates.
///
/// `.metered()` keeps a meter inside the adapter; `.metered_into(&mut meter)`
/// also writes the final state into one you own when the stream ends, fails
/// or the adapter is dropped, so the metrics stay readable after the adapter
/// is gone (dropped, or inside a cancelled future). A meter measures one
/// stream; its first end is final. Given to `.metered_into` again once
/// ended (a retry), it measures the new stream from zero.
///
/// It can also be driven by hand:
///
/// ```
/// use managed::stream::{Meter, StreamEnd};
///
/// let mut meter = Meter::new();
/// meter.start();
/// meter.record(10);
/// meter.record(5);
/// meter.finish(StreamEnd::Completed);
/// let m = meter.metrics();
/// assert_eq!((m.chunk_count, m.total_bytes), (2, 15));
/// assert_eq!(meter.end(), Some(StreamEnd::Completed));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Meter {
    started: Option<Instant>,
    time_to_first_chunk: Option<Duration>,
    ended: Option<(Duration, StreamEnd)>,
    chunk_count: u64,
    total_bytes: u64,
}

impl Meter {
    /// A meter for a stream not yet polled.
    ///
    /// ```
    /// let meter = managed::stream::Meter::new();
    /// assert_eq!(meter.metrics(), managed::stream::StreamMetrics::default());
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Meter { started: None, time_to_first_chunk: None, ended: None, chunk_count: 0, total_bytes: 0 }
    }

    /// Starts the clock, if not started yet (the adapters call it on every
    /// poll until the first chunk; only the first call counts).
    ///
    /// ```
    /// let mut meter = managed::stream::Meter::new();
    /// meter.start();
    /// std::thread::sleep(std::time::Duration::from_millis(2));
    /// assert!(meter.metrics().total_time >= std::time::Duration::from_millis(2));
    /// ```
    #[inline]
    pub fn start(&mut self) {
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
    }

    /// Counts a chunk of `bytes` bytes (the first one also sets the time to
    /// first chunk; starts the clock if needed).
    ///
    /// ```
    /// let mut meter = managed::stream::Meter::new();
    /// meter.record(3);
    /// assert_eq!(meter.metrics().chunk_count, 1);
    /// assert!(meter.metrics().time_to_first_chunk.is_some());
    /// ```
    #[inline]
    pub fn record(&mut self, bytes: usize) {
        if self.chunk_count == 0 {
            self.start();
            self.time_to_first_chunk = Some(self.elapsed());
        }
        self.chunk_count += 1;
        self.total_bytes += bytes as u64;
    }

    // Performance note: every method a hot path reaches is `#[inline]` and
    // hands the out-of-line helpers (`since`, `emit`) plain values, never
    // `&self`. A reference passed to a function that is not inlined makes the
    // whole adapter "escape", and LLVM then keeps its counters in memory
    // instead of registers: measured at +1 ns per chunk (see BENCHMARKS.md).

    /// `start`, checked on the chunk count the hot path loads anyway (the
    /// clock matters only until the first chunk).
    #[inline]
    pub(crate) fn start_if_first(&mut self) {
        if self.chunk_count == 0 {
            self.start();
        }
    }

    #[inline]
    fn elapsed(&self) -> Duration {
        match self.started {
            Some(started) => since(started),
            None => Duration::ZERO,
        }
    }

    /// Ends the stream: freezes `total_time` and, with the `tracing`
    /// feature, emits the metrics as one event (target `managed::stream`,
    /// level INFO). Only the first call counts.
    ///
    /// ```
    /// use managed::stream::{Meter, StreamEnd};
    ///
    /// let mut meter = Meter::new();
    /// meter.finish(StreamEnd::Dropped);
    /// meter.finish(StreamEnd::Completed);
    /// assert_eq!(meter.end(), Some(StreamEnd::Dropped));
    /// ```
    #[inline]
    pub fn finish(&mut self, end: StreamEnd) {
        if self.ended.is_some() {
            return;
        }
        self.ended = Some((self.elapsed(), end));
        #[cfg(feature = "tracing")]
        emit(self.metrics(), end);
    }

    /// How the stream ended, or `None` while it runs.
    ///
    /// ```
    /// assert_eq!(managed::stream::Meter::new().end(), None);
    /// ```
    #[inline]
    pub fn end(&self) -> Option<StreamEnd> {
        self.ended.map(|(_, end)| end)
    }

    /// The metrics now (final once [`end`](Meter::end) is `Some`).
    ///
    /// ```
    /// let mut meter = managed::stream::Meter::new();
    /// meter.record(4);
    /// assert_eq!(meter.metrics().total_bytes, 4);
    /// ```
    #[inline]
    pub fn metrics(&self) -> StreamMetrics {
        StreamMetrics {
            time_to_first_chunk: self.time_to_first_chunk,
            total_time: self.ended.map_or_else(|| self.elapsed(), |(total, _)| total),
            chunk_count: self.chunk_count,
            total_bytes: self.total_bytes,
        }
    }
}

/// Time since `started` (by value: see the performance note above).
#[inline(never)]
fn since(started: Instant) -> Duration {
    Instant::now().saturating_duration_since(started)
}

/// The one `tracing` event of a stream's end.
#[cfg(feature = "tracing")]
#[inline(never)]
fn emit(m: StreamMetrics, end: StreamEnd) {
    let micros = |t: Duration| u64::try_from(t.as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "managed::stream",
        end = end.as_str(),
        chunk_count = m.chunk_count,
        total_bytes = m.total_bytes,
        time_to_first_chunk_us = m.time_to_first_chunk.map(micros),
        total_time_us = micros(m.total_time),
        "stream {}",
        end.as_str()
    );
}
