//! A span per block (feature `tracing`; used as `managed::tracing`):
//! [`InSpan`] enters a `tracing` span for the block and, when the block
//! ends, records how it ended and how long it took as fields of the span:
//!
//! | field | value |
//! | --- | --- |
//! | `outcome` | `"ok"`, `"error"`, `"panic"` or `"cancelled"` |
//! | `error` | the error's message (`Display` where the type is known: `managed::Error`, `std::io::Error`, boxed errors, strings, `anyhow::Error`; else `Debug`), or the panic's message |
//! | `elapsed_us` | microseconds from enter to exit |
//!
//! `tracing` only records the fields a span declared when it was created,
//! so create the span with this module's macros ([`span!`], [`info_span!`],
//! [`debug_span!`], ..., which take the same arguments as `tracing`'s and
//! declare the three fields), or declare them yourself as
//! `tracing::field::Empty` and wrap the span with [`InSpan::new`].
//!
//! ```
//! use managed::{scope, with, Error};
//!
//! fn load(path: &str) -> Result<usize, Error> {
//!     scope! {
//!         let span = with!(managed::tracing::info_span!("load", path, bytes = tracing::field::Empty))?;
//!         tracing::info!("reading");                                     // inside the span (entered)
//!         let text = std::fs::read_to_string(path)?;                     // `?`: outcome = "error"
//!         span.record("bytes", text.len());                              // a field of your own
//!         Ok::<_, Error>(text.len())
//!     }                                                // outcome, error, elapsed_us recorded
//! }
//! assert!(load("/no/such/file").is_err());
//! ```
//!
//! In an async scope the span is not entered (a span entered across an
//! `.await` would stay entered on a thread that goes on running other
//! tasks, as `tracing`'s docs warn); the outcome and the time are still
//! recorded. Instrument the scope's future to be inside the span while it
//! runs:
//!
//! ```
//! use managed::{scope, with, Error};
//! use tracing::Instrument;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let request = managed::tracing::info_span!("request", id = 7);
//! let span = request.span().clone();
//! scope!(async move {
//!     with!(request)?;                                  // records when the scope ends
//!     tokio::task::yield_now().await;
//!     Ok::<_, Error>(())
//! })
//! .instrument(span)                                     // entered on every poll
//! .await?;
//! # Ok::<(), Error>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The crate is `no_std`; these modules need `std`, and read better with its prelude.
use std::prelude::rust_2021::*;

use core::convert::Infallible;
use core::fmt;
use std::borrow::ToOwned;
use std::boxed::Box;
use std::format;
use std::string::{String, ToString};
use std::thread::{self, ThreadId};
use std::time::Instant;

use ::tracing::Span;

use crate::outcome::ErrorView;
use crate::{Manage, Outcome, ReportKind, SendAsyncManage};

#[doc(inline)]
pub use crate::__managed_debug_span as debug_span;
#[doc(inline)]
pub use crate::__managed_error_span as error_span;
#[doc(inline)]
pub use crate::__managed_info_span as info_span;
#[doc(inline)]
pub use crate::__managed_span as span;
#[doc(inline)]
pub use crate::__managed_trace_span as trace_span;
#[doc(inline)]
pub use crate::__managed_warn_span as warn_span;

/// A manager over a `tracing` span: enter enters the span (sync scopes) and
/// starts a clock, exit records `outcome`, `error` and `elapsed_us` on it
/// (see [the module](self)). The target is the span, so the block can
/// record fields of its own.
///
/// A sync scope enters the span on its thread for the block; an async
/// scope does not enter it (instrument the scope's future). Either way the
/// exit records the fields, also on cancellation (`"cancelled"`). It never
/// fails: its error type is [`Infallible`], so the scope's error type needs
/// `From<Infallible>` ([`managed::Error`](crate::Error) has it, as `timed`
/// needs too).
///
/// ```
/// use managed::{scope, with, Error};
/// use tracing::field::Empty;
///
/// // A span made by hand declares the fields the exit records.
/// let span = tracing::info_span!("import", outcome = Empty, error = Empty, elapsed_us = Empty);
/// let imported = scope! {
///     with!(managed::tracing::InSpan::new(span))?;
///     Ok::<_, Error>(3)
/// }?;
/// assert_eq!(imported, 3);
/// # Ok::<(), Error>(())
/// ```
#[must_use = "an InSpan does nothing until it is entered (`with!`)"]
pub struct InSpan {
    span: Span,
    started: Option<Instant>,
    entered_on: Option<ThreadId>,
}

impl InSpan {
    /// Wraps `span`; it should declare the fields `outcome`, `error` and
    /// `elapsed_us` (as `tracing::field::Empty`), or they are not recorded.
    /// The macros of [this module](self) do.
    ///
    /// ```
    /// let in_span = managed::tracing::InSpan::new(tracing::Span::none());
    /// assert!(in_span.span().is_none());
    /// ```
    pub fn new(span: Span) -> Self {
        InSpan { span, started: None, entered_on: None }
    }

    /// The span (to clone it for `Instrument`, or to record fields).
    ///
    /// ```
    /// let in_span = managed::tracing::info_span!("work");
    /// let _for_instrument: tracing::Span = in_span.span().clone();
    /// ```
    pub fn span(&self) -> &Span {
        &self.span
    }

    fn record(&self, outcome: &Outcome<'_>) {
        let elapsed = self.started.map(|started| started.elapsed()).unwrap_or_default();
        let (how, error) = match outcome {
            Outcome::Ok => ("ok", None),
            Outcome::Err(e) => ("error", Some(message(e))),
            Outcome::Panic(p) => {
                ("panic", Some(p.message().unwrap_or("(a panic payload that is not a string)").to_owned()))
            }
            Outcome::Cancelled => ("cancelled", None),
        };
        self.span.record("outcome", how);
        if let Some(error) = error {
            self.span.record("error", error.as_str());
        }
        self.span.record("elapsed_us", u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }
}

/// The block's error as a message: `Display` for the types whose
/// `Display` is reachable, else `Debug`.
fn message(error: &ErrorView<'_>) -> String {
    if let Some(e) = error.downcast_ref::<crate::Error>() {
        return e.to_string();
    }
    if let Some(e) = error.downcast_ref::<std::io::Error>() {
        return e.to_string();
    }
    if let Some(e) = error.downcast_ref::<Box<dyn std::error::Error + Send + Sync>>() {
        return e.to_string();
    }
    #[cfg(feature = "anyhow")]
    if let Some(e) = error.downcast_ref::<anyhow::Error>() {
        return e.to_string();
    }
    if let Some(e) = error.downcast_ref::<String>() {
        return e.clone();
    }
    if let Some(e) = error.downcast_ref::<&'static str>() {
        return (*e).to_owned();
    }
    format!("{error:?}")
}

impl Manage for InSpan {
    type Target = Span;
    type Error = Infallible;

    /// Starts the clock and enters the span on this thread.
    fn enter(&mut self) -> Result<&mut Span, Infallible> {
        self.started = Some(Instant::now());
        if self.entered_on.is_none() && self.span.with_subscriber(|(id, dispatch)| dispatch.enter(id)).is_some() {
            self.entered_on = Some(thread::current().id());
        }
        Ok(&mut self.span)
    }

    /// Records the fields, then leaves the span.
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), Infallible> {
        self.record(outcome);
        match self.entered_on {
            Some(thread) if thread == thread::current().id() => {
                self.span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
            }
            // Entered by hand on one thread and exited on another: leaving
            // the span here would corrupt this thread's span stack.
            Some(_) => crate::report(
                ReportKind::GuardDropped,
                &ExitedElsewhere(self.span.metadata().map(::tracing::Metadata::name)),
            ),
            None => {}
        }
        Ok(())
    }
}

/// Records the fields; the span is not entered (see [`InSpan`]).
impl SendAsyncManage for InSpan {
    type Target = Span;
    type Error = Infallible;

    async fn enter(&mut self) -> Result<&mut Span, Infallible> {
        self.started = Some(Instant::now());
        Ok(&mut self.span)
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Infallible> {
        self.record(outcome);
        Ok(())
    }
}

impl fmt::Debug for InSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InSpan").field("span", &self.span).field("started", &self.started).finish_non_exhaustive()
    }
}

struct ExitedElsewhere(Option<&'static str>);

impl fmt::Debug for ExitedElsewhere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the span `{}` was entered on another thread than the one its InSpan exited on; it was not left",
            self.0.unwrap_or("?")
        )
    }
}

/// Builds an [`InSpan`] over a new span, as `tracing::span!` does
/// (`span!(Level, "name", fields..)`), with the fields `outcome`, `error`
/// and `elapsed_us` declared.
///
/// ```
/// use managed::{scope, with, Error};
///
/// scope! {
///     let span = with!(managed::tracing::span!(tracing::Level::DEBUG, "parse", input_len = 5))?;
///     span.record("input_len", 6);
///     Ok::<_, Error>(())
/// }?;
/// # Ok::<(), Error>(())
/// ```
#[macro_export]
macro_rules! __managed_span {
    ($level:expr, $name:expr $(,)?) => {
        $crate::integrations::tracing::InSpan::new($crate::__tracing::span!(
            $level,
            $name,
            outcome = $crate::__tracing::field::Empty,
            error = $crate::__tracing::field::Empty,
            elapsed_us = $crate::__tracing::field::Empty
        ))
    };
    ($level:expr, $name:expr, $($fields:tt)+) => {
        $crate::integrations::tracing::InSpan::new($crate::__tracing::span!(
            $level,
            $name,
            outcome = $crate::__tracing::field::Empty,
            error = $crate::__tracing::field::Empty,
            elapsed_us = $crate::__tracing::field::Empty,
            $($fields)+
        ))
    };
}

/// [`span!`] at level `TRACE`.
///
/// ```
/// let in_span = managed::tracing::trace_span!("step", n = 1);
/// # drop(in_span);
/// ```
#[macro_export]
macro_rules! __managed_trace_span {
    ($($args:tt)+) => { $crate::__managed_span!($crate::__tracing::Level::TRACE, $($args)+) };
}

/// [`span!`] at level `DEBUG`.
///
/// ```
/// let in_span = managed::tracing::debug_span!("step", n = 1);
/// # drop(in_span);
/// ```
#[macro_export]
macro_rules! __managed_debug_span {
    ($($args:tt)+) => { $crate::__managed_span!($crate::__tracing::Level::DEBUG, $($args)+) };
}

/// [`span!`] at level `INFO`.
///
/// ```
/// use managed::{scope, with, Error};
///
/// let user = "ada";
/// scope! {
///     with!(managed::tracing::info_span!("login", user))?;
///     Ok::<_, Error>(())
/// }?;
/// # Ok::<(), Error>(())
/// ```
#[macro_export]
macro_rules! __managed_info_span {
    ($($args:tt)+) => { $crate::__managed_span!($crate::__tracing::Level::INFO, $($args)+) };
}

/// [`span!`] at level `WARN`.
///
/// ```
/// let in_span = managed::tracing::warn_span!("retry", attempt = 2);
/// # drop(in_span);
/// ```
#[macro_export]
macro_rules! __managed_warn_span {
    ($($args:tt)+) => { $crate::__managed_span!($crate::__tracing::Level::WARN, $($args)+) };
}

/// [`span!`] at level `ERROR`.
///
/// ```
/// let in_span = managed::tracing::error_span!("recovery");
/// # drop(in_span);
/// ```
#[macro_export]
macro_rules! __managed_error_span {
    ($($args:tt)+) => { $crate::__managed_span!($crate::__tracing::Level::ERROR, $($args)+) };
}
