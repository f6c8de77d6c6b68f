//! The error hook: where a failure goes when there is no caller to return it to.

use core::fmt;

/// Why a failure was sent to the [error hook](set_error_hook) instead of
/// being returned.
///
/// ```
/// let kind = managed::ReportKind::GuardDropped;
/// assert!(kind.to_string().contains("dropped"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportKind {
    /// An exit or defer failed (returned an error or panicked) while the
    /// block was unwinding from a panic; the original panic resumes.
    FailedWhileUnwinding,
    /// A later exit error could not be attached to the scope's error, because
    /// the scope's error type is not `managed::Error`.
    SuppressedNotAttached,
    /// The block's error was replaced by a panic in an exit or defer.
    ReplacedByPanic,
    /// A manually entered [`Guard`](crate::Guard) was dropped without
    /// `exit`, and the exit run for it (with `Outcome::Cancelled`, or
    /// `Outcome::Panic` while unwinding) failed.
    GuardDropped,
    /// An exit run because an async scope or async stack was cancelled (its
    /// future, or an `AsyncExitStack` / `SendAsyncExitStack`, dropped
    /// before it finished) failed or did not finish.
    Cancelled,
    /// An `ExitStack` was dropped without being closed, and an exit run for
    /// it (with `Outcome::Cancelled`, or `Outcome::Panic` while unwinding)
    /// failed: returned an error, or panicked (the panic is caught, the
    /// other exits still run).
    StackDropped,
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReportKind::FailedWhileUnwinding => "cleanup failed while unwinding from a panic",
            ReportKind::SuppressedNotAttached => {
                "later cleanup error not attached: the scope's error type is not managed::Error"
            }
            ReportKind::ReplacedByPanic => "error replaced by a panic in a cleanup",
            ReportKind::GuardDropped => "entered guard dropped without exit; its exit failed",
            ReportKind::Cancelled => "cleanup of a cancelled scope failed or did not finish",
            ReportKind::StackDropped => "exit stack dropped without close; an exit failed",
        })
    }
}

/// A failure handed to the [error hook](set_error_hook).
///
/// ```
/// let r = managed::Report::new(managed::ReportKind::Cancelled, &"timeout");
/// assert_eq!(r.to_string(), "managed: cleanup of a cancelled scope failed or did not finish: \"timeout\"");
/// ```
#[derive(Clone, Copy)]
pub struct Report<'a> {
    kind: ReportKind,
    error: &'a dyn fmt::Debug,
}

impl<'a> Report<'a> {
    /// A report of `error` for `kind`.
    ///
    /// ```
    /// let r = managed::Report::new(managed::ReportKind::GuardDropped, &1);
    /// assert_eq!(r.kind(), managed::ReportKind::GuardDropped);
    /// ```
    #[must_use]
    pub fn new(kind: ReportKind, error: &'a dyn fmt::Debug) -> Self {
        Report { kind, error }
    }

    /// Why the failure could not be returned.
    ///
    /// ```
    /// # let r = managed::Report::new(managed::ReportKind::Cancelled, &1);
    /// assert_eq!(r.kind(), managed::ReportKind::Cancelled);
    /// ```
    pub fn kind(&self) -> ReportKind {
        self.kind
    }

    /// The failure itself (an error, or a panic message).
    ///
    /// ```
    /// # let r = managed::Report::new(managed::ReportKind::Cancelled, &"x");
    /// assert_eq!(format!("{:?}", r.error()), "\"x\"");
    /// ```
    pub fn error(&self) -> &'a dyn fmt::Debug {
        self.error
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "managed: {}: {:?}", self.kind, self.error)
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report").field("kind", &self.kind).field("error", &self.error).finish()
    }
}

/// The signature of an error hook: a plain `fn` (see [`set_error_hook`]
/// for why), so a hook that keeps state keeps it in a `static`.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static DROPPED_GUARDS: AtomicUsize = AtomicUsize::new(0);
///
/// fn count_then_log(report: &managed::Report<'_>) {
///     if report.kind() == managed::ReportKind::GuardDropped {
///         DROPPED_GUARDS.fetch_add(1, Ordering::Relaxed);
///     }
///     managed::default_error_hook(report); // and still log it
/// }
///
/// let hook: managed::ErrorHook = count_then_log;
/// let previous = managed::set_error_hook(hook);
/// managed::report(managed::ReportKind::GuardDropped, &"flush failed");
/// managed::set_error_hook(previous);
/// assert_eq!(DROPPED_GUARDS.load(Ordering::Relaxed), 1);
/// ```
pub type ErrorHook = fn(&Report<'_>);

#[cfg(feature = "std")]
static HOOK: std::sync::RwLock<ErrorHook> = std::sync::RwLock::new(default_error_hook);

/// Replaces the error hook and returns the previous one.
///
/// The hook receives every failure that has no caller to go to: an exit that
/// fails while a panic unwinds, exit errors a scope's error type cannot hold,
/// a dropped [`Guard`](crate::Guard) whose exit fails, the cleanup of a
/// cancelled async scope. Nothing is dropped silently.
///
/// A plain `fn` (not a closure) keeps the hook callable during unwinding
/// without allocating; keep state in a `static` if you need it. The hook
/// must not panic (a panic there is caught and printed to standard error).
/// Needs the `std` feature; without it there is no hook and nowhere to report.
///
/// ```
/// use std::sync::Mutex;
/// static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
///
/// fn record(report: &managed::Report<'_>) {
///     // A hook must not panic (it may run while a panic unwinds): no `unwrap`.
///     if let Ok(mut seen) = SEEN.lock() {
///         seen.push(report.to_string());
///     }
/// }
/// let previous = managed::set_error_hook(record);
/// managed::report(managed::ReportKind::GuardDropped, &"flush failed");
/// managed::set_error_hook(previous);
/// assert!(SEEN.lock().unwrap()[0].contains("flush failed"));
/// ```
#[cfg(feature = "std")]
pub fn set_error_hook(hook: ErrorHook) -> ErrorHook {
    let mut slot = HOOK.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    core::mem::replace(&mut *slot, hook)
}

/// The hook in place when none was set: a line on standard error, or, with
/// the `tracing` feature, a `WARN` event (target `managed_core::hook`,
/// fields `kind` and `error`) when a subscriber takes it.
///
/// A report is never lost: with `tracing`, the line goes to standard error
/// whenever the event would not be recorded, that is, when no subscriber is
/// installed for the reporting thread (neither a global default nor a
/// `tracing::subscriber::with_default` on that thread: a report made on
/// another thread, such as a runtime's worker while it shuts down, does
/// not see a thread's default) or when the subscriber's filter does not
/// enable `WARN` events of that target. A report the subscriber records is
/// not printed besides. (`tracing`'s `log` compatibility is not used:
/// without a subscriber, the line goes to standard error.) To silence the
/// reports, set a hook with [`set_error_hook`].
///
/// ```
/// managed::default_error_hook(&managed::Report::new(managed::ReportKind::Cancelled, &"demo"));
/// ```
#[cfg(feature = "std")]
pub fn default_error_hook(report: &Report<'_>) {
    #[cfg(feature = "tracing")]
    if tracing::event_enabled!(tracing::Level::WARN, kind, error) {
        tracing::warn!(kind = ?report.kind(), error = ?report.error(), "{report}");
        return;
    }
    std::eprintln!("{report}");
}

/// Sends `error` to the error hook (see [`set_error_hook`]). A no-op without
/// the `std` feature.
///
/// ```
/// managed::report(managed::ReportKind::StackDropped, &std::io::Error::other("close failed"));
/// ```
pub fn report(kind: ReportKind, error: &dyn fmt::Debug) {
    #[cfg(feature = "std")]
    {
        let hook = *HOOK.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let r = Report::new(kind, error);
        // A panicking hook must not turn a reported failure into an abort
        // (we may be unwinding already).
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&r))).is_err() {
            std::eprintln!("{r} (and the error hook panicked)");
        }
    }
    #[cfg(not(feature = "std"))]
    let _ = (kind, error);
}

// The reports of the runtime: what the hook receives when a failure has no
// caller to go to.

/// What a cancelled struct reports when its async exit hook did not finish
/// in its one poll.
#[cfg(feature = "async")]
pub(crate) struct UnfinishedExitHook(pub(crate) &'static str);

#[cfg(feature = "async")]
impl fmt::Debug for UnfinishedExitHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the async exit hook of `{}` did not finish in place when the struct was cancelled and was dropped; \
             a hook that must clean up on cancellation checks `outcome.is_cancelled()` and does it without waiting",
            self.0
        )
    }
}

/// What a dropped [`Exits`](crate::managed_attr::fields::Exits) reports.
pub(crate) struct CarriedWhenCancelled<'a, T: fmt::Debug>(pub(crate) &'a T);

impl<T: fmt::Debug> fmt::Debug for CarriedWhenCancelled<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a `#[managed]` struct was cancelled mid-enter or mid-exit while carrying this failure: {:?}", self.0)
    }
}

/// Reported when the future of a close is dropped while an async exit is
/// being awaited: the exit already started, so it cannot be cancelled
/// cleanly; its future is dropped unfinished.
#[cfg(all(feature = "alloc", feature = "async"))]
pub(crate) struct StackExitInterrupted(pub(crate) &'static str);

#[cfg(all(feature = "alloc", feature = "async"))]
impl fmt::Debug for StackExitInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}::aclose` was cancelled while one of its async exits was running; that exit \
             was dropped unfinished",
            self.0
        )
    }
}

/// The block's failure a cut-short close was carrying (see
/// [`CloseState::abandon`](crate::exit_stack::close::CloseState::abandon)).
#[cfg(all(feature = "alloc", feature = "async"))]
pub(crate) struct GivenLost<'a>(pub(crate) crate::Outcome<'a>);

#[cfg(all(feature = "alloc", feature = "async"))]
impl fmt::Debug for GivenLost<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the stack's close was cancelled while carrying the block's failure: {:?}", self.0)
    }
}

/// Reported when the scope's future is dropped while an exit is being
/// awaited: the exit already started, so `exit_cancelled` cannot run; the
/// exit's future (and with it the manager) is dropped.
#[cfg(feature = "async")]
pub(crate) struct ScopeExitInterrupted(pub(crate) &'static str);

#[cfg(feature = "async")]
impl fmt::Debug for ScopeExitInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the scope was cancelled while the exit of `{}` was running; the exit was dropped unfinished", self.0)
    }
}

/// What a cancelled `#[managed] async fn` whose code after `yield_!` did not
/// finish in place reports.
#[cfg(all(feature = "alloc", feature = "async"))]
pub(crate) struct UnfinishedAfterYield(pub(crate) &'static str);

#[cfg(all(feature = "alloc", feature = "async"))]
impl fmt::Debug for UnfinishedAfterYield {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the code after `yield_!` of `#[managed] async fn {}` did not finish in place when cancelled and was \
             dropped; name a sync fallback with `#[managed(on_cancel = path)]` if it must wait",
            self.0
        )
    }
}
