//! `managed::stream`: accumulation, metering, failure / panic / cancellation
//! keeping what was received.

use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use managed::stream::{Accumulator, AsyncChunksExt, ByteAccumulator, ChunksExt, Meter, StreamEnd, StreamMetrics};
use managed::{scope, with, AsyncManage, Guard, Manage, Outcome};

// ---------------------------------------------------------------- Accumulator

#[test]
fn accumulator_keeps_every_chunk_in_order() {
    let mut acc = Accumulator::new();
    assert_eq!(acc.content(), "");
    for chunk in ["He", "", "llo, ", "wörld"] {
        acc.push(chunk);
    }
    assert_eq!(acc.content(), "Hello, wörld");
    assert_eq!(acc.len(), "Hello, wörld".len());
    assert_eq!(acc.finalize(), "Hello, wörld");
}

#[test]
fn accumulation_is_linear_not_quadratic() {
    // O(n) total means the buffer grows geometrically: a stream of n one-byte
    // chunks reallocates O(log n) times, each copying at most what is there.
    const N: usize = 1 << 18;
    let mut acc = Accumulator::new();
    let mut bytes = ByteAccumulator::new();
    let (mut growths, mut byte_growths) = (0, 0);
    let (mut cap, mut byte_cap) = (acc.capacity(), bytes.capacity());
    for _ in 0..N {
        acc.push("x");
        bytes.push(b"x");
        if acc.capacity() != cap {
            growths += 1;
            cap = acc.capacity();
        }
        if bytes.capacity() != byte_cap {
            byte_growths += 1;
            byte_cap = bytes.capacity();
        }
    }
    assert_eq!((acc.len(), bytes.len()), (N, N));
    assert!(growths <= 20 && byte_growths <= 20, "{growths} / {byte_growths} reallocations for {N} pushes");
}

#[test]
fn finalize_does_not_copy() {
    let mut acc = Accumulator::with_capacity(64);
    acc.push("abc");
    let ptr = acc.content().as_ptr();
    let text = acc.finalize();
    assert_eq!(text.as_ptr(), ptr);
}

// ---------------------------------------------------------------- iterator adapters

#[test]
fn accumulate_passes_items_on_and_keeps_the_content() {
    let mut acc = vec![String::from("a"), String::from("bc")].into_iter().accumulate();
    assert_eq!(acc.next().as_deref(), Some("a"));
    assert_eq!(acc.content(), "a");
    assert_eq!(acc.next_with_content(), Some((String::from("bc"), "abc")));
    assert_eq!(acc.next(), None);
    assert!(acc.is_finished());
    assert_eq!(acc.into_content(), "abc");
}

#[test]
fn accumulate_bytes_takes_binary_chunks() {
    let mut acc = [vec![0u8, 159], vec![146, 150]].into_iter().accumulate_bytes();
    assert_eq!(acc.by_ref().count(), 2);
    assert_eq!(acc.content(), &[0, 159, 146, 150]);
    assert_eq!(acc.into_content(), vec![0, 159, 146, 150]);
}

#[test]
fn metered_counts_chunks_bytes_and_times() {
    let delay = Duration::from_millis(5);
    let mut s = ["ab", "", "cde"]
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                std::thread::sleep(delay);
            }
            c
        })
        .metered();
    assert_eq!(s.metrics(), StreamMetrics::default());
    assert_eq!(s.end(), None);
    assert_eq!(s.by_ref().count(), 3);
    let m = s.metrics();
    assert_eq!((m.chunk_count, m.total_bytes), (3, 5));
    let first = m.time_to_first_chunk.expect("a chunk came");
    assert!(first >= delay, "time to first chunk {first:?} < {delay:?}");
    assert!(m.total_time >= first);
    assert_eq!(s.end(), Some(StreamEnd::Completed));
    // Final once ended: the total time no longer moves.
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(s.metrics(), m);
}

#[test]
fn metrics_are_a_live_snapshot_while_running() {
    let mut s = ["a", "b"].into_iter().metered();
    s.next();
    let early = s.metrics();
    assert_eq!((early.chunk_count, s.end()), (1, None));
    std::thread::sleep(Duration::from_millis(2));
    assert!(s.metrics().total_time >= early.total_time + Duration::from_millis(2));
}

#[test]
fn metered_and_accumulate_compose_both_ways() {
    let mut a = ["ab", "c"].into_iter().metered().accumulate();
    a.by_ref().for_each(drop);
    assert_eq!((a.content(), a.metrics().chunk_count, a.metrics().total_bytes), ("abc", 2, 3));

    let mut b = ["ab", "c"].into_iter().accumulate().metered();
    b.by_ref().for_each(drop);
    assert_eq!((b.content(), b.metrics().chunk_count, b.end()), ("abc", 2, Some(StreamEnd::Completed)));
}

/// Every accessor of both adapters, read through whichever is outside:
/// content `$content`, `$chunks` chunks metered, ended as `$end`.
macro_rules! assert_reaches_both {
    ($s:expr, $content:expr, $chunks:expr, $end:expr) => {{
        let s = &$s;
        let end: Option<StreamEnd> = $end;
        assert_eq!(s.content(), $content);
        assert_eq!(s.buffer().content(), $content);
        assert_eq!((s.metrics().chunk_count, s.meter().metrics().chunk_count), ($chunks, $chunks));
        assert_eq!((s.end(), s.meter().end()), (end, end));
        assert_eq!(s.is_finished(), end.is_some());
    }};
}

/// Takes `[Ok("ab"), Ok("c"), Err(..), ..]` through the adapters `$s`,
/// checking every accessor of both on the way; the iterator form also takes
/// its first item with `next_with_content`.
macro_rules! walk_reaching_both {
    (iterator $s:expr) => {{
        let s = &mut $s;
        assert_reaches_both!(s, "", 0, None);
        assert_eq!(s.next_with_content(), Some((Ok("ab"), "ab")));
        assert_reaches_both!(s, "ab", 1, None);
        s.by_ref().for_each(drop);
        assert_reaches_both!(s, "abc", 2, Some(StreamEnd::Failed));
    }};
    (stream $s:expr) => {{
        let s = &mut $s;
        assert_reaches_both!(s, "", 0, None);
        assert_eq!(s.next().await, Some(Ok("ab")));
        assert_reaches_both!(s, "ab", 1, None);
        while s.next().await.is_some() {}
        assert_reaches_both!(s, "abc", 2, Some(StreamEnd::Failed));
    }};
}

/// `.metered().accumulate()` and `.accumulate().metered()`, owned or
/// `_into`, on an iterator: the outer adapter forwards what the inner one
/// offers, as each offers it alone.
#[test]
fn either_order_reaches_every_accessor_of_both_adapters() {
    let chunks = || [Ok("ab"), Ok("c"), Err("reset"), Ok("never")].into_iter();

    let mut s = chunks().metered().accumulate();
    walk_reaching_both!(iterator s);
    assert_eq!(s.into_content(), "abc");

    let mut s = chunks().accumulate().metered();
    walk_reaching_both!(iterator s);
    assert_eq!(s.into_content(), "abc");

    let (mut acc, mut meter) = (Accumulator::new(), Meter::new());
    walk_reaching_both!(iterator chunks().metered_into(&mut meter).accumulate_into(&mut acc));
    assert_eq!((acc.content(), meter.end()), ("abc", Some(StreamEnd::Failed)));

    let (mut acc, mut meter) = (Accumulator::new(), Meter::new());
    walk_reaching_both!(iterator chunks().accumulate_into(&mut acc).metered_into(&mut meter));
    assert_eq!((acc.content(), meter.end()), ("abc", Some(StreamEnd::Failed)));

    // Bytes.
    let mut s = [&b"\x00"[..], &b"\xff"[..]].into_iter().accumulate_bytes().metered();
    s.by_ref().for_each(drop);
    assert_reaches_both!(s, &b"\x00\xff"[..], 2, Some(StreamEnd::Completed));
    assert_eq!(s.into_content(), [0, 255]);
}

/// The same on `futures::Stream`s.
#[test]
fn either_order_reaches_every_accessor_of_both_adapters_on_streams() {
    futures::executor::block_on(async {
        let chunks = || futures::stream::iter([Ok("ab"), Ok("c"), Err("reset")]);

        let mut s = chunks().metered().accumulate();
        walk_reaching_both!(stream s);
        assert_eq!(s.into_content(), "abc");

        let mut s = chunks().accumulate().metered();
        walk_reaching_both!(stream s);
        assert_eq!(s.into_content(), "abc");

        let (mut acc, mut meter) = (Accumulator::new(), Meter::new());
        walk_reaching_both!(stream chunks().metered_into(&mut meter).accumulate_into(&mut acc));
        assert_eq!((acc.content(), meter.end()), ("abc", Some(StreamEnd::Failed)));

        let (mut acc, mut meter) = (Accumulator::new(), Meter::new());
        walk_reaching_both!(stream chunks().accumulate_into(&mut acc).metered_into(&mut meter));
        assert_eq!((acc.content(), meter.end()), ("abc", Some(StreamEnd::Failed)));
    });
}

/// Taking the content or the stream out of a metered adapter before the
/// stream ended ends the metrics as dropped, as dropping the adapter does.
#[test]
fn into_content_and_into_inner_end_the_metrics_as_dropped() {
    let mut meter = Meter::new();
    let mut s = ["ab", "c"].into_iter().accumulate().metered_into(&mut meter);
    s.next();
    assert_eq!(s.into_content(), "ab");
    assert_eq!((meter.metrics().chunk_count, meter.end()), (1, Some(StreamEnd::Dropped)));

    let mut meter = Meter::new();
    let mut s = ["ab", "c"].into_iter().metered_into(&mut meter);
    s.next();
    let rest: Vec<_> = s.into_inner().collect();
    assert_eq!(rest, ["c"], "the stream is given back where it was");
    assert_eq!((meter.metrics().chunk_count, meter.end()), (1, Some(StreamEnd::Dropped)));

    // Finished first: it stays completed.
    let mut meter = Meter::new();
    let mut s = ["ab"].into_iter().accumulate().metered_into(&mut meter);
    s.by_ref().for_each(drop);
    assert_eq!(s.into_content(), "ab");
    assert_eq!(meter.end(), Some(StreamEnd::Completed));
}

#[test]
fn first_error_is_surfaced_and_what_came_before_is_kept() {
    let items: Vec<Result<&str, String>> = vec![Ok("ab"), Ok("c"), Err("reset".into()), Ok("lost"), Err("x".into())];
    let mut s = items.into_iter().metered().accumulate();
    let mut seen = Vec::new();
    for item in s.by_ref() {
        seen.push(item);
    }
    assert_eq!(seen, vec![Ok("ab"), Ok("c"), Err("reset".to_string())]);
    assert_eq!(s.content(), "abc");
    let m = s.metrics();
    assert_eq!((m.chunk_count, m.total_bytes), (2, 3));
    assert!(s.is_finished());
    assert_eq!(s.next(), None);
}

#[test]
fn fallible_byte_items_work_with_io_errors() {
    let items = vec![Ok(vec![1u8, 2]), Err(std::io::Error::other("broken pipe")), Ok(vec![3])];
    let mut s = items.into_iter().accumulate_bytes().metered();
    let err = s.by_ref().find_map(Result::err).expect("the error is passed on");
    assert_eq!(err.to_string(), "broken pipe");
    assert_eq!((s.content(), s.end()), (&[1u8, 2][..], Some(StreamEnd::Failed)));
}

#[test]
fn a_dropped_stream_keeps_final_metrics_in_a_borrowed_meter() {
    let mut meter = Meter::new();
    let mut acc = Accumulator::new();
    for chunk in ["a", "b", "c"].into_iter().metered_into(&mut meter).accumulate_into(&mut acc) {
        if chunk == "b" {
            break;
        }
    }
    assert_eq!(acc.content(), "ab");
    let m = meter.metrics();
    assert_eq!((m.chunk_count, meter.end()), (2, Some(StreamEnd::Dropped)));
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(meter.metrics(), m, "final once dropped");
}

#[test]
fn a_meter_given_to_a_retry_measures_the_new_stream_not_the_failed_one() {
    let mut meter = Meter::new();
    let failed: [Result<&str, &str>; 2] = [Ok("ab"), Err("connection reset")];
    for chunk in failed.into_iter().metered_into(&mut meter) {
        if chunk.is_err() {
            break;
        }
    }
    assert_eq!(meter.end(), Some(StreamEnd::Failed));
    let first_total = meter.metrics().total_time;

    std::thread::sleep(Duration::from_millis(5));
    let retried: [Result<&str, &str>; 2] = [Ok("ab"), Ok("cd")];
    for chunk in retried.into_iter().metered_into(&mut meter) {
        chunk.expect("the retry succeeds");
    }
    // The retry's end and figures, not the failed attempt's frozen ones.
    assert_eq!(meter.end(), Some(StreamEnd::Completed));
    let m = meter.metrics();
    assert_eq!((m.chunk_count, m.total_bytes), (2, 4));
    assert!(m.total_time < first_total + Duration::from_millis(5), "the clock restarted: {m:?}");

    // A meter started and counted by hand, not ended, keeps counting.
    let mut by_hand = Meter::new();
    by_hand.record(3);
    ["a"].into_iter().metered_into(&mut by_hand).for_each(drop);
    assert_eq!((by_hand.metrics().chunk_count, by_hand.metrics().total_bytes), (2, 4));
}

// ---------------------------------------------------------------- async adapters

#[test]
fn async_streams_are_accumulated_and_metered() {
    futures::executor::block_on(async {
        let mut s = futures::stream::iter(["ab", "c"]).metered().accumulate();
        let mut items = Vec::new();
        while let Some(item) = s.next().await {
            items.push(item);
        }
        assert_eq!(items, ["ab", "c"]);
        assert_eq!((s.content(), s.metrics().total_bytes, s.metrics().chunk_count), ("abc", 3, 2));
        assert_eq!(s.into_content(), "abc");
    });
}

#[test]
fn async_fallible_stream_stops_at_first_error() {
    futures::executor::block_on(async {
        let items: [Result<&[u8], &str>; 3] = [Ok(b"ab"), Err("reset"), Ok(b"c")];
        let mut s = futures::stream::iter(items).accumulate_bytes().metered();
        assert_eq!(s.next().await, Some(Ok(&b"ab"[..])));
        assert_eq!(s.next().await, Some(Err("reset")));
        assert_eq!(s.next().await, None);
        assert_eq!((s.content(), s.end()), (&b"ab"[..], Some(StreamEnd::Failed)));
    });
}

/// A stream that is `!Unpin` (like an `async_stream` one) and yields
/// `Pending` once before each chunk: the adapters must poll it in place.
struct Unmovable {
    chunks: Vec<&'static str>,
    ready: bool,
    address: Option<usize>,
    _pin: std::marker::PhantomPinned,
}

impl Unmovable {
    fn new(chunks: &[&'static str]) -> Self {
        Unmovable {
            chunks: chunks.iter().rev().copied().collect(),
            ready: false,
            address: None,
            _pin: std::marker::PhantomPinned,
        }
    }
}

impl futures::Stream for Unmovable {
    type Item = &'static str;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<&'static str>> {
        let here = std::ptr::from_ref::<Self>(&self) as usize;
        // SAFETY: nothing is moved out; the test only reads and updates fields.
        let this = unsafe { self.get_unchecked_mut() };
        // A pinned value never moves: the adapter must not have moved it.
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

#[test]
fn not_unpin_stream_is_accumulated_in_place() {
    futures::executor::block_on(async {
        let mut s = std::pin::pin!(Unmovable::new(&["a", "b"]).accumulate());
        let mut n = 0;
        while s.next().await.is_some() {
            n += 1;
        }
        assert_eq!((n, s.content()), (2, "ab"));
    });
}

#[test]
fn not_unpin_stream_is_metered_in_place() {
    futures::executor::block_on(async {
        let mut s = std::pin::pin!(Unmovable::new(&["a", "bc"]).metered());
        while s.next().await.is_some() {}
        let m = s.metrics();
        assert_eq!((m.chunk_count, m.total_bytes, s.end()), (2, 3, Some(StreamEnd::Completed)));
    });
}

// ---------------------------------------------------------------- failure, panic, cancellation
//
// A manager owns the accumulator and the meter; the block streams into them
// through `&mut`; its exit reads what was received, whatever ended the block.

#[derive(Clone, Debug, PartialEq)]
struct Seen {
    outcome: &'static str,
    content: String,
    metrics: StreamMetrics,
    end: Option<StreamEnd>,
}

#[derive(Default)]
struct Download {
    body: Accumulator,
    meter: Meter,
    seen: Arc<Mutex<Option<Seen>>>,
}

impl Manage for Download {
    type Target = Self;
    type Error = Infallible;
    fn enter(&mut self) -> Result<&mut Self, Infallible> {
        Ok(self)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Infallible> {
        let outcome = match outcome {
            o if o.is_ok() => "ok",
            o if o.is_err() => "err",
            o if o.is_panic() => "panic",
            _ => "cancelled",
        };
        self.record(outcome);
        Ok(())
    }
}

impl Download {
    /// What the exit saw: everything received so far, and the metrics.
    fn record(self, outcome: &'static str) {
        let seen =
            Seen { outcome, content: self.body.finalize(), metrics: self.meter.metrics(), end: self.meter.end() };
        *self.seen.lock().unwrap() = Some(seen);
    }
}

/// [`Download`] as an async manager whose `exit_cancelled` (no awaiting
/// possible) records what was received, tagged `"exit_cancelled"`.
struct AsyncDownload(Download);

impl AsyncManage for AsyncDownload {
    type Target = Download;
    type Error = Infallible;
    async fn enter(&mut self) -> Result<&mut Download, Infallible> {
        Ok(&mut self.0)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Infallible> {
        self.0.exit(outcome)
    }
    fn exit_cancelled(self) {
        self.0.record("exit_cancelled");
    }
}

fn seen(slot: &Arc<Mutex<Option<Seen>>>) -> Seen {
    slot.lock().unwrap().clone().expect("the exit ran")
}

#[test]
fn failed_block_keeps_partial_content_and_metrics_for_the_exit() {
    let slot = Arc::new(Mutex::new(None));
    let mut guard = Guard::new(Download { seen: slot.clone(), ..Download::default() });
    let d = guard.enter().unwrap();
    let mut body = || -> Result<(), String> {
        let chunks = [Ok("ab"), Ok("c"), Err("connection reset".to_string()), Ok("lost")];
        for chunk in chunks.into_iter().metered_into(&mut d.meter).accumulate_into(&mut d.body) {
            chunk?;
        }
        Ok(())
    };
    let result = body();
    let err = result.unwrap_err();
    guard.exit(&Outcome::err(&err)).unwrap();
    let seen = seen(&slot);
    assert_eq!((seen.outcome, seen.content.as_str(), seen.end), ("err", "abc", Some(StreamEnd::Failed)));
    assert_eq!((seen.metrics.chunk_count, seen.metrics.total_bytes), (2, 3));
}

#[test]
fn panicking_block_keeps_partial_content_and_metrics_for_the_exit() {
    let slot = Arc::new(Mutex::new(None));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut guard = Guard::new(Download { seen: slot.clone(), ..Download::default() });
        let d = guard.enter().unwrap();
        for chunk in ["ab", "c", "boom", "lost"].into_iter().metered_into(&mut d.meter).accumulate_into(&mut d.body) {
            assert_ne!(chunk, "boom", "consumer panicked mid-stream");
        }
        guard.exit(&Outcome::Ok).unwrap();
    }));
    assert!(result.is_err());
    // The guard, dropped while unwinding, ran the exit with a panic outcome.
    let seen = seen(&slot);
    assert_eq!((seen.outcome, seen.content.as_str(), seen.end), ("panic", "abcboom", Some(StreamEnd::Dropped)));
    assert_eq!((seen.metrics.chunk_count, seen.metrics.total_bytes), (3, 7));
}

#[test]
fn cancelled_future_keeps_partial_content_and_metrics_for_the_exit() {
    let slot = Arc::new(Mutex::new(None));
    let mut fut = Box::pin(async {
        let mut guard = Guard::new(Download { seen: slot.clone(), ..Download::default() });
        let d = guard.enter().unwrap();
        // Two chunks arrive, then the peer goes silent: the future waits forever.
        let source = futures::stream::iter(["ab", "c"]).chain(futures::stream::pending());
        let mut s = source.metered_into(&mut d.meter).accumulate_into(&mut d.body);
        while s.next().await.is_some() {}
        drop(s);
        guard.exit(&Outcome::Ok).unwrap();
    });
    assert!(fut.as_mut().now_or_never().is_none(), "the stream is stalled");
    assert!(slot.lock().unwrap().is_none(), "nothing ran yet");
    drop(fut); // cancellation: the future is dropped mid-stream
    let seen = seen(&slot);
    // A hand-held guard cannot tell cancellation from success (a dropped guard
    // exits with Ok); the content and the metrics are all there.
    assert_eq!((seen.content.as_str(), seen.end), ("abc", Some(StreamEnd::Dropped)));
    assert_eq!((seen.metrics.chunk_count, seen.metrics.total_bytes), (2, 3));
}

#[test]
fn code_after_a_timed_out_future_reads_partial_content_and_metrics() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let mut acc = Accumulator::new();
    let mut meter = Meter::new();
    rt.block_on(async {
        let ticks = futures::stream::unfold(0u32, |i| async move {
            if i >= 2 {
                // The peer stalls after two chunks.
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            Some((format!("chunk{i};"), i + 1))
        });
        let consume = async {
            let mut s = std::pin::pin!(ticks.metered_into(&mut meter).accumulate_into(&mut acc));
            while s.next().await.is_some() {}
        };
        let timed_out = tokio::time::timeout(Duration::from_millis(60), consume).await;
        assert!(timed_out.is_err());
    });
    assert_eq!(acc.content(), "chunk0;chunk1;");
    let m = meter.metrics();
    assert_eq!((m.chunk_count, m.total_bytes, meter.end()), (2, 14, Some(StreamEnd::Dropped)));
    assert!(m.time_to_first_chunk.is_some_and(|t| t >= Duration::from_millis(2)));
    assert!(m.total_time >= Duration::from_millis(60));
}

// ---------------------------------------------------------------- tracing

#[cfg(feature = "tracing")]
mod tracing_events {
    use super::*;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    /// The fields of one event, by name, formatted with `Debug`.
    type Fields = Vec<(String, String)>;

    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Fields>>>);

    struct Visitor<'a>(&'a mut Fields);
    impl Visit for Visitor<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push((field.name().to_string(), format!("{value:?}")));
        }
    }

    impl Subscriber for Recorder {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            if event.metadata().target() == "managed::stream" {
                let mut fields = Vec::new();
                event.record(&mut Visitor(&mut fields));
                self.0.lock().unwrap().push(fields);
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    fn field<'a>(event: &'a [(String, String)], name: &str) -> &'a str {
        &event.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no field {name} in {event:?}")).1
    }

    #[test]
    fn one_event_per_stream_end() {
        let recorder = Recorder::default();
        tracing::subscriber::with_default(recorder.clone(), || {
            let mut s = ["ab", "c"].into_iter().metered();
            s.by_ref().for_each(drop);
            drop(s); // already ended: no second event
            let mut failed = [Ok("a"), Err("reset")].into_iter().metered();
            failed.by_ref().for_each(drop);
            let mut dropped = ["x", "y"].into_iter().metered();
            dropped.next();
        });
        let events = recorder.0.lock().unwrap().clone();
        assert_eq!(events.len(), 3, "{events:?}");
        assert_eq!(field(&events[0], "end"), "\"completed\"");
        assert_eq!(field(&events[0], "chunk_count"), "2");
        assert_eq!(field(&events[0], "total_bytes"), "3");
        assert_eq!(field(&events[1], "end"), "\"failed\"");
        assert_eq!(field(&events[2], "end"), "\"dropped\"");
        assert_eq!(field(&events[2], "chunk_count"), "1");
    }
}

// ---------------------------------------------------------------- the same under `scope!`

#[test]
fn failed_scope_keeps_partial_content_and_metrics_for_the_exit() {
    let slot = Arc::new(Mutex::new(None));
    let chunks = [Ok("ab"), Ok("c"), Err(std::io::Error::other("connection reset")), Ok("lost")];
    let result: Result<usize, managed::Error> = scope! {
        let d = with!(Download { seen: slot.clone(), ..Download::default() })?;
        for chunk in chunks.into_iter().metered_into(&mut d.meter).accumulate_into(&mut d.body) {
            chunk?;
        }
        Ok(d.body.len())
    };
    let err = result.expect_err("the stream failed");
    assert_eq!(err.to_string(), "connection reset");
    let seen = seen(&slot);
    assert_eq!((seen.outcome, seen.content.as_str(), seen.end), ("err", "abc", Some(StreamEnd::Failed)));
    assert_eq!((seen.metrics.chunk_count, seen.metrics.total_bytes), (2, 3));
}

#[test]
fn consumer_returning_early_from_a_scope_keeps_partial_content_for_the_exit() {
    let slot = Arc::new(Mutex::new(None));
    let result: Result<(), managed::Error> = scope! {
        let d = with!(Download { seen: slot.clone(), ..Download::default() })?;
        for chunk in ["ab", "c", "too large", "lost"].into_iter().metered_into(&mut d.meter).accumulate_into(&mut d.body) {
            if chunk.len() > 4 {
                return Err(managed::Error::msg("chunk too large"));
            }
        }
        Ok(())
    };
    assert_eq!(result.expect_err("returned early").to_string(), "chunk too large");
    let seen = seen(&slot);
    // The adapter was dropped when the block returned: metrics final, "dropped".
    assert_eq!((seen.outcome, seen.content.as_str(), seen.end), ("err", "abctoo large", Some(StreamEnd::Dropped)));
    assert_eq!(seen.metrics.chunk_count, 3);
}

#[test]
fn panicking_scope_keeps_partial_content_and_metrics_for_the_exit() {
    let slot = Arc::new(Mutex::new(None));
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let r: Result<(), managed::Error> = scope! {
            let d = with!(Download { seen: slot.clone(), ..Download::default() })?;
            for chunk in ["ab", "c", "boom", "lost"].into_iter().metered_into(&mut d.meter).accumulate_into(&mut d.body) {
                assert_ne!(chunk, "boom", "consumer panicked mid-stream");
            }
            Ok(())
        };
        r
    }));
    assert!(caught.is_err(), "the panic resumes after the exits");
    let seen = seen(&slot);
    assert_eq!((seen.outcome, seen.content.as_str(), seen.end), ("panic", "abcboom", Some(StreamEnd::Dropped)));
    assert_eq!((seen.metrics.chunk_count, seen.metrics.total_bytes), (3, 7));
}

// ---------------------------------------------------------------- cancelled under `scope!(async)`

#[test]
fn cancelled_async_scope_gives_exit_cancelled_the_partial_content_and_metrics() {
    let slot = Arc::new(Mutex::new(None));
    let mut fut = Box::pin(scope!(async {
        let d = with!(AsyncDownload(Download { seen: slot.clone(), ..Download::default() }))?;
        // Two chunks arrive, then the peer goes silent: the scope waits forever.
        let source = futures::stream::iter(["ab", "c"]).chain(futures::stream::pending());
        let mut s = source.metered_into(&mut d.meter).accumulate_into(&mut d.body);
        while s.next().await.is_some() {}
        drop(s);
        Ok::<_, managed::Error>(d.body.len())
    }));
    for _ in 0..3 {
        assert!(fut.as_mut().now_or_never().is_none(), "the stream is stalled");
    }
    assert!(slot.lock().unwrap().is_none(), "no exit ran while the scope was pending");
    drop(fut); // cancellation: the scope's future is dropped mid-stream
    let seen = seen(&slot);
    assert_eq!((seen.outcome, seen.content.as_str(), seen.end), ("exit_cancelled", "abc", Some(StreamEnd::Dropped)));
    assert_eq!((seen.metrics.chunk_count, seen.metrics.total_bytes), (2, 3));
}

#[test]
fn timed_out_async_scope_exits_a_sync_manager_as_cancelled_with_the_partial_content() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let slot = Arc::new(Mutex::new(None));
    rt.block_on(async {
        let ticks = futures::stream::unfold(0u32, |i| async move {
            if i >= 2 {
                // The peer stalls after two chunks.
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
            Some((format!("chunk{i};"), i + 1))
        });
        let consume = scope!(async {
            // A sync manager: in an async scope it is exited with `Outcome::Cancelled`.
            let d = with!(Download { seen: slot.clone(), ..Download::default() })?;
            let mut s = std::pin::pin!(ticks.metered_into(&mut d.meter).accumulate_into(&mut d.body));
            while s.next().await.is_some() {}
            Ok::<_, managed::Error>(())
        });
        let timed_out = tokio::time::timeout(Duration::from_millis(40), consume).await;
        assert!(timed_out.is_err(), "the stalled stream timed out");
    });
    let seen = seen(&slot);
    assert_eq!(
        (seen.outcome, seen.content.as_str(), seen.end),
        ("cancelled", "chunk0;chunk1;", Some(StreamEnd::Dropped))
    );
    let m = seen.metrics;
    assert_eq!((m.chunk_count, m.total_bytes), (2, 14));
    assert!(m.total_time >= Duration::from_millis(40));
}
