//! Feature `tracing`: `managed::tracing`'s span manager, observed through a
//! subscriber that records every span's fields, every record, and every
//! enter and exit. Each path sets `outcome`, `error` and `elapsed_us` on the
//! span.
#![cfg(feature = "tracing")]

use managed::testing::cancel_after;
use managed::{scope, with, Error};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// What the subscriber saw of one span.
#[derive(Default, Debug, Clone)]
struct SpanSeen {
    name: &'static str,
    fields: BTreeMap<String, String>,
    enters: u32,
    exits: u32,
    /// Messages of events emitted while the span was entered.
    events: Vec<String>,
}

#[derive(Default)]
struct Seen {
    spans: Vec<SpanSeen>,
    stack: Vec<u64>,
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    next: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);
impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut span = SpanSeen { name: attrs.metadata().name(), ..SpanSeen::default() };
        attrs.record(&mut Fields(&mut span.fields));
        self.seen.lock().expect("seen").spans.push(span);
        Id::from_u64(id)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut seen = self.seen.lock().expect("seen");
        values.record(&mut Fields(&mut seen.spans[usize::try_from(id.into_u64()).expect("id") - 1].fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let mut seen = self.seen.lock().expect("seen");
        if let Some(&top) = seen.stack.last() {
            let message = fields.remove("message").unwrap_or_default();
            seen.spans[usize::try_from(top).expect("id") - 1].events.push(message);
        }
    }
    fn enter(&self, id: &Id) {
        let mut seen = self.seen.lock().expect("seen");
        seen.stack.push(id.into_u64());
        seen.spans[usize::try_from(id.into_u64()).expect("id") - 1].enters += 1;
    }
    fn exit(&self, id: &Id) {
        let mut seen = self.seen.lock().expect("seen");
        assert_eq!(seen.stack.pop(), Some(id.into_u64()), "exits in the order of enters");
        seen.spans[usize::try_from(id.into_u64()).expect("id") - 1].exits += 1;
    }
}

impl Recorder {
    /// The only span named `name`.
    fn span(&self, name: &str) -> SpanSeen {
        let seen = self.seen.lock().expect("seen");
        let mut found = seen.spans.iter().filter(|s| s.name == name);
        let span = found.next().unwrap_or_else(|| panic!("no span {name}: {:?}", seen.spans)).clone();
        assert!(found.next().is_none(), "one span named {name}");
        span
    }
}

/// Runs `f` with a fresh recorder as this thread's subscriber.
fn observed<T>(f: impl FnOnce() -> T) -> (Recorder, T) {
    let recorder = Recorder::default();
    let out = tracing::subscriber::with_default(recorder.clone(), f);
    (recorder, out)
}

fn field<'a>(span: &'a SpanSeen, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(String::as_str)
}

fn elapsed_us(span: &SpanSeen) -> u64 {
    field(span, "elapsed_us").expect("elapsed_us recorded").parse().expect("a number")
}

#[test]
fn ok_records_the_outcome_and_the_time_and_enters_the_span_for_the_block() {
    let (recorder, result) = observed(|| {
        scope! {
            let span = with!(managed::tracing::info_span!("load", path = "a.txt", rows = tracing::field::Empty))?;
            tracing::info!("inside");
            std::thread::sleep(std::time::Duration::from_millis(2));
            span.record("rows", 3);
            Ok::<_, Error>(3)
        }
    });
    assert_eq!(result.expect("ok"), 3);
    let span = recorder.span("load");
    assert_eq!(field(&span, "outcome"), Some("ok"));
    assert_eq!(field(&span, "error"), None);
    assert_eq!(field(&span, "path"), Some("a.txt"));
    assert_eq!(field(&span, "rows"), Some("3"));
    assert!(elapsed_us(&span) >= 2000, "{span:?}");
    assert_eq!((span.enters, span.exits), (1, 1));
    assert_eq!(span.events, ["inside"]);
}

#[test]
fn err_through_question_mark_records_the_error_message() {
    let (recorder, result) = observed(|| {
        scope! {
            with!(managed::tracing::info_span!("parse"))?;
            let n: u32 = "twelve".parse()?;
            Ok::<_, Error>(n)
        }
    });
    assert!(result.is_err());
    let span = recorder.span("parse");
    assert_eq!(field(&span, "outcome"), Some("error"));
    assert_eq!(field(&span, "error"), Some("invalid digit found in string"));
    assert!(field(&span, "elapsed_us").is_some());
    assert_eq!((span.enters, span.exits), (1, 1));
}

#[test]
fn explicit_return_records_the_error_message() {
    let (recorder, result) = observed(|| {
        scope! {
            with!(managed::tracing::debug_span!("open"))?;
            if true {
                return Err(Error::msg("config.toml is missing"));
            }
            Ok(())
        }
    });
    assert!(result.is_err());
    let span = recorder.span("open");
    assert_eq!(field(&span, "outcome"), Some("error"));
    assert_eq!(field(&span, "error"), Some("config.toml is missing"));
}

/// The exit called directly with the outcomes scopes of other error types
/// produce: the message is the error's `Display` where its type is known,
/// else its `Debug`.
#[test]
fn error_messages_of_other_error_types() {
    use managed::{Manage, Outcome};
    #[derive(Debug)]
    #[allow(dead_code)] // read through `Debug`
    struct Rejected {
        code: u16,
    }
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "config.toml is missing");
    let boxed: Box<dyn std::error::Error + Send + Sync> = "boxed failure".into();
    let string = String::from("a String");
    let (recorder, ()) = observed(|| {
        let cases: [(&str, Outcome<'_>); 5] = [
            ("io", Outcome::err(&io)),
            ("boxed", Outcome::err(&boxed)),
            ("string", Outcome::err(&string)),
            ("str", Outcome::err(&"a &str")),
            ("debug", Outcome::err(&Rejected { code: 503 })),
        ];
        for (name, outcome) in cases {
            let mut in_span = managed::tracing::info_span!("case", name);
            Manage::enter(&mut in_span).expect("infallible");
            Manage::exit(in_span, &outcome).expect("infallible");
        }
    });
    let seen = recorder.seen.lock().expect("seen");
    let errors: Vec<(&str, &str)> =
        seen.spans.iter().map(|s| (field(s, "name").expect("name"), field(s, "error").expect("error"))).collect();
    assert_eq!(
        errors,
        [
            ("io", "config.toml is missing"),
            ("boxed", "boxed failure"),
            ("string", "a String"),
            ("str", "a &str"),
            ("debug", "Rejected { code: 503 }"),
        ]
    );
}

#[test]
fn panic_records_the_message_leaves_the_span_and_resumes() {
    let (recorder, caught) = observed(|| {
        catch_unwind(AssertUnwindSafe(|| {
            let _: Result<(), Error> = scope! {
                with!(managed::tracing::error_span!("compute"))?;
                panic!("test: division by zero");
            };
        }))
    });
    assert_eq!(caught.expect_err("resumes").downcast_ref::<&str>(), Some(&"test: division by zero"));
    let span = recorder.span("compute");
    assert_eq!(field(&span, "outcome"), Some("panic"));
    assert_eq!(field(&span, "error"), Some("test: division by zero"));
    assert_eq!((span.enters, span.exits), (1, 1));
}

#[test]
fn a_span_made_by_hand_with_the_fields_declared_works_too() {
    use tracing::field::Empty;
    let (recorder, result) = observed(|| {
        scope! {
            with!(managed::tracing::InSpan::new(tracing::trace_span!("manual", outcome = Empty, error = Empty, elapsed_us = Empty)))?;
            Err::<(), _>(Error::msg("manual failure"))
        }
    });
    assert!(result.is_err());
    let span = recorder.span("manual");
    assert_eq!(field(&span, "outcome"), Some("error"));
    assert_eq!(field(&span, "error"), Some("manual failure"));
}

#[test]
fn the_level_and_span_macro_forms() {
    let (recorder, ()) = observed(|| {
        for in_span in [
            managed::tracing::span!(tracing::Level::INFO, "with-level", n = 1),
            managed::tracing::span!(tracing::Level::INFO, "with-level-no-fields"),
            managed::tracing::trace_span!("trace-form"),
        ] {
            let r: Result<(), Error> = scope! { with!(in_span)?; Ok(()) };
            r.expect("ok");
        }
    });
    for name in ["with-level", "with-level-no-fields", "trace-form"] {
        assert_eq!(field(&recorder.span(name), "outcome"), Some("ok"), "{name}");
    }
    assert_eq!(field(&recorder.span("with-level"), "n"), Some("1"));
}

#[test]
fn async_scope_records_without_entering_and_instrument_enters() {
    use tracing::Instrument;
    let (recorder, result) = observed(|| {
        futures::executor::block_on(async {
            let request = managed::tracing::info_span!("request", id = 7);
            let span = request.span().clone();
            scope!(async move {
                with!(request)?;
                tracing::info!("handling");
                Ok::<_, Error>(())
            })
            .instrument(span)
            .await
        })
    });
    result.expect("ok");
    let span = recorder.span("request");
    assert_eq!(field(&span, "outcome"), Some("ok"));
    assert!(field(&span, "elapsed_us").is_some());
    // Entered by `Instrument` (on each poll and to drop the future), balanced.
    assert!(span.enters >= 1 && span.enters == span.exits, "{span:?}");
    assert_eq!(span.events, ["handling"]);

    // Not instrumented: the manager itself never enters the span.
    let (recorder, result) = observed(|| {
        futures::executor::block_on(scope!(async {
            with!(managed::tracing::info_span!("bare"))?;
            tracing::info!("outside");
            Ok::<_, Error>(())
        }))
    });
    result.expect("ok");
    let span = recorder.span("bare");
    assert_eq!(field(&span, "outcome"), Some("ok"));
    assert_eq!((span.enters, span.exits), (0, 0));
    assert!(span.events.is_empty());
}

/// Cancelled: the default cancellation policy runs the exit in place, which
/// records `"cancelled"`. Without that path the span would keep no outcome.
#[test]
fn cancelled_async_scope_records_cancelled() {
    let (recorder, finished) = observed(|| {
        futures::executor::block_on(cancel_after(
            scope!(async {
                with!(managed::tracing::info_span!("stream"))?;
                std::future::pending::<()>().await;
                Ok::<_, Error>(())
            }),
            1,
        ))
    });
    assert!(finished.is_none());
    let span = recorder.span("stream");
    assert_eq!(field(&span, "outcome"), Some("cancelled"));
    assert_eq!(field(&span, "error"), None);
    assert!(field(&span, "elapsed_us").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_over_a_span_is_send() {
    let n = tokio::spawn(scope!(async move {
        with!(managed::tracing::info_span!("task"))?;
        tokio::task::yield_now().await;
        Ok::<_, Error>(1)
    }))
    .await
    .expect("task")
    .expect("scope");
    assert_eq!(n, 1);
}

#[test]
fn without_a_subscriber_nothing_fails() {
    let r: Result<u8, Error> = scope! {
        with!(managed::tracing::info_span!("unobserved"))?;
        Ok(1)
    };
    assert_eq!(r.expect("ok"), 1);
}
