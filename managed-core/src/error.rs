//! `managed::Error`: an error that keeps every later failure as *suppressed*.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::any::Any;
use core::error::Error as StdError;
use core::fmt;

/// The error type that loses nothing: a primary error plus every later
/// failure attached to it as *suppressed*, in the order they happened.
///
/// Like `anyhow::Error`, it converts from every
/// `E: std::error::Error + Send + Sync + 'static`, so `?` just works, and for
/// that reason it does not itself implement `std::error::Error`; it converts
/// into `Box<dyn Error + Send + Sync>` and `std::io::Error` instead.
///
/// When a `scope!`'s error type is `managed::Error`, exit errors after the
/// first are attached here instead of going to the
/// [error hook](crate::set_error_hook).
///
/// `Display` shows the primary message; the alternate form `{:#}` adds the
/// suppressed chain. `Debug` (`{:?}`, what `fn main() -> Result<(), Error>`
/// prints) reads like `anyhow`'s: the message, its causes, the suppressed
/// errors; `{:#?}` shows the structure.
///
/// # Example
///
/// ```
/// use managed::Error;
///
/// let mut e = Error::msg("write failed");
/// e.push_suppressed(Error::new(std::io::Error::other("close failed")));
/// assert_eq!(e.to_string(), "write failed");
/// assert_eq!(format!("{e:#}"), "write failed\n  suppressed: close failed");
/// assert_eq!(e.suppressed().len(), 1);
/// assert!(e.suppressed()[0].downcast_ref::<std::io::Error>().is_some());
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    error: Box<dyn Payload>,
    suppressed: Vec<Error>,
}

/// What an [`Error`] wraps: either a std error or a message.
trait Payload: fmt::Debug + fmt::Display + Send + Sync + 'static {
    fn as_any(&self) -> &(dyn Any + Send + Sync);
    fn as_std(&self) -> Option<&(dyn StdError + Send + Sync + 'static)>;
    fn into_std(self: Box<Self>) -> Box<dyn StdError + Send + Sync>;
    #[cfg(feature = "std")]
    fn io_kind(&self) -> Option<std::io::ErrorKind>;
    #[cfg(feature = "std")]
    fn into_io(self: Box<Self>) -> Result<std::io::Error, Box<dyn Payload>>;
    /// The wrapped value as the anyhow error that wraps it directly, so that
    /// anyhow's `downcast_ref` finds it.
    #[cfg(feature = "anyhow")]
    fn into_anyhow(self: Box<Self>) -> anyhow::Error;
}

#[repr(transparent)]
struct StdPayload<E>(E);

impl<E: StdError + Send + Sync + 'static> Payload for StdPayload<E> {
    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        &self.0
    }
    fn as_std(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        Some(&self.0)
    }
    fn into_std(self: Box<Self>) -> Box<dyn StdError + Send + Sync> {
        Box::new(self.0)
    }
    #[cfg(feature = "std")]
    fn io_kind(&self) -> Option<std::io::ErrorKind> {
        (&self.0 as &dyn Any).downcast_ref::<std::io::Error>().map(std::io::Error::kind)
    }
    #[cfg(feature = "std")]
    fn into_io(self: Box<Self>) -> Result<std::io::Error, Box<dyn Payload>> {
        let any: Box<dyn Any> = Box::new(self.0);
        match any.downcast::<std::io::Error>() {
            Ok(io) => Ok(*io),
            Err(other) => match other.downcast::<E>() {
                Ok(e) => Err(Box::new(StdPayload(*e))),
                Err(_) => unreachable!("a value downcasts to its own type"),
            },
        }
    }
    #[cfg(feature = "anyhow")]
    fn into_anyhow(self: Box<Self>) -> anyhow::Error {
        anyhow::Error::new(self.0)
    }
}

impl<E: fmt::Debug> fmt::Debug for StdPayload<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: fmt::Display> fmt::Display for StdPayload<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A message given to [`Error::msg`], made an `std::error::Error` so it can
/// leave as a boxed error.
#[repr(transparent)]
struct MessagePayload<M>(M);

impl<M: fmt::Debug> fmt::Debug for MessagePayload<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<M: fmt::Display> fmt::Display for MessagePayload<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<M: fmt::Display + fmt::Debug> StdError for MessagePayload<M> {}

impl<M: fmt::Display + fmt::Debug + Send + Sync + 'static> Payload for MessagePayload<M> {
    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        &self.0
    }
    fn as_std(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        None
    }
    fn into_std(self: Box<Self>) -> Box<dyn StdError + Send + Sync> {
        self
    }
    #[cfg(feature = "std")]
    fn io_kind(&self) -> Option<std::io::ErrorKind> {
        None
    }
    #[cfg(feature = "std")]
    fn into_io(self: Box<Self>) -> Result<std::io::Error, Box<dyn Payload>> {
        Err(self)
    }
    #[cfg(feature = "anyhow")]
    fn into_anyhow(self: Box<Self>) -> anyhow::Error {
        anyhow::Error::msg(self.0)
    }
}

impl Error {
    /// Wraps a std error.
    ///
    /// ```
    /// let e = managed::Error::new(std::fmt::Error);
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    #[must_use]
    pub fn new<E: StdError + Send + Sync + 'static>(error: E) -> Error {
        Error::from_payload(Box::new(StdPayload(error)))
    }

    /// An error from a message (anything `Display + Debug`).
    ///
    /// ```
    /// let e = managed::Error::msg(format!("row {} is missing", 3));
    /// assert_eq!(e.to_string(), "row 3 is missing");
    /// ```
    #[must_use]
    pub fn msg<M: fmt::Display + fmt::Debug + Send + Sync + 'static>(message: M) -> Error {
        Error::from_payload(Box::new(MessagePayload(message)))
    }

    /// Wraps an already boxed std error (a `Box<dyn Error + Send + Sync>`
    /// cannot go through `From`, which would overlap with `Error::new`).
    ///
    /// ```
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = "plain".into();
    /// assert_eq!(managed::Error::from_boxed(boxed).to_string(), "plain");
    /// ```
    #[must_use]
    pub fn from_boxed(error: Box<dyn StdError + Send + Sync + 'static>) -> Error {
        Error::from_payload(Box::new(Boxed(error)))
    }

    fn from_payload(error: Box<dyn Payload>) -> Error {
        Error { inner: Box::new(Inner { error, suppressed: Vec::new() }) }
    }

    /// The failures that happened after this one (exit errors, errors of
    /// other cleanups), in the order they happened.
    ///
    /// ```
    /// assert!(managed::Error::msg("only").suppressed().is_empty());
    /// ```
    pub fn suppressed(&self) -> &[Error] {
        &self.inner.suppressed
    }

    /// Attaches a later failure to this one.
    ///
    /// ```
    /// let mut e = managed::Error::msg("first");
    /// e.push_suppressed(managed::Error::msg("second"));
    /// assert_eq!(e.suppressed()[0].to_string(), "second");
    /// ```
    pub fn push_suppressed(&mut self, later: Error) {
        self.inner.suppressed.push(later);
    }

    /// The wrapped error (or message) downcast to `T`. (An error given to
    /// [`Error::from_boxed`] is reached with `as_std()` and std's
    /// `downcast_ref`, which needs `T: Error`.)
    ///
    /// ```
    /// let e = managed::Error::new(std::io::Error::other("x"));
    /// assert!(e.downcast_ref::<std::io::Error>().is_some());
    /// assert!(e.downcast_ref::<std::fmt::Error>().is_none());
    ///
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(std::fmt::Error);
    /// let e = managed::Error::from_boxed(boxed);
    /// assert!(e.as_std().and_then(|s| s.downcast_ref::<std::fmt::Error>()).is_some());
    /// ```
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        let any = self.inner.error.as_any();
        any.downcast_ref::<T>()
    }

    /// The wrapped error as `&dyn std::error::Error`, when it is one (not for
    /// [`Error::msg`]): the boxed error itself for [`Error::from_boxed`],
    /// the error an `anyhow::Error` wraps for `Error::from_anyhow`.
    ///
    /// ```
    /// assert!(managed::Error::new(std::fmt::Error).as_std().is_some());
    /// assert!(managed::Error::msg("m").as_std().is_none());
    /// ```
    pub fn as_std(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.inner.error.as_std()
    }

    /// The chain of `source()`s of the wrapped error, starting with itself.
    ///
    /// ```
    /// let e = managed::Error::new(std::fmt::Error);
    /// assert_eq!(e.chain().count(), 1);
    /// ```
    pub fn chain(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        let first: Option<&(dyn StdError + 'static)> = match self.as_std() {
            Some(e) => Some(e),
            None => None,
        };
        core::iter::successors(first, |e: &&(dyn StdError + 'static)| (*e).source())
    }
}

/// A boxed error given to [`Error::from_boxed`].
struct Boxed(Box<dyn StdError + Send + Sync + 'static>);

impl fmt::Debug for Boxed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl fmt::Display for Boxed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl Payload for Boxed {
    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        &self.0
    }
    fn as_std(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        Some(&*self.0)
    }
    fn into_std(self: Box<Self>) -> Box<dyn StdError + Send + Sync> {
        self.0
    }
    #[cfg(feature = "std")]
    fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.0.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
    }
    #[cfg(feature = "std")]
    fn into_io(self: Box<Self>) -> Result<std::io::Error, Box<dyn Payload>> {
        match self.0.downcast::<std::io::Error>() {
            Ok(io) => Ok(*io),
            Err(other) => Err(Box::new(Boxed(other))),
        }
    }
    #[cfg(feature = "anyhow")]
    fn into_anyhow(self: Box<Self>) -> anyhow::Error {
        anyhow::Error::from_boxed(self.0)
    }
}

/// An `anyhow::Error` given to [`Error::from_anyhow`], kept whole: it comes
/// back unchanged from the conversion into `anyhow::Error`, and `as_std()`
/// reaches the error it wraps.
#[cfg(feature = "anyhow")]
struct AnyhowPayload(anyhow::Error);

#[cfg(feature = "anyhow")]
impl fmt::Debug for AnyhowPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(feature = "anyhow")]
impl fmt::Display for AnyhowPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not `{:#}`: `Error`'s own `{:#}` walks the source chain after this.
        write!(f, "{}", self.0)
    }
}

#[cfg(feature = "anyhow")]
impl Payload for AnyhowPayload {
    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        &self.0
    }
    fn as_std(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        Some(self.0.as_ref())
    }
    fn into_std(self: Box<Self>) -> Box<dyn StdError + Send + Sync> {
        self.0.into()
    }
    fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.0.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
    }
    fn into_io(self: Box<Self>) -> Result<std::io::Error, Box<dyn Payload>> {
        match self.0.downcast::<std::io::Error>() {
            Ok(io) => Ok(io),
            Err(other) => Err(Box::new(AnyhowPayload(other))),
        }
    }
    fn into_anyhow(self: Box<Self>) -> anyhow::Error {
        self.0
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Self {
        Error::new(error)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner.error, f)?;
        if f.alternate() {
            let mut source = self.as_std().and_then(|e| e.source());
            while let Some(s) = source {
                write!(f, ": {s}")?;
                source = s.source();
            }
            for s in &self.inner.suppressed {
                // Nested suppressed errors are indented one level deeper.
                let text = alloc::format!("{s:#}");
                let mut lines = text.lines();
                if let Some(first) = lines.next() {
                    write!(f, "\n  suppressed: {first}")?;
                }
                for line in lines {
                    write!(f, "\n  {line}")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    /// `{:?}` reads like `anyhow`'s, since it is what `fn main() -> Result<(),
    /// managed::Error>` prints: the message, then its causes, then the
    /// suppressed errors. `{:#?}` shows the structure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return f
                .debug_struct("Error")
                .field("error", &self.inner.error)
                .field("suppressed", &self.inner.suppressed)
                .finish();
        }
        fmt::Display::fmt(&*self.inner.error, f)?;
        let first = self.as_std().and_then(|e| e.source());
        let causes = core::iter::successors(first, |e: &&(dyn StdError + 'static)| (*e).source());
        let numbered = causes.clone().nth(1).is_some();
        for (i, cause) in causes.enumerate() {
            if i == 0 {
                f.write_str("\n\nCaused by:")?;
            }
            if numbered {
                write!(f, "\n    {i}: {cause}")?;
            } else {
                write!(f, "\n    {cause}")?;
            }
        }
        for (i, later) in self.inner.suppressed.iter().enumerate() {
            if i == 0 {
                f.write_str("\n\nSuppressed:")?;
            }
            // A suppressed error's own causes and suppressed errors, indented under it.
            let text = alloc::format!("{later:?}");
            for (n, line) in text.lines().enumerate() {
                match (n, line.is_empty()) {
                    (0, _) => write!(f, "\n    {i}: {line}")?,
                    (_, true) => f.write_str("\n")?,
                    (_, false) => write!(f, "\n       {line}")?,
                }
            }
        }
        Ok(())
    }
}

/// How an [`Error`] leaves as a std error: its message, its source, and the
/// suppressed errors in `{:#}`.
struct Exported(Error);

impl fmt::Debug for Exported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl fmt::Display for Exported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl StdError for Exported {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.as_std().and_then(|e| e.source())
    }
}

impl From<Error> for Box<dyn StdError + Send + Sync + 'static> {
    /// Without suppressed errors, the wrapped error itself (so a later
    /// `downcast` finds it); with them, a wrapper whose `{:#}` shows them.
    fn from(error: Error) -> Self {
        if error.inner.suppressed.is_empty() {
            error.inner.error.into_std()
        } else {
            Box::new(Exported(error))
        }
    }
}

impl From<Error> for Box<dyn StdError + 'static> {
    fn from(error: Error) -> Self {
        let boxed: Box<dyn StdError + Send + Sync> = error.into();
        boxed
    }
}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    /// An `io::Error` without suppressed errors comes back unchanged; any
    /// other error keeps its `ErrorKind` (or `Other`) and wraps the rest.
    fn from(error: Error) -> Self {
        let kind = error.inner.error.io_kind().unwrap_or(std::io::ErrorKind::Other);
        if error.inner.suppressed.is_empty() {
            let Inner { error: payload, suppressed } = *error.inner;
            match payload.into_io() {
                Ok(io) => io,
                Err(payload) => {
                    std::io::Error::new(kind, Exported(Error { inner: Box::new(Inner { error: payload, suppressed }) }))
                }
            }
        } else {
            std::io::Error::new(kind, Exported(error))
        }
    }
}

#[cfg(feature = "anyhow")]
impl From<Error> for anyhow::Error {
    /// Keeps the suppressed errors: without them, the wrapped error becomes
    /// the anyhow error (its `downcast_ref` finds it; an error that came
    /// from `anyhow` comes back unchanged); with them, `{:#}` of the anyhow
    /// error shows them.
    fn from(error: Error) -> Self {
        if error.inner.suppressed.is_empty() {
            error.inner.error.into_anyhow()
        } else {
            anyhow::Error::new(Exported(error))
        }
    }
}

#[cfg(feature = "anyhow")]
impl Error {
    /// Converts an `anyhow::Error` (feature `anyhow`), kept whole:
    /// `downcast_ref::<anyhow::Error>()` gives it back (then use anyhow's own
    /// `downcast_ref`), `as_std()` is the error it wraps, and converting back
    /// into `anyhow::Error` returns it unchanged. (`downcast_ref::<T>()` cannot
    /// look inside it: anyhow's downcast needs `T: Display + Debug + Send + Sync`.)
    ///
    /// ```
    /// use std::io;
    ///
    /// let a = anyhow::Error::new(io::Error::from(io::ErrorKind::NotFound));
    /// let e = managed::Error::from_anyhow(a.context("loading config"));
    /// assert_eq!(e.to_string(), "loading config");
    /// let inner = e.downcast_ref::<anyhow::Error>().and_then(|a| a.downcast_ref::<io::Error>());
    /// assert_eq!(inner.map(io::Error::kind), Some(io::ErrorKind::NotFound));
    /// let back: anyhow::Error = e.into();
    /// assert!(back.downcast_ref::<io::Error>().is_some());
    /// ```
    #[must_use]
    pub fn from_anyhow(error: anyhow::Error) -> Error {
        Error::from_payload(Box::new(AnyhowPayload(error)))
    }
}

/// Looks through the error types that wrap another error, for
/// [`Outcome::error`](crate::Outcome::error).
pub(crate) fn look_inside<T: 'static>(any: &dyn Any) -> Option<&T> {
    any.downcast_ref::<Error>()?.downcast_ref::<T>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[derive(Debug)]
    struct Custom;
    impl fmt::Display for Custom {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("custom")
        }
    }
    impl StdError for Custom {}

    #[test]
    fn question_mark_converts() {
        fn f() -> Result<(), Error> {
            Err(Custom)?;
            Ok(())
        }
        let e = f().expect_err("fails");
        assert!(e.downcast_ref::<Custom>().is_some());
        assert_eq!(e.to_string(), "custom");
    }

    /// What `fn main() -> Result<(), Error>` prints: readable, with every
    /// cause and suppressed error (it printed `Error { error: "..", .. }`).
    #[test]
    fn debug_reads_like_a_report() {
        #[derive(Debug)]
        struct Outer(Custom);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("outer")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(alloc::format!("{:?}", Error::msg("plain")), "plain");
        let mut e = Error::new(Outer(Custom));
        let mut later = Error::msg("close failed");
        later.push_suppressed(Error::new(Outer(Custom)));
        e.push_suppressed(later);
        e.push_suppressed(Error::msg("flush failed"));
        assert_eq!(
            alloc::format!("{e:?}"),
            "outer\n\nCaused by:\n    custom\n\nSuppressed:\n    0: close failed\n\n       Suppressed:\n           \
             0: outer\n\n              Caused by:\n                  custom\n    1: flush failed"
        );
        let structure = alloc::format!("{e:#?}");
        assert!(structure.starts_with("Error {") && structure.contains("suppressed"), "{structure}");
    }

    #[test]
    fn alternate_display_shows_nested_suppressed() {
        let mut inner = Error::msg("b");
        inner.push_suppressed(Error::msg("c"));
        let mut e = Error::msg("a");
        e.push_suppressed(inner);
        e.push_suppressed(Error::msg("d"));
        assert_eq!(alloc::format!("{e:#}"), "a\n  suppressed: b\n    suppressed: c\n  suppressed: d");
        assert_eq!(e.to_string(), "a");
        let dbg = alloc::format!("{e:#?}");
        assert!(dbg.contains("suppressed"), "{dbg}");
    }

    #[test]
    fn boxed_round_trip_keeps_downcast() {
        let boxed: Box<dyn StdError + Send + Sync> = Error::new(Custom).into();
        assert!(boxed.downcast_ref::<Custom>().is_some());
        let mut e = Error::new(Custom);
        e.push_suppressed(Error::msg("later"));
        let boxed: Box<dyn StdError + Send + Sync> = e.into();
        assert_eq!(alloc::format!("{boxed:#}"), "custom\n  suppressed: later");
        let back = Error::from_boxed(boxed);
        assert_eq!(back.to_string(), "custom");
        assert!(back.as_std().is_some());
    }

    #[cfg(feature = "std")]
    #[test]
    fn io_round_trip_keeps_kind() {
        let e = Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);
        assert!(io.get_ref().is_none(), "came back unchanged");
        let mut e = Error::new(std::io::Error::from(std::io::ErrorKind::NotFound));
        e.push_suppressed(Error::msg("close"));
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert!(alloc::format!("{:#}", io.get_ref().expect("wrapped")).contains("suppressed: close"));
        let io: std::io::Error = Error::msg("m").into();
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
        assert_eq!(io.to_string(), "m");
    }

    #[test]
    fn from_boxed_reaches_the_boxed_error_and_gives_it_back() {
        let e = Error::from_boxed(Box::new(Custom));
        assert!(e.as_std().and_then(|s| s.downcast_ref::<Custom>()).is_some());
        assert!(e.downcast_ref::<Box<dyn StdError + Send + Sync>>().is_some());
        let back: Box<dyn StdError + Send + Sync> = e.into();
        assert!(back.downcast_ref::<Custom>().is_some(), "the original box, not a wrapper");
    }

    #[cfg(feature = "std")]
    #[test]
    fn from_boxed_io_error_keeps_its_kind() {
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(std::io::Error::from(std::io::ErrorKind::TimedOut));
        let io: std::io::Error = Error::from_boxed(boxed).into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        assert!(io.get_ref().is_none(), "came back unchanged");
    }

    #[cfg(feature = "anyhow")]
    #[test]
    fn anyhow_conversions_keep_downcasts() {
        use std::io;
        // managed -> anyhow: anyhow's downcast finds the wrapped error.
        let a: anyhow::Error = Error::new(io::Error::from(io::ErrorKind::NotFound)).into();
        assert_eq!(a.downcast_ref::<io::Error>().map(io::Error::kind), Some(io::ErrorKind::NotFound));
        let a: anyhow::Error = Error::msg("plain").into();
        assert_eq!(a.downcast_ref::<&str>(), Some(&"plain"));
        // (A boxed error stays boxed: anyhow cannot downcast into a box.)
        let a: anyhow::Error = Error::from_boxed(Box::new(Custom)).into();
        assert_eq!(a.to_string(), "custom");
        // anyhow -> managed: kept whole, the inner error reachable.
        let e = Error::from_anyhow(anyhow::Error::new(Custom).context("ctx"));
        assert_eq!(alloc::format!("{e} / {e:#}"), "ctx / ctx: custom");
        assert!(e.downcast_ref::<anyhow::Error>().is_some_and(|a| a.downcast_ref::<Custom>().is_some()));
        assert!(e.as_std().is_some());
        let back: anyhow::Error = e.into();
        assert_eq!(alloc::format!("{back:#}"), "ctx: custom");
        assert!(back.downcast_ref::<Custom>().is_some());
        // anyhow -> managed -> io: the kind survives.
        let e = Error::from_anyhow(anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)));
        let io: io::Error = e.into();
        assert_eq!(io.kind(), io::ErrorKind::BrokenPipe);
        assert!(io.get_ref().is_none(), "came back unchanged");
    }

    #[test]
    fn message_downcasts_to_its_type() {
        let e = Error::msg("text");
        assert_eq!(e.downcast_ref::<&str>(), Some(&"text"));
        assert_eq!("x".to_string(), Error::msg("x").to_string());
        assert_eq!(e.chain().count(), 0);
    }
}
