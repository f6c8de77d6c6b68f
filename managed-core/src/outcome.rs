//! How a managed block ended, as every exit sees it: [`Outcome`], with
//! [`ErrorView`] (the block's error, downcastable) and [`PanicView`] (the
//! panic's message and payload).
//!
//! ```
//! use managed::Outcome;
//!
//! // What an exit does with the outcome it receives.
//! fn verdict(outcome: &Outcome<'_>) -> String {
//!     match outcome {
//!         Outcome::Ok => "commit".into(),
//!         Outcome::Err(e) => match e.downcast_ref::<std::io::Error>() {
//!             Some(io) => format!("rollback after an I/O error: {io}"),
//!             None => format!("rollback after {e:?}"),
//!         },
//!         Outcome::Panic(p) => format!("rollback after a panic: {}", p.message().unwrap_or("?")),
//!         Outcome::Cancelled => "rollback: cancelled".into(),
//!     }
//! }
//! let err = std::io::Error::other("disk full");
//! assert_eq!(verdict(&Outcome::Ok), "commit");
//! assert_eq!(verdict(&Outcome::err(&err)), "rollback after an I/O error: disk full");
//! assert_eq!(verdict(&Outcome::err(&"no row")), "rollback after \"no row\"");
//! ```

use core::any::Any;
use core::fmt;

/// How a managed block ended. Every exit and every outcome-aware `defer!`
/// receives one.
///
/// | variant | when | Python analogue |
/// | --- | --- | --- |
/// | [`Outcome::Ok`] | the block produced `Ok(..)` | `__exit__(None, None, None)` |
/// | [`Outcome::Err`] | the block ended with `Err(e)`: its tail, `return`, or `?` | `__exit__(type, exc, tb)` |
/// | [`Outcome::Panic`] | the block panicked | `__exit__` with a `BaseException` |
/// | [`Outcome::Cancelled`] | the block did not say how it ended: an async scope's future was dropped before the block finished, or a stack or [`Guard`](crate::Guard) was dropped without being closed or exited | `CancelledError` (a Python stack never closed runs no exit at all) |
///
/// Every exit sees the primary failure so far: the block's own, or, when the
/// block succeeded, the first failing exit's (the root cause stays first, as
/// in Java and D; Python would show the latest instead).
///
/// `Outcome` is `Copy`, `Send` and `Sync`, so an `async fn exit` may keep
/// `&Outcome` across an `.await` and still be spawnable.
///
/// # Example
///
/// ```
/// use managed::Outcome;
///
/// let err = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
/// let outcome = Outcome::err(&err);
/// assert!(outcome.is_err() && outcome.is_failure());
/// let io = outcome.error::<std::io::Error>().expect("the block's error");
/// assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);
/// assert!(Outcome::Ok.is_ok());
/// ```
#[derive(Clone, Copy)]
pub enum Outcome<'a> {
    /// The block produced `Ok(..)`.
    Ok,
    /// The block ended with an error: from its tail, an explicit `return`, or `?`.
    Err(ErrorView<'a>),
    /// The block panicked; the payload is reachable through the view.
    Panic(PanicView<'a>),
    /// The block did not say how it ended, so it is not a success: the
    /// future of an async scope (or of a stack's `aclose`) was dropped
    /// before it finished, or an `ExitStack`, an async stack or a
    /// [`Guard`](crate::Guard) was dropped without being closed or exited
    /// (after a `?`, say). Sync exits see it too: treat it as a failure
    /// (roll back), never as `Ok`.
    Cancelled,
}

impl<'a> Outcome<'a> {
    /// Builds an [`Outcome::Err`] by hand, e.g. to close a manager manually
    /// or to test an exit.
    ///
    /// ```
    /// let outcome = managed::Outcome::err(&"disk full");
    /// assert_eq!(outcome.error::<&str>(), Some(&"disk full"));
    /// ```
    #[must_use]
    pub fn err<E: fmt::Debug + Sync + 'static>(error: &'a E) -> Outcome<'a> {
        Outcome::Err(ErrorView { error })
    }

    /// Builds an [`Outcome::Panic`] from a caught panic payload.
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
    /// let outcome = managed::Outcome::panic(&*payload);
    /// assert_eq!(outcome.panic_message(), Some("boom"));
    /// ```
    #[must_use]
    pub fn panic(payload: &'a (dyn Any + Send)) -> Outcome<'a> {
        Outcome::Panic(PanicView::new(Some(payload)))
    }

    /// `true` for [`Outcome::Ok`].
    ///
    /// ```
    /// assert!(managed::Outcome::Ok.is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }

    /// `true` for [`Outcome::Err`].
    ///
    /// ```
    /// assert!(managed::Outcome::err(&1u8).is_err());
    /// ```
    pub fn is_err(&self) -> bool {
        matches!(self, Outcome::Err(_))
    }

    /// `true` for [`Outcome::Panic`].
    ///
    /// ```
    /// assert!(!managed::Outcome::Ok.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, Outcome::Panic(_))
    }

    /// `true` for [`Outcome::Cancelled`]: the block did not say how it
    /// ended (a cancelled async scope, or a stack or guard dropped unclosed,
    /// in sync code too).
    ///
    /// ```
    /// let stack = managed::ExitStack::new();
    /// stack.push(|outcome: &managed::Outcome<'_>| {
    ///     assert!(outcome.is_cancelled()); // dropped without `close`
    ///     Ok(false)
    /// });
    /// drop(stack);
    /// assert!(managed::Outcome::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Outcome::Cancelled)
    }

    /// `true` for anything but [`Outcome::Ok`]: error, panic or cancellation.
    ///
    /// ```
    /// assert!(managed::Outcome::Cancelled.is_failure());
    /// assert!(!managed::Outcome::Ok.is_failure());
    /// ```
    pub fn is_failure(&self) -> bool {
        !self.is_ok()
    }

    /// The block's error downcast to `T`, if the block failed with an error.
    ///
    /// Looks through `managed::Error`: a scope returning
    /// `managed::Error` that failed with an `std::io::Error` answers
    /// `error::<std::io::Error>()`.
    ///
    /// ```
    /// let e = managed::Error::new(std::io::Error::from(std::io::ErrorKind::NotFound));
    /// let outcome = managed::Outcome::err(&e);
    /// assert!(outcome.error::<managed::Error>().is_some());
    /// assert_eq!(outcome.error::<std::io::Error>().map(|e| e.kind()),
    ///            Some(std::io::ErrorKind::NotFound));
    /// ```
    pub fn error<T: 'static>(&self) -> Option<&'a T> {
        match self {
            Outcome::Err(view) => view.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// The panic message, when the block panicked with a string payload.
    ///
    /// ```
    /// assert_eq!(managed::Outcome::Ok.panic_message(), None);
    /// ```
    pub fn panic_message(&self) -> Option<&'a str> {
        match self {
            Outcome::Panic(view) => view.message(),
            _ => None,
        }
    }
}

/// What an exit run from a destructor (a dropped `Guard` or stack) sees:
/// a panic, its payload not available, while the thread unwinds (without
/// `std` that cannot be known), else `otherwise` (`Cancelled`: the
/// destructor was not told how the block ended).
pub(crate) fn in_drop(otherwise: Outcome<'static>) -> Outcome<'static> {
    #[cfg(feature = "std")]
    let unwinding = std::thread::panicking();
    #[cfg(not(feature = "std"))]
    let unwinding = false;
    if unwinding {
        Outcome::Panic(PanicView::new(None))
    } else {
        otherwise
    }
}

impl fmt::Debug for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("Ok"),
            Outcome::Err(view) => f.debug_tuple("Err").field(view).finish(),
            Outcome::Panic(view) => f.debug_tuple("Panic").field(view).finish(),
            Outcome::Cancelled => f.write_str("Cancelled"),
        }
    }
}

/// The block's error, as an [`Outcome::Err`] carries it: `Debug` and
/// downcastable.
///
/// ```
/// let outcome = managed::Outcome::err(&42u32);
/// if let managed::Outcome::Err(view) = outcome {
///     assert_eq!(view.downcast_ref::<u32>(), Some(&42));
///     assert_eq!(format!("{view:?}"), "42");
/// }
/// ```
#[derive(Clone, Copy)]
pub struct ErrorView<'a> {
    error: &'a (dyn BlockError + 'a),
}

impl<'a> ErrorView<'a> {
    /// The error downcast to `T`; looks through `managed::Error` to the error
    /// it wraps. (For `anyhow::Error`, downcast to it, then use its own
    /// `downcast_ref`, which needs `T: Display + Debug + Send + Sync`.)
    ///
    /// ```
    /// let e = managed::Error::msg("no space");
    /// let view = match managed::Outcome::err(&e) { managed::Outcome::Err(v) => v, _ => unreachable!() };
    /// assert_eq!(view.downcast_ref::<&str>(), Some(&"no space"));
    /// ```
    pub fn downcast_ref<T: 'static>(&self) -> Option<&'a T> {
        let any = self.error.as_any();
        if let Some(t) = any.downcast_ref::<T>() {
            return Some(t);
        }
        crate::error::look_inside::<T>(any)
    }

    /// The error as `&dyn Debug`.
    ///
    /// ```
    /// let outcome = managed::Outcome::err(&"bad");
    /// if let managed::Outcome::Err(view) = outcome {
    ///     assert_eq!(format!("{:?}", view.as_debug()), "\"bad\"");
    /// }
    /// ```
    pub fn as_debug(&self) -> &'a (dyn fmt::Debug + Sync) {
        self.error.as_debug()
    }
}

impl fmt::Debug for ErrorView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.as_debug().fmt(f)
    }
}

/// Object-safe view of a block's error: `Debug + Sync + 'static` types only.
trait BlockError: Sync {
    fn as_any(&self) -> &dyn Any;
    fn as_debug(&self) -> &(dyn fmt::Debug + Sync);
}

impl<E: fmt::Debug + Sync + 'static> BlockError for E {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_debug(&self) -> &(dyn fmt::Debug + Sync) {
        self
    }
}

/// A panic, as an [`Outcome::Panic`] carries it: the message and a typed
/// downcast of the payload.
///
/// The payload of a panic is `Box<dyn Any + Send>`, which is not `Sync`; this
/// view only hands out `Sync` data, so [`Outcome`] stays `Send + Sync`.
///
/// ```
/// let payload = std::panic::catch_unwind(|| std::panic::panic_any(7u16)).unwrap_err();
/// if let managed::Outcome::Panic(view) = managed::Outcome::panic(&*payload) {
///     assert_eq!(view.downcast_ref::<u16>(), Some(&7));
///     assert_eq!(view.message(), None);
/// }
/// ```
#[derive(Clone, Copy)]
pub struct PanicView<'a> {
    payload: Option<&'a (dyn Any + Send)>,
}

// SAFETY: `PanicView` shares a `&(dyn Any + Send)` between threads, which is
// only sound for what it lets other threads do with it. Its API reads the
// payload in two ways: `type_id` through `Any`'s vtable (the only impl of
// `Any` is the blanket one, which reads no data of `self`), and
// `downcast_ref::<T>` / `message()`, which hand out `&T` only for `T: Sync`
// (`&'static str` and `String` for `message`). No `&` to non-`Sync` data ever
// leaves the view, so concurrent use from several threads cannot race.
// Exercised by `panic_view_is_shared_across_threads` (run under Miri where
// nightly is present).
unsafe impl Sync for PanicView<'_> {}
// SAFETY: sending the view sends a shared reference; see the `Sync` argument.
unsafe impl Send for PanicView<'_> {}

impl<'a> PanicView<'a> {
    /// A view of `payload`; `None` when the payload is not available (a
    /// guard dropped during unwinding cannot see it).
    ///
    /// ```
    /// let view = managed::outcome::PanicView::new(None);
    /// assert_eq!(view.message(), None);
    /// ```
    #[must_use]
    pub fn new(payload: Option<&'a (dyn Any + Send)>) -> Self {
        PanicView { payload }
    }

    /// The panic message, when the payload is a `&str` or a `String` (what
    /// `panic!("...")` produces).
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| panic!("at {}", 3)).unwrap_err();
    /// let view = managed::outcome::PanicView::new(Some(&*payload));
    /// assert_eq!(view.message(), Some("at 3"));
    /// ```
    pub fn message(&self) -> Option<&'a str> {
        let payload: &'a (dyn Any + Send) = self.payload?;
        if let Some(s) = payload.downcast_ref::<&'static str>() {
            return Some(s);
        }
        #[cfg(feature = "alloc")]
        if let Some(s) = payload.downcast_ref::<alloc::string::String>() {
            return Some(s.as_str());
        }
        None
    }

    /// The payload downcast to `T` (only `Sync` types, see the type's docs).
    ///
    /// ```
    /// let payload = std::panic::catch_unwind(|| std::panic::panic_any(1.5f64)).unwrap_err();
    /// let view = managed::outcome::PanicView::new(Some(&*payload));
    /// assert_eq!(view.downcast_ref::<f64>(), Some(&1.5));
    /// ```
    pub fn downcast_ref<T: Any + Sync>(&self) -> Option<&'a T> {
        self.payload?.downcast_ref::<T>()
    }

    /// `true` when the payload is available.
    ///
    /// ```
    /// assert!(!managed::outcome::PanicView::new(None).has_payload());
    /// ```
    pub fn has_payload(&self) -> bool {
        self.payload.is_some()
    }
}

impl fmt::Debug for PanicView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.payload, self.message()) {
            (_, Some(m)) => fmt::Debug::fmt(m, f),
            (Some(_), None) => f.write_str("<non-string panic payload>"),
            (None, None) => f.write_str("<panic payload not available>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn outcome_is_send_sync_and_copy() {
        assert_send_sync::<Outcome<'static>>();
        let o = Outcome::Ok;
        let p = o;
        assert!(o.is_ok() && p.is_ok());
    }

    #[test]
    fn accessors_match_variants() {
        let e = 5i32;
        let all = [Outcome::Ok, Outcome::err(&e), Outcome::Panic(PanicView::new(None)), Outcome::Cancelled];
        let flags: [(bool, bool, bool, bool, bool); 4] =
            all.map(|o| (o.is_ok(), o.is_err(), o.is_panic(), o.is_cancelled(), o.is_failure()));
        assert_eq!(
            flags,
            [
                (true, false, false, false, false),
                (false, true, false, false, true),
                (false, false, true, false, true),
                (false, false, false, true, true),
            ]
        );
        assert_eq!(all[1].error::<i32>(), Some(&5));
        assert_eq!(all[1].error::<u32>(), None);
        assert_eq!(all[0].error::<i32>(), None);
    }

    #[cfg(feature = "std")]
    #[test]
    fn panic_view_is_shared_across_threads() {
        extern crate std;
        let payload = std::panic::catch_unwind(|| std::panic::panic_any(std::string::String::from("shared")))
            .expect_err("panics");
        let outcome = Outcome::panic(&*payload);
        std::thread::scope(|s| {
            let a = s.spawn(|| outcome.panic_message().map(str::len));
            let b = s.spawn(|| match outcome {
                Outcome::Panic(v) => v.downcast_ref::<std::string::String>().cloned(),
                _ => None,
            });
            assert_eq!(a.join().expect("thread a"), Some(6));
            assert_eq!(b.join().expect("thread b").as_deref(), Some("shared"));
        });
        assert_eq!(std::format!("{outcome:?}"), "Panic(\"shared\")");
    }
}
