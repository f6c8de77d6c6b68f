//! `managed::Error`: an error that keeps every later failure as *suppressed*.

use alloc::boxed::Box;
use alloc::string::String;
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
/// into `Box<dyn Error + Send + Sync>`, `std::io::Error` and (feature
/// `anyhow`) `anyhow::Error` instead. None of these loses the suppressed
/// errors: the error they become lists them in its `source()` chain (so
/// anyhow's `{:#}` and `{:?}` show them), and converting back
/// ([`Error::from_boxed`], `From<io::Error>`, `Error::from_anyhow`) gives
/// the `Error` back whole.
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
    ///
    /// An `io::Error` made from an [`Error`] with suppressed errors gives
    /// that [`Error`] back, suppressed list and all (so `?` from `io::Result`
    /// into `Result<_, managed::Error>` loses nothing).
    #[must_use]
    pub fn new<E: StdError + Send + Sync + 'static>(error: E) -> Error {
        #[cfg(feature = "std")]
        let error = match cast::<E, std::io::Error>(error) {
            Ok(io) => {
                return Exported::take_from_io(io).unwrap_or_else(|io| Error::from_payload(Box::new(StdPayload(io))))
            }
            Err(error) => error,
        };
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
    /// A box made from an [`Error`] with suppressed errors (directly, or
    /// around the `io::Error` made from one) gives that [`Error`] back,
    /// suppressed list and all.
    ///
    /// ```
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = "plain".into();
    /// assert_eq!(managed::Error::from_boxed(boxed).to_string(), "plain");
    ///
    /// let mut e = managed::Error::msg("primary");
    /// e.push_suppressed(managed::Error::msg("close failed"));
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = e.into();
    /// assert_eq!(managed::Error::from_boxed(boxed).suppressed().len(), 1);
    /// ```
    #[must_use]
    pub fn from_boxed(error: Box<dyn StdError + Send + Sync + 'static>) -> Error {
        Exported::take_from_box(error).unwrap_or_else(|error| Error::from_payload(Box::new(Boxed(error))))
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

/// How an [`Error`] with suppressed errors leaves as a std error (boxed or
/// inside an `io::Error`): `Display` and `Debug` are the error's own, and
/// the `source()` chain carries the primary error's causes, then the
/// suppressed errors, so that code walking the chain (`anyhow`, `tracing`,
/// an error reporter) prints them. [`Error::from_boxed`] and the conversion
/// from `io::Error` recognise it and give the [`Error`] back whole.
struct Exported {
    error: Error,
    chain: Option<Box<ChainLink>>,
}

impl Exported {
    fn new(error: Error) -> Exported {
        let chain = ChainLink::after(&error);
        Exported { error, chain }
    }

    /// The [`Error`] a box holds, directly or in an `io::Error`.
    fn take_from_box(
        boxed: Box<dyn StdError + Send + Sync + 'static>,
    ) -> Result<Error, Box<dyn StdError + Send + Sync + 'static>> {
        let boxed = match boxed.downcast::<Exported>() {
            Ok(exported) => return Ok(exported.error),
            Err(other) => other,
        };
        #[cfg(feature = "std")]
        if boxed.downcast_ref::<std::io::Error>().is_some_and(Exported::is_in) {
            if let Ok(io) = boxed.downcast::<std::io::Error>() {
                return Exported::take_from_io(*io).map_err(Box::from);
            }
            unreachable!("checked to be an io::Error");
        }
        Err(boxed)
    }

    #[cfg(feature = "std")]
    fn is_in(io: &std::io::Error) -> bool {
        io.get_ref().is_some_and(<dyn StdError + Send + Sync>::is::<Exported>)
    }

    /// The [`Error`] an `io::Error` holds, or the `io::Error` unchanged.
    #[cfg(feature = "std")]
    fn take_from_io(io: std::io::Error) -> Result<Error, std::io::Error> {
        if !Exported::is_in(&io) {
            return Err(io);
        }
        let kind = io.kind();
        match io.into_inner().map(<dyn StdError + Send + Sync>::downcast::<Exported>) {
            Some(Ok(exported)) => Ok(exported.error),
            Some(Err(other)) => Err(std::io::Error::new(kind, other)),
            None => Err(std::io::Error::from(kind)),
        }
    }
}

impl fmt::Debug for Exported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}
impl fmt::Display for Exported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}
impl StdError for Exported {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.chain.as_deref().map(|link| link as &(dyn StdError + 'static))
    }
}

/// One link of the `source()` chain an exported [`Error`] gets after its
/// primary message: a cause of the primary error (its `Display`), then each
/// suppressed error (`suppressed: ` and its `{:#}`, with its own causes and
/// suppressed errors). A source chain is a list each error ends, so the
/// primary error's own causes cannot be followed by anything: the links
/// are their text, rendered once, when the error leaves.
struct ChainLink {
    text: String,
    next: Option<Box<ChainLink>>,
}

impl ChainLink {
    /// The links that follow `error`'s primary message, or `None` when it
    /// has neither causes nor suppressed errors.
    fn after(error: &Error) -> Option<Box<ChainLink>> {
        let causes = error.chain().skip(1).map(|cause| alloc::format!("{cause}"));
        let suppressed = error.suppressed().iter().map(|later| alloc::format!("suppressed: {later:#}"));
        let texts: Vec<String> = causes.chain(suppressed).collect();
        texts.into_iter().rev().fold(None, |next, text| Some(Box::new(ChainLink { text, next })))
    }
}

impl fmt::Debug for ChainLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        let mut link = Some(self);
        while let Some(l) = link {
            list.entry(&l.text);
            link = l.next.as_deref();
        }
        list.finish()
    }
}
impl fmt::Display for ChainLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl StdError for ChainLink {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.next.as_deref().map(|link| link as &(dyn StdError + 'static))
    }
}

impl From<Error> for Box<dyn StdError + Send + Sync + 'static> {
    /// Without suppressed errors, the wrapped error itself (so a later
    /// `downcast` finds it). With them, an error whose `Display` and
    /// `Debug` are the [`Error`]'s own and whose `source()` chain lists the
    /// primary error's causes, then each suppressed error; give it to
    /// [`Error::from_boxed`] to have the [`Error`] back, suppressed list
    /// and all.
    ///
    /// ```
    /// use std::error::Error as _;
    ///
    /// let mut e = managed::Error::msg("write failed");
    /// e.push_suppressed(managed::Error::msg("close failed"));
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = e.into();
    /// assert_eq!(boxed.to_string(), "write failed");
    /// assert_eq!(boxed.source().map(|s| s.to_string()).as_deref(), Some("suppressed: close failed"));
    /// let back = managed::Error::from_boxed(boxed);
    /// assert_eq!(back.suppressed()[0].to_string(), "close failed");
    /// ```
    fn from(error: Error) -> Self {
        if error.inner.suppressed.is_empty() {
            error.inner.error.into_std()
        } else {
            Box::new(Exported::new(error))
        }
    }
}

impl From<Error> for Box<dyn StdError + 'static> {
    /// As the conversion into `Box<dyn Error + Send + Sync>`.
    fn from(error: Error) -> Self {
        let boxed: Box<dyn StdError + Send + Sync> = error.into();
        boxed
    }
}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    /// An `io::Error` without suppressed errors comes back unchanged; any
    /// other error keeps its `ErrorKind` (or `Other`) and is wrapped: alone,
    /// as itself (`get_ref()` downcasts to it); with suppressed errors, as
    /// the boxed conversion wraps it (its `source()` chain lists them, and
    /// converting the `io::Error` back into an [`Error`] gives it back
    /// whole).
    ///
    /// ```
    /// use std::error::Error as _;
    /// use std::io;
    ///
    /// let mut e = managed::Error::new(io::Error::from(io::ErrorKind::NotFound));
    /// e.push_suppressed(managed::Error::msg("close failed"));
    /// let io: io::Error = e.into();
    /// assert_eq!(io.kind(), io::ErrorKind::NotFound);
    /// assert_eq!(io.source().map(|s| s.to_string()).as_deref(), Some("suppressed: close failed"));
    /// let back = managed::Error::from(io);
    /// assert_eq!(back.suppressed().len(), 1);
    /// ```
    fn from(error: Error) -> Self {
        let kind = error.inner.error.io_kind().unwrap_or(std::io::ErrorKind::Other);
        if error.inner.suppressed.is_empty() {
            match error.inner.error.into_io() {
                Ok(io) => io,
                Err(payload) => std::io::Error::new(kind, payload.into_std()),
            }
        } else {
            std::io::Error::new(kind, Exported::new(error))
        }
    }
}

#[cfg(feature = "anyhow")]
impl From<Error> for anyhow::Error {
    /// Without suppressed errors, the wrapped error becomes the anyhow
    /// error: its `downcast_ref` finds it, and an error that came from
    /// `anyhow` comes back unchanged.
    ///
    /// With suppressed errors, the anyhow error is the [`Error`] itself as
    /// context (`downcast_ref::<managed::Error>()` reaches it, and
    /// [`Error::from_anyhow`] gives it back whole), followed in `chain()` by
    /// the primary error's causes, then each suppressed error. So `{}` is the
    /// primary message, and `{:#}` and `{:?}` (what `fn main() ->
    /// anyhow::Result<()>` prints) show every suppressed error. The primary
    /// error is reached through the [`Error`]:
    /// `a.downcast_ref::<managed::Error>()?.downcast_ref::<T>()`.
    ///
    /// ```
    /// let mut e = managed::Error::new(std::io::Error::other("write failed"));
    /// e.push_suppressed(managed::Error::msg("close failed"));
    /// let a: anyhow::Error = e.into();
    /// assert_eq!(a.to_string(), "write failed");
    /// assert_eq!(format!("{a:#}"), "write failed: suppressed: close failed");
    /// assert!(format!("{a:?}").starts_with("write failed\n\nCaused by:\n    suppressed: close failed"));
    /// let inner = a.downcast_ref::<managed::Error>().expect("the managed::Error");
    /// assert_eq!(inner.suppressed()[0].to_string(), "close failed");
    /// assert!(inner.downcast_ref::<std::io::Error>().is_some());
    /// let back = managed::Error::from_anyhow(a);
    /// assert_eq!(back.suppressed().len(), 1);
    /// ```
    fn from(error: Error) -> Self {
        let links = if error.inner.suppressed.is_empty() { None } else { ChainLink::after(&error) };
        match links {
            None => error.inner.error.into_anyhow(),
            // The anyhow error's own text is the context's `{}` (the primary
            // message); what follows it in `{:#}` and `{:?}` is its source chain.
            Some(links) => anyhow::Error::new(*links).context(error),
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
    ///
    /// An anyhow error made from an [`Error`] (by `into()`, or
    /// `anyhow::Error::msg`) gives that [`Error`] back, suppressed list and
    /// all; one with `context` added since is kept whole as above.
    ///
    /// ```
    /// let mut e = managed::Error::msg("primary");
    /// e.push_suppressed(managed::Error::msg("close failed"));
    /// let a: anyhow::Error = e.into();
    /// assert_eq!(managed::Error::from_anyhow(a).suppressed().len(), 1);
    /// ```
    #[must_use]
    pub fn from_anyhow(error: anyhow::Error) -> Error {
        // The `Error` is the anyhow error's own object (not the context or
        // cause of another one, which `downcast` would drop) when nothing
        // follows it but the links it was exported with.
        let ours =
            error.downcast_ref::<Error>().is_some() && error.chain().nth(1).is_none_or(<dyn StdError>::is::<ChainLink>);
        if ours {
            match error.downcast::<Error>() {
                Ok(managed) => return managed,
                Err(error) => return Error::from_payload(Box::new(AnyhowPayload(error))),
            }
        }
        Error::from_payload(Box::new(AnyhowPayload(error)))
    }
}

/// `value` as a `U` when `T` is `U`, without allocating; `value` back
/// otherwise. (A `TypeId` check the optimiser resolves per `T`.)
#[cfg(feature = "std")]
fn cast<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let mut slot = Some(value);
    if let Some(same) = (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        if let Some(value) = same.take() {
            return Ok(value);
        }
    }
    match slot {
        Some(value) => Err(value),
        None => unreachable!("taken only when `T` is `U`"),
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

    /// An error caused by `Custom`.
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

    /// An error with a cause and two suppressed errors, the second with a
    /// suppressed error of its own.
    #[cfg(feature = "std")]
    fn with_suppressed() -> Error {
        let mut e = Error::new(std::io::Error::new(std::io::ErrorKind::NotFound, Outer(Custom)));
        e.push_suppressed(Error::msg("close failed"));
        let mut flush = Error::msg("flush failed");
        flush.push_suppressed(Error::msg("sync failed"));
        e.push_suppressed(flush);
        e
    }

    /// What `{:#}` of an error whose chain the suppressed errors follow reads.
    #[cfg(feature = "std")]
    const CHAIN: &str = "outer: custom: suppressed: close failed: suppressed: flush failed\n  suppressed: sync failed";

    #[cfg(feature = "std")]
    fn chain_of(e: &(dyn StdError + 'static)) -> alloc::vec::Vec<String> {
        core::iter::successors(Some(e), |e: &&(dyn StdError + 'static)| (*e).source())
            .map(ToString::to_string)
            .collect()
    }

    #[cfg(feature = "anyhow")]
    #[test]
    fn into_anyhow_keeps_the_suppressed_errors() {
        let a: anyhow::Error = with_suppressed().into();
        assert_eq!(a.to_string(), "outer");
        assert_eq!(alloc::format!("{a:#}"), CHAIN);
        // (Followed by a backtrace when RUST_BACKTRACE asks for one.)
        let report = alloc::format!("{a:?}");
        assert_eq!(
            report.split("\n\nStack backtrace:").next(),
            Some(
                "outer\n\nCaused by:\n    0: custom\n    1: suppressed: close failed\n    2: suppressed: flush failed\n         \
                 suppressed: sync failed"
            )
        );
        assert_eq!(
            a.chain().map(ToString::to_string).collect::<alloc::vec::Vec<_>>(),
            ["outer", "custom", "suppressed: close failed", "suppressed: flush failed\n  suppressed: sync failed"]
        );
        let inner = a.downcast_ref::<Error>().expect("the managed::Error is reachable");
        assert_eq!(inner.suppressed().len(), 2);
        assert_eq!(
            inner.downcast_ref::<std::io::Error>().map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
        assert!(alloc::format!("{a:#?}").contains("sync failed"));

        // Back: the same error, suppressed list and all.
        let back = Error::from_anyhow(a);
        assert_eq!(back.suppressed().len(), 2);
        assert_eq!(back.suppressed()[1].suppressed()[0].to_string(), "sync failed");
        assert!(back.downcast_ref::<std::io::Error>().is_some());

        // Context added on the way: kept whole, the suppressed errors still shown.
        let a: anyhow::Error = anyhow::Error::from(with_suppressed()).context("saving");
        assert!(alloc::format!("{a:#}").starts_with("saving: outer: custom: suppressed: close failed"));
        let kept = Error::from_anyhow(a);
        assert_eq!(kept.to_string(), "saving");
        assert!(kept.suppressed().is_empty());
        assert!(alloc::format!("{kept:#}").contains("suppressed: sync failed"));

        // `anyhow::Error::msg` and `anyhow!` of an `Error` round-trip too.
        let back = Error::from_anyhow(anyhow::Error::msg(with_suppressed()));
        assert_eq!(back.suppressed().len(), 2);
    }

    /// An error that came from anyhow, given suppressed errors, goes back
    /// into anyhow with them.
    #[cfg(feature = "anyhow")]
    #[test]
    fn from_anyhow_then_suppressed_then_back() {
        let mut e = Error::from_anyhow(anyhow::Error::new(Custom).context("loading"));
        e.push_suppressed(Error::msg("close failed"));
        let a: anyhow::Error = e.into();
        assert_eq!(alloc::format!("{a:#}"), "loading: custom: suppressed: close failed");
        assert_eq!(a.downcast_ref::<Error>().map(|e| e.suppressed().len()), Some(1));
    }

    /// The std conversions that wrap the error put the suppressed errors in
    /// the `source()` chain, so anyhow and error reporters print them.
    #[cfg(feature = "std")]
    #[test]
    fn boxed_and_io_errors_chain_the_suppressed_errors() {
        let boxed: Box<dyn StdError + Send + Sync> = with_suppressed().into();
        assert_eq!(chain_of(&*boxed).join(": "), CHAIN);
        assert!(alloc::format!("{boxed:?}").contains("Suppressed:"));
        let io: std::io::Error = with_suppressed().into();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        // io::Error's `source()` skips the error it wraps, whose message is its own.
        assert_eq!(chain_of(&io).join(": "), CHAIN);
        #[cfg(feature = "anyhow")]
        {
            let a = anyhow::Error::from_boxed(with_suppressed().into());
            assert_eq!(alloc::format!("{a:#}"), CHAIN);
            let a = anyhow::Error::new(std::io::Error::from(with_suppressed()));
            assert_eq!(alloc::format!("{a:#}"), CHAIN);
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn boxed_and_io_errors_give_the_error_back() {
        fn io_step() -> std::io::Result<()> {
            Err(with_suppressed())?
        }
        fn managed_step() -> Result<(), Error> {
            io_step()?;
            Ok(())
        }
        let back = Error::from_boxed(with_suppressed().into());
        assert_eq!((back.to_string(), back.suppressed().len()), (String::from("outer"), 2));
        let back = Error::from(std::io::Error::from(with_suppressed()));
        assert_eq!(back.suppressed().len(), 2);
        assert!(back.downcast_ref::<std::io::Error>().is_some());
        // A box around the io::Error.
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(std::io::Error::from(with_suppressed()));
        assert_eq!(Error::from_boxed(boxed).suppressed().len(), 2);
        // `?` into an io::Result, then `?` back into a managed one.
        assert_eq!(managed_step().map_err(|e| e.suppressed().len()), Err(2));
        // Other io errors and boxes are wrapped as before.
        let plain = Error::from(std::io::Error::other(Custom));
        assert!(plain.suppressed().is_empty() && plain.downcast_ref::<std::io::Error>().is_some());
        let plain = Error::from_boxed(Box::new(std::io::Error::other(Custom)));
        assert!(plain.as_std().and_then(|e| e.downcast_ref::<std::io::Error>()).is_some());
    }

    /// Without suppressed errors the conversions hand the error itself on.
    #[cfg(feature = "std")]
    #[test]
    fn io_error_of_a_message_or_custom_error_wraps_it_directly() {
        let io: std::io::Error = Error::new(Custom).into();
        assert!(io.get_ref().and_then(|inner| inner.downcast_ref::<Custom>()).is_some());
    }

    #[test]
    fn message_downcasts_to_its_type() {
        let e = Error::msg("text");
        assert_eq!(e.downcast_ref::<&str>(), Some(&"text"));
        assert_eq!("x".to_string(), Error::msg("x").to_string());
        assert_eq!(e.chain().count(), 0);
    }
}
