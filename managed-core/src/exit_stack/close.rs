//! Closing a stack: the close loop's error logic as a state machine
//! ([`CloseState`]). The loop pops an entry, shows it `outcome()`, runs it,
//! and hands the result to `record()`; `finish()` resumes a panic or returns
//! [`Closed`] (whether the given error was suppressed, and the exit failures
//! in order). The sync loop drives it directly; the async loop drives the
//! same machine between `.await`s (catching panics of each exit future), so
//! every stack follows one rule for primary, suppressed, suppressing and
//! panicking exits. [`settle_run`] is `run`'s result, for every stack.

use alloc::vec::Vec;
use core::fmt;

use crate::scope::rules::Panicked;
use crate::{Error, Outcome, ReportKind};

/// Whose failure the outcome given to a close is: that decides who sends
/// it to the error hook when an exit's panic replaces it, or when an async
/// close is cut short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GivenBy {
    /// `run`'s body: only the stack can return it, so the stack reports it
    /// in both cases.
    Body,
    /// The caller of `close_with` / `aclose_with`: reported when a panic
    /// replaces it (the panic unwinds through a caller that learns nothing
    /// of its own error's fate); a close cut short leaves it with the
    /// caller.
    Caller,
    /// A construct exiting the stack as a manager (a scope, a `#[managed]`
    /// struct, another stack): it merges the stack's result as any exit's,
    /// and reports its own failure when the exit's panic replaces it, so the
    /// stack never does.
    Exit,
}

/// The close loop's error logic, shared by the sync and async stacks.
///
/// Rules (DESIGN section 3 and 5):
/// - every exit sees the primary failure so far: the outcome the stack was
///   closed with while it is a failure and not suppressed, else the first
///   exit failure since the last suppression, else `Ok`; a panic of an exit
///   is shown to all later exits;
/// - the first exit failure is primary, later ones are suppressed, in exit
///   order (kept as a list of siblings until the end, so a caller holding
///   its own primary error can attach them one by one);
/// - an exit returning `Ok(true)` suppresses the current *error* (the given
///   one and every exit failure so far), so later exits see `Ok`; a panic is
///   never suppressed;
/// - a panicking exit is caught; if nothing was panicking yet, its panic
///   becomes the outcome of the rest and resumes once all have run (the
///   errors it replaces go to the error hook, the given one unless its
///   owner reports it: [`GivenBy`]); otherwise it goes to the hook.
pub(crate) struct CloseState<'r, 'o> {
    given: &'r Outcome<'o>,
    given_by: GivenBy,
    /// The given outcome is a failure that no exit suppressed.
    given_active: bool,
    /// Some exit suppressed the given error.
    given_suppressed: bool,
    /// The exit failures since the last suppression, in exit order.
    failures: Vec<Error>,
    /// The first exit panic, when nothing was panicking before it.
    panic: Option<Panicked>,
}

/// The block's failure a cut-short close was carrying (see
/// [`CloseState::abandon`]).
#[cfg(feature = "async")]
struct GivenLost<'a>(Outcome<'a>);

#[cfg(feature = "async")]
impl fmt::Debug for GivenLost<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the stack's close was cancelled while carrying the block's failure: {:?}", self.0)
    }
}

/// What closing did, when no exit panic is left to resume.
pub(crate) struct Closed {
    /// The given outcome was an error and an exit suppressed it.
    pub(crate) given_suppressed: bool,
    /// Exit failures after the last suppression, in exit order.
    pub(crate) failures: Vec<Error>,
}

impl Closed {
    /// `close_with`'s result: the first failure with the rest attached.
    ///
    /// The common case, no failure, is inlined into the close and costs a
    /// length test; building the error is out of line, so a close without
    /// failures does not make and drop a `vec::IntoIter`.
    #[inline]
    pub(crate) fn into_result(self) -> Result<bool, Error> {
        if self.failures.is_empty() {
            return Ok(self.given_suppressed);
        }
        self.into_error()
    }

    /// [`into_result`](Self::into_result) when an exit failed.
    #[cold]
    #[inline(never)]
    fn into_error(self) -> Result<bool, Error> {
        let mut failures = self.failures.into_iter();
        match failures.next() {
            None => Ok(self.given_suppressed),
            Some(mut primary) => {
                for later in failures {
                    primary.push_suppressed(later);
                }
                Err(primary)
            }
        }
    }
}

impl<'r, 'o> CloseState<'r, 'o> {
    pub(crate) fn new(given: &'r Outcome<'o>, given_by: GivenBy) -> Self {
        CloseState {
            given,
            given_by,
            given_active: given.is_failure(),
            given_suppressed: false,
            failures: Vec::new(),
            panic: None,
        }
    }

    /// What the next exit sees.
    #[inline]
    pub(crate) fn outcome(&self) -> Outcome<'_> {
        if let Some(panic) = &self.panic {
            return panic.outcome();
        }
        if self.given_active {
            return *self.given;
        }
        match self.failures.first() {
            Some(error) => Outcome::err(error),
            None => Outcome::Ok,
        }
    }

    fn unwinding(&self) -> bool {
        self.panic.is_some() || self.given.is_panic()
    }

    /// Merges what one exit did.
    pub(crate) fn record(&mut self, ran: Result<Result<bool, Error>, Panicked>) {
        match ran {
            Ok(Ok(false)) => {}
            Ok(Ok(true)) => self.suppress(),
            Ok(Err(error)) if self.panic.is_some() => crate::report(ReportKind::FailedWhileUnwinding, &error),
            Ok(Err(error)) => self.failures.push(error),
            Err(panic) if self.unwinding() => crate::report(ReportKind::FailedWhileUnwinding, &panic),
            Err(panic) => {
                if self.given_active && self.given_by != GivenBy::Exit {
                    if let Outcome::Err(view) = self.given {
                        crate::report(ReportKind::ReplacedByPanic, &view.as_debug());
                    }
                }
                for replaced in self.failures.drain(..) {
                    crate::report(ReportKind::ReplacedByPanic, &replaced);
                }
                self.panic = Some(panic);
            }
        }
    }

    fn suppress(&mut self) {
        if !self.outcome().is_err() {
            // Nothing to suppress (`Ok`), or not an error (a panic or a
            // cancellation): `Ok(true)` has no effect.
            return;
        }
        if self.given_active {
            self.given_active = false;
            self.given_suppressed = true;
        }
        self.failures.clear();
    }

    /// Closing was cut short (an async close whose future was dropped):
    /// nothing will return what was recorded, so the exit failures and a
    /// caught panic go to the error hook instead of being lost. When the
    /// given failure is `run`'s body's ([`GivenBy::Body`], dropped with the
    /// close), it goes there too, unless an exit suppressed it or a panic
    /// replaced it (already reported).
    #[cfg(feature = "async")]
    pub(crate) fn abandon(self) {
        if self.given_by == GivenBy::Body && self.given_active && self.panic.is_none() {
            crate::report(ReportKind::Cancelled, &GivenLost(*self.given));
        }
        for error in &self.failures {
            crate::report(ReportKind::Cancelled, error);
        }
        if let Some(panic) = &self.panic {
            crate::report(ReportKind::Cancelled, panic);
        }
    }

    /// Once every exit ran: resumes an exit's panic, else says what
    /// happened.
    pub(crate) fn finish(self) -> Closed {
        if let Some(panic) = self.panic {
            panic.resume();
        }
        Closed { given_suppressed: self.given_suppressed, failures: self.failures }
    }
}

/// How `run`'s body ended, as its exits see it.
pub(crate) fn run_outcome<T, E>(body: &Result<Result<T, E>, Panicked>) -> Outcome<'_>
where
    E: fmt::Debug + Sync + 'static,
{
    match body {
        Ok(Ok(_)) => Outcome::Ok,
        Ok(Err(error)) => Outcome::err(error),
        Err(panic) => panic.outcome(),
    }
}

/// `run`'s result once the exits ran with [`run_outcome`] (shared by the
/// sync and async stacks): the value, `None` when an exit suppressed the
/// body's error, or the body's error with the exit failures attached (an
/// exit failure alone when the body succeeded or its error was suppressed);
/// a panic resumes after the exit failures went to the error hook.
pub(crate) fn settle_run<T, E>(body: Result<Result<T, E>, Panicked>, closed: Closed) -> Result<Option<T>, E>
where
    E: From<Error> + fmt::Debug + Sync + 'static,
{
    match body {
        Ok(Ok(value)) => match closed.into_result() {
            Ok(_) => Ok(Some(value)),
            Err(error) => Err(E::from(error)),
        },
        Ok(Err(mut error)) => {
            if closed.given_suppressed {
                // The body's error is gone; what failed after is all there is.
                return match closed.into_result() {
                    Ok(_) => Ok(None),
                    Err(later) => Err(E::from(later)),
                };
            }
            for later in closed.failures {
                crate::scope::rules::attach_or_report(&mut error, E::from(later));
            }
            Err(error)
        }
        Err(panic) => {
            for later in closed.failures {
                crate::report(ReportKind::FailedWhileUnwinding, &later);
            }
            panic.resume()
        }
    }
}
