//! The rest of Python's `contextlib`: [`suppress`], [`closing`] (with the
//! [`Close`] trait), [`nullcontext`] and [`timed`].
//!
//! `nullcontext` and `timed` cannot fail: their error type is
//! [`Infallible`]. A `scope!` entering them needs
//! an error type with `From<Infallible>`: [`managed::Error`](crate::Error),
//! `anyhow::Error` and `Box<dyn Error + Send + Sync>` have it,
//! `std::io::Error` does not (use `managed::Error` there).
//!
//! ```
//! use managed::{closing, nullcontext, scope, suppress, with, Close, Error};
//!
//! struct Conn(Vec<&'static str>);
//! impl Close for Conn {
//!     type Error = Error;
//!     fn close(self) -> Result<(), Error> {
//!         println!("closed after {:?}", self.0);
//!         Ok(())
//!     }
//! }
//!
//! // `nullcontext`: "a manager or nothing" without two code paths.
//! let label = scope! {
//!     let conn = with!(closing(Conn(vec![])))?;     // closed on every outcome
//!     let label = with!(nullcontext("report"))?;    // lends the value, does nothing
//!     conn.0.push("SELECT 1");
//!     Ok::<_, Error>(*label)
//! }?;
//! assert_eq!(label, "report");
//!
//! // `suppress`: only the errors the predicate names become `None`.
//! let missing = suppress(|e: &std::num::ParseIntError| e.to_string().contains("empty"));
//! assert_eq!(missing.run(|| "".parse::<u8>()), Ok(None));
//! assert!(missing.run(|| "x".parse::<u8>()).is_err());
//! # Ok::<(), Error>(())
//! ```

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;

use crate::{Manage, Outcome};

/// Selective suppression (Python's `contextlib.suppress`): only the errors
/// the predicate names are suppressed, and a suppressed block yields `None`,
/// never a silent default.
///
/// The predicate takes the error type it names, `&E`. A block's error
/// matches when it *is* an `E` or a `managed::Error` around one, as
/// [`Outcome::error`] sees it; then the predicate decides. (An
/// `anyhow::Error` is not looked into: name it, `suppress(|e: &anyhow::Error|
/// e.downcast_ref::<E>().is_some())`.) Panics are never
/// suppressed. `suppress(|_: &E| false)` suppresses nothing (Python's
/// `suppress()` with no arguments).
///
/// Use it on a closure with [`Suppress::run`] (reusable and nestable: it
/// takes `&self`), or in an `ExitStack` with [`Suppress::exit`].
///
/// ```
/// use std::io::ErrorKind;
///
/// let not_found = managed::suppress(|e: &std::io::Error| e.kind() == ErrorKind::NotFound);
/// let removed = not_found.run(|| std::fs::remove_file("/surely/not/here"))?;
/// assert_eq!(removed, None); // the NotFound error was suppressed
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn suppress<E: 'static, P: Fn(&E) -> bool>(predicate: P) -> Suppress<E, P> {
    Suppress { predicate, _error: PhantomData }
}

/// The result of [`suppress`]: a predicate over errors of type `E`.
///
/// ```
/// let ignore_parse: managed::contextlib::Suppress<std::num::ParseIntError, _> = managed::suppress(|_| true);
/// assert_eq!(ignore_parse.run(|| "x".parse::<u8>()), Ok(None));
/// ```
pub struct Suppress<E, P> {
    predicate: P,
    _error: PhantomData<fn(&E)>,
}

impl<E: 'static, P: Fn(&E) -> bool> Suppress<E, P> {
    /// `true` when `outcome` is an error that is (or wraps) an `E` the
    /// predicate accepts.
    ///
    /// ```
    /// let s = managed::suppress(|e: &std::num::ParseIntError| true);
    /// let e = "x".parse::<u8>().unwrap_err();
    /// assert!(s.matches(&managed::Outcome::err(&e)));
    /// assert!(!s.matches(&managed::Outcome::Ok));
    /// ```
    pub fn matches(&self, outcome: &Outcome<'_>) -> bool {
        outcome.error::<E>().is_some_and(|e| (self.predicate)(e))
    }

    /// Runs `body`: `Ok(Some(v))` on success, `Ok(None)` when its error
    /// matches, the error itself otherwise.
    ///
    /// # Errors
    /// The body's error, when the predicate does not accept it.
    ///
    /// ```
    /// let ignore_parse = managed::suppress(|_: &std::num::ParseIntError| true);
    /// assert_eq!(ignore_parse.run(|| "7".parse::<i32>()), Ok(Some(7)));
    /// assert_eq!(ignore_parse.run(|| "x".parse::<i32>()), Ok(None));
    /// ```
    pub fn run<T, F>(&self, body: impl FnOnce() -> Result<T, F>) -> Result<Option<T>, F>
    where
        F: fmt::Debug + Sync + 'static,
    {
        match body() {
            Ok(value) => Ok(Some(value)),
            Err(error) if self.matches(&Outcome::err(&error)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// An exit function for [`ExitStack::push`](crate::ExitStack::push):
    /// suppresses the current error when it matches (Python's
    /// `stack.enter_context(suppress(...))`).
    ///
    /// ```
    /// use managed::{ExitStack, Outcome};
    ///
    /// let stack = ExitStack::new();
    /// stack.push(managed::suppress(|_: &std::num::ParseIntError| true).exit());
    /// let e = "x".parse::<u8>().unwrap_err();
    /// assert!(stack.close_with(&Outcome::err(&e))?);
    /// # Ok::<(), managed::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn exit(self) -> impl FnOnce(&Outcome<'_>) -> Result<bool, crate::Error> {
        move |outcome: &Outcome<'_>| Ok(self.matches(outcome))
    }
}

impl<E, P> fmt::Debug for Suppress<E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Suppress").field("error", &core::any::type_name::<E>()).finish_non_exhaustive()
    }
}

/// Something with an explicit, fallible close: what [`closing`] calls at
/// the end of the block, on every outcome.
///
/// ```
/// struct Connection { open: bool }
///
/// impl managed::Close for Connection {
///     type Error = std::io::Error;
///     fn close(mut self) -> std::io::Result<()> {
///         self.open = false;
///         Ok(())
///     }
/// }
/// # managed::Close::close(Connection { open: true }).unwrap();
/// ```
pub trait Close {
    /// Error of `close`.
    type Error: fmt::Debug;
    /// Releases the value and reports a failure to release it.
    ///
    /// # Errors
    /// When releasing fails.
    fn close(self) -> Result<(), Self::Error>;
}

/// Python's `contextlib.closing`: a manager whose exit calls
/// [`Close::close`] on every outcome; the target is the value.
///
/// ```
/// use managed::{Close, Manage, Outcome};
///
/// struct Session(Vec<&'static str>);
/// impl Close for Session {
///     type Error = std::convert::Infallible;
///     fn close(self) -> Result<(), Self::Error> {
///         assert_eq!(self.0, ["query"]);
///         Ok(())
///     }
/// }
///
/// let mut guard = managed::Guard::new(managed::closing(Session(vec![])));
/// guard.enter()?.0.push("query");
/// guard.exit(&Outcome::Ok)?;
/// # Ok::<(), std::convert::Infallible>(())
/// ```
pub fn closing<T: Close>(value: T) -> Closing<T> {
    Closing(value)
}

/// The manager [`closing`] returns.
///
/// ```
/// struct Noop;
/// impl managed::Close for Noop {
///     type Error = std::convert::Infallible;
///     fn close(self) -> Result<(), Self::Error> { Ok(()) }
/// }
/// let stack = managed::ExitStack::new();
/// let _noop: &mut Noop = stack.enter(managed::closing(Noop))?;
/// stack.close()?;
/// # Ok::<(), managed::Error>(())
/// ```
#[derive(Debug)]
pub struct Closing<T>(T);

impl<T> Closing<T> {
    /// Gives the value back without closing it.
    ///
    /// ```
    /// struct Noop;
    /// impl managed::Close for Noop {
    ///     type Error = std::convert::Infallible;
    ///     fn close(self) -> Result<(), Self::Error> { Ok(()) }
    /// }
    /// let _value: Noop = managed::closing(Noop).into_inner();
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[diagnostic::do_not_recommend]
impl<T: Close> Manage for Closing<T> {
    type Target = T;
    type Error = T::Error;

    fn enter(&mut self) -> Result<&mut T, T::Error> {
        Ok(&mut self.0)
    }

    fn exit(self, _outcome: &Outcome<'_>) -> Result<(), T::Error> {
        self.0.close()
    }
}

/// Python's `contextlib.nullcontext`: a manager that does nothing and lends
/// `value`; for code that takes "a manager or nothing".
///
/// ```
/// use managed::{Manage, Outcome};
///
/// let mut guard = managed::Guard::new(managed::nullcontext(41));
/// *guard.enter()? += 1;
/// assert_eq!(guard.into_inner().into_inner(), 42);
/// # Ok::<(), std::convert::Infallible>(())
/// ```
pub fn nullcontext<T>(value: T) -> NullContext<T> {
    NullContext(value)
}

/// The manager [`nullcontext`] returns.
///
/// ```
/// let stack = managed::ExitStack::new();
/// assert_eq!(*stack.enter(managed::nullcontext(5))?, 5);
/// stack.close()?;
/// # Ok::<(), managed::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct NullContext<T>(T);

impl<T> NullContext<T> {
    /// The value.
    ///
    /// ```
    /// assert_eq!(managed::nullcontext("v").into_inner(), "v");
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

#[diagnostic::do_not_recommend]
impl<T> Manage for NullContext<T> {
    type Target = T;
    type Error = Infallible;

    fn enter(&mut self) -> Result<&mut T, Infallible> {
        Ok(&mut self.0)
    }

    fn exit(self, _outcome: &Outcome<'_>) -> Result<(), Infallible> {
        Ok(())
    }
}

#[cfg(feature = "std")]
pub use self::timing::{timed, Timed};

#[cfg(feature = "std")]
mod timing {
    use std::time::{Duration, Instant};

    use super::{fmt, Infallible, Manage, Outcome};

    /// Times a block: the exit measures the time since enter and reports it,
    /// with the name and the outcome, to `tracing` (an `INFO` event with
    /// fields `name`, `elapsed_us`, `outcome`; feature `tracing`), or to the
    /// callback given with [`Timed::with_callback`]. Without either, the
    /// time is only available to the block, through [`Timed::elapsed`].
    ///
    /// ```
    /// use managed::{Manage, Outcome};
    ///
    /// let spent = std::rc::Rc::new(std::cell::Cell::new(None));
    /// let sink = spent.clone();
    /// let mut guard = managed::Guard::new(
    ///     managed::timed("load").with_callback(move |name, elapsed, outcome| {
    ///         assert_eq!(name, "load");
    ///         assert!(outcome.is_ok());
    ///         sink.set(Some(elapsed));
    ///     }),
    /// );
    /// let timer = guard.enter()?;
    /// std::thread::sleep(std::time::Duration::from_millis(2));
    /// assert!(timer.elapsed() >= std::time::Duration::from_millis(2));
    /// guard.exit(&Outcome::Ok)?;
    /// assert!(spent.get().unwrap() >= std::time::Duration::from_millis(2));
    /// # Ok::<(), std::convert::Infallible>(())
    /// ```
    pub fn timed(name: impl Into<std::borrow::Cow<'static, str>>) -> Timed {
        Timed { name: name.into(), started: None, callback: None }
    }

    /// The manager [`timed`] returns; the target is itself. `C` is the type
    /// of the callback given with [`Timed::with_callback`]; without one, a
    /// `fn` pointer type that is never set, so that `Timed` names the
    /// manager [`timed`] returns.
    ///
    /// `Timed<C>` is `Send` (and `Sync`) when `C` is: a scope holding one
    /// across an `.await` can be `tokio::spawn`ed as long as its callback is
    /// `Send`. The callback need not be `'static`; it may borrow.
    ///
    /// ```
    /// let stack = managed::ExitStack::new();
    /// let timer: &mut managed::contextlib::Timed = stack.enter(managed::timed("block"))?;
    /// assert_eq!(timer.name(), "block");
    /// stack.close()?;
    ///
    /// fn spawnable<T: Send>(_: &T) {}
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// spawnable(&managed::timed("step").with_callback(move |_, elapsed, _| tx.send(elapsed).unwrap()));
    /// # drop(rx);
    /// # Ok::<(), managed::Error>(())
    /// ```
    ///
    /// A callback that is not `Send` makes the manager not `Send`:
    ///
    /// ```compile_fail
    /// fn spawnable<T: Send>(_: &T) {}
    /// let shared = std::rc::Rc::new(std::cell::Cell::new(0));
    /// spawnable(&managed::timed("step").with_callback(move |_, _, _| shared.set(1)));
    /// ```
    pub struct Timed<C = fn(&str, Duration, &Outcome<'_>)> {
        name: std::borrow::Cow<'static, str>,
        started: Option<Instant>,
        callback: Option<C>,
    }

    impl<C> Timed<C> {
        /// Sends the measurement to `callback` (name, elapsed time, outcome)
        /// instead of `tracing`. The manager is `Send` when the callback is.
        ///
        /// ```
        /// let t = managed::timed("step").with_callback(|name, d, _| println!("{name}: {d:?}"));
        /// assert_eq!(t.name(), "step");
        /// ```
        #[must_use]
        pub fn with_callback<F>(self, callback: F) -> Timed<F>
        where
            F: FnOnce(&str, Duration, &Outcome<'_>),
        {
            Timed { name: self.name, started: self.started, callback: Some(callback) }
        }

        /// The name given to [`timed`].
        ///
        /// ```
        /// assert_eq!(managed::timed("x").name(), "x");
        /// ```
        pub fn name(&self) -> &str {
            &self.name
        }

        /// Time since enter (zero before enter).
        ///
        /// ```
        /// assert_eq!(managed::timed("x").elapsed(), std::time::Duration::ZERO);
        /// ```
        pub fn elapsed(&self) -> Duration {
            self.started.map_or(Duration::ZERO, |t| t.elapsed())
        }
    }

    impl<C> fmt::Debug for Timed<C> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Timed")
                .field("name", &self.name)
                .field("elapsed", &self.elapsed())
                .field("started", &self.started)
                .field("callback", &self.callback.is_some())
                .finish()
        }
    }

    #[diagnostic::do_not_recommend]
    impl<C: FnOnce(&str, Duration, &Outcome<'_>)> Manage for Timed<C> {
        type Target = Timed<C>;
        type Error = Infallible;

        fn enter(&mut self) -> Result<&mut Timed<C>, Infallible> {
            self.started = Some(Instant::now());
            Ok(self)
        }

        fn exit(self, outcome: &Outcome<'_>) -> Result<(), Infallible> {
            let elapsed = self.elapsed();
            match self.callback {
                Some(callback) => callback(&self.name, elapsed, outcome),
                None => {
                    #[cfg(feature = "tracing")]
                    tracing::info!(
                        name = %self.name,
                        elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                        outcome = ?outcome,
                        "timed"
                    );
                    #[cfg(not(feature = "tracing"))]
                    let _ = (elapsed, outcome);
                }
            }
            Ok(())
        }
    }
}
